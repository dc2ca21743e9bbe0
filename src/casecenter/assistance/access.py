"""Who may ask, answer, see and steer a request for help (need-to-know, F9.1).

- **ask**: an officer assigned to the case as its lead or assisting officer,
  while the case is open;
- **answer**: a member of the unit asked (a user whose ``unit`` is that unit);
- **see**: the asker and the case's assigned officers; the unit's members
  (the case's number, title and category and the question — never the case's
  people); the commander of the unit's organisation, every request to its
  units. A secret (涉密) case's requests are seen only by the people assigned
  to the case and the unit's members;
- **follow up, close, withdraw**: the asker; **raise the level**: the asker or
  the commander.

Anyone else is told the request does not exist (404), as for a case.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from casecenter.accounts.models import POLICE_ROLES, Role, Unit, User
from casecenter.assistance.models import HELPING_UNITS, AssistanceRequest
from casecenter.cases.models import Assignment, AssignmentRole, Case, CaseState

#: states of a case in which nobody asks for help any more
FINISHED_CASE_STATES = frozenset({CaseState.CLOSED, CaseState.NOT_FILED})
ASKING_ASSIGNMENTS = (AssignmentRole.LEAD, AssignmentRole.ASSISTING)


def _police(user: User) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.role in POLICE_ROLES
        and user.organisation_id
    )


def may_ask(user: User, case: Case) -> bool:
    """The case's lead or assisting officer (the case's state is the service's check)."""
    return _police(user) and (
        Assignment.objects.filter(
            case=case, user=user, ended_at__isnull=True, role__in=ASKING_ASSIGNMENTS
        ).exists()
    )


def units_in_reach(case: Case) -> QuerySet[Unit]:
    """The helping units a case's officer may ask: of the case's organisation, of
    its parent (the branch: its legal-affairs unit) and of the parent's other
    organisations (the case-handling center where the specialised units sit) —
    only units with someone in them to answer."""
    org = case.organisation
    where = Q(organisation_id=org.pk)
    if org.parent_id:
        where |= Q(organisation_id=org.parent_id) | Q(organisation__parent_id=org.parent_id)
    staffed = Exists(User.objects.filter(unit=OuterRef("pk"), is_active=True))
    return (
        Unit.objects.filter(where, kind__in=HELPING_UNITS)
        .filter(staffed)
        .select_related("organisation")
        .order_by("organisation__code", "kind", "name", "pk")
    )


def is_member(user: User, request: AssistanceRequest) -> bool:
    """A member of the unit asked: they see the request and answer it."""
    return _police(user) and user.unit_id == request.unit_id


def is_commander(user: User, request: AssistanceRequest) -> bool:
    """The commander of the organisation the unit belongs to (the center's)."""
    return _police(user) and (
        user.role == Role.COMMANDER and user.organisation_id == request.organisation_id
    )


def _assigned(user: User) -> Exists:
    return Exists(
        Assignment.objects.filter(case_id=OuterRef("case_id"), user=user, ended_at__isnull=True)
    )


def visible_requests(user: User) -> QuerySet[AssistanceRequest]:
    """The requests ``user`` may know exist (see the module's docstring)."""
    if not _police(user):
        return AssistanceRequest.objects.none()
    seen = Q(_assigned(user))
    if user.unit_id:
        seen |= Q(unit_id=user.unit_id)
    not_secret = Q(asker=user)
    if user.role == Role.COMMANDER:
        not_secret |= Q(organisation_id=user.organisation_id)
    seen |= Q(case__secret=False) & not_secret
    return AssistanceRequest.objects.filter(seen)


def basis(user: User, request: AssistanceRequest) -> str | None:
    """Why ``user`` may see ``request`` (kept in the audit entry of each read)."""
    if not _police(user):
        return None
    if user.unit_id == request.unit_id:
        return "unit"
    if Assignment.objects.filter(case=request.case_id, user=user, ended_at__isnull=True).exists():
        return "assigned"
    if request.case.secret:
        return None
    if user.pk == request.asker_id:
        return "asker"
    if is_commander(user, request):
        return "commander"
    return None


def may_see(user: User, request: AssistanceRequest) -> bool:
    return basis(user, request) is not None


def is_asker(user: User, request: AssistanceRequest) -> bool:
    """The officer who asked, while they may still see it (a secret case's asker
    taken off the case no longer does)."""
    return user.pk == request.asker_id and may_see(user, request)


def may_escalate(user: User, request: AssistanceRequest) -> bool:
    return is_asker(user, request) or (is_commander(user, request) and may_see(user, request))
