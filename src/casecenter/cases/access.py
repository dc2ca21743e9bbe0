"""Need-to-know: who may see a case, and who may read its personal data (F9.1).

An officer sees the *existence* of the cases of their own organisation (and of
the stations below it, for a branch-level unit). They read a case's personal
data only when assigned to it, when their role supervises it (the station's
case-management group; the legal-affairs unit of the station or its branch),
or through a recorded break-glass grant. A secret (涉密) case is invisible to
everyone not assigned to it. Other organisations see nothing: data crosses
between organisations only as an explicit hand-over (a later module).
"""

from __future__ import annotations

from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from casecenter.accounts.models import POLICE_ROLES, Role, User
from casecenter.cases.models import AccessGrant, Assignment, AssignmentRole, Case

SUPERVISING_ROLES = frozenset({Role.CASE_MANAGEMENT, Role.LEGAL_AFFAIRS})


def _scope(user: User) -> Q:
    """Cases of the user's organisation or of its child organisations."""
    return Q(organisation_id=user.organisation_id) | Q(organisation__parent_id=user.organisation_id)


def visible_cases(user: User) -> QuerySet[Case]:
    if not user.is_authenticated or user.role not in POLICE_ROLES or not user.organisation_id:
        return Case.objects.none()
    assigned = Q(assignments__user=user, assignments__ended_at__isnull=True)
    return Case.objects.filter(_scope(user) & (Q(secret=False) | assigned)).distinct()


def may_see(user: User, case: Case, *, assigned: bool) -> bool:
    """Whether ``user`` may know ``case`` exists: the per-case twin of
    :func:`visible_cases` (``assigned``: whether the user is assigned to it)."""
    if not user.is_authenticated or user.role not in POLICE_ROLES or not user.organisation_id:
        return False
    org = case.organisation
    if user.organisation_id not in (org.pk, org.parent_id):
        return False
    return not case.secret or assigned


def assigned_to(user: User) -> RawSQL:
    """Whether ``user`` is assigned to the case of the outer query (an annotation).

    The ``Exists`` of :func:`is_assigned` written as SQL: Django takes longer to
    build that subquery than the database takes to answer it.
    """
    case, assignment = Case._meta.db_table, Assignment._meta.db_table
    sql = (
        f"EXISTS (SELECT 1 FROM {assignment} a WHERE a.case_id = {case}.id "  # noqa: S608
        "AND a.user_id = %s AND a.ended_at IS NULL)"
    )
    return RawSQL(sql, (user.pk,), output_field=BooleanField())  # noqa: S611 - a parameter


def is_assigned(user: User, case: Case) -> bool:
    return Assignment.objects.filter(case=case, user=user, ended_at__isnull=True).exists()


def is_supervising(user: User, case: Case) -> bool:
    if user.role not in SUPERVISING_ROLES or case.secret:
        return False
    org = case.organisation
    if user.role == Role.CASE_MANAGEMENT:
        return org.pk == user.organisation_id
    return user.organisation_id in (org.pk, org.parent_id)


def has_grant(user: User, case: Case) -> bool:
    return AccessGrant.objects.filter(case=case, user=user, expires_at__gt=timezone.now()).exists()


def may_read_personal(user: User, case: Case) -> bool:
    return is_assigned(user, case) or is_supervising(user, case) or has_grant(user, case)


def access_basis(user: User, case: Case, *, assigned: bool | None = None) -> str | None:
    """Why ``user`` may read ``case``'s personal data, for the audit entry
    (``assigned``: whether the user is assigned, when the caller has just read it)."""
    if is_assigned(user, case) if assigned is None else assigned:
        return "assigned"
    if is_supervising(user, case):
        return "supervision"
    if has_grant(user, case):
        return "break_glass"
    return None


def is_lead(user: User, case: Case) -> bool:
    return Assignment.objects.filter(
        case=case, user=user, role=AssignmentRole.LEAD, ended_at__isnull=True
    ).exists()


def may_assign(user: User, case: Case, role: str | None = None) -> bool:
    """The lead adds assisting officers and supervisors; the case-management
    group of the station assigns anyone, a new lead included."""
    if user.role == Role.CASE_MANAGEMENT and is_supervising(user, case):
        return True
    return role != AssignmentRole.LEAD and is_lead(user, case)


def readable_cases(user: User) -> QuerySet[Case]:
    """The cases whose personal data ``user`` reads without a grant: the
    queryset twin of :func:`may_read_personal` (break-glass grants are per case
    and stay out of lists)."""
    assigned = Q(assignments__user=user, assignments__ended_at__isnull=True)
    if user.role == Role.CASE_MANAGEMENT:
        cond = assigned | Q(organisation_id=user.organisation_id, secret=False)
    elif user.role == Role.LEGAL_AFFAIRS:
        cond = assigned | (_scope(user) & Q(secret=False))
    else:
        cond = assigned
    return visible_cases(user).filter(cond).distinct()
