"""Reads of supervision: whose alerts, which clocks."""

from __future__ import annotations

from django.db.models import Case, Q, QuerySet, Value, When

from casecenter.accounts.models import PARTNER_ROLES, POLICE_ROLES, User
from casecenter.cases.access import SUPERVISING_ROLES
from casecenter.errors import NotFound
from casecenter.supervision import timers
from casecenter.supervision.models import Alert, AlertState, Deadline, DeadlineState


def _scope(user: User, prefix: str) -> Q:
    return Q(**{f"{prefix}organisation_id": user.organisation_id}) | Q(
        **{f"{prefix}organisation__parent_id": user.organisation_id}
    )


def _assigned(user: User, prefix: str) -> Q:
    return Q(**{f"{prefix}assignments__user": user, f"{prefix}assignments__ended_at__isnull": True})


def visible_alerts(user: User) -> QuerySet[Alert]:
    """Alerts of the cases the user works, and those addressed to the user's role
    in their organisation's scope (the audience and the escalation ladder)."""
    if not user.is_authenticated or not user.receives_alerts:
        return Alert.objects.none()
    in_scope = Q(organisation_id=user.organisation_id) | Q(
        organisation__parent_id=user.organisation_id
    )
    # one audience row names the role and where it is told: the alert's scope, or
    # the organisation the row names (one filter() call: the same joined row)
    to_role = Q(audience__role=user.role) & (
        (Q(audience__organisation__isnull=True) & in_scope)
        | Q(audience__organisation_id=user.organisation_id)
    )
    not_secret = Q(case__isnull=True) | Q(case__secret=False)
    return Alert.objects.filter(_assigned(user, "case__") | (to_role & not_secret)).distinct()


def alert_list(user: User, *, state: str = "") -> QuerySet[Alert]:
    alerts = visible_alerts(user).select_related("rule", "case")
    if state == "active":
        alerts = alerts.exclude(state=AlertState.RESOLVED)
    elif state:
        alerts = alerts.filter(state=state)
    return alerts.order_by("-raised_at", "-id")


def open_alert_count(user: User) -> int:
    return visible_alerts(user).filter(state=AlertState.OPEN).count()


def deadline_review(
    user: User,
    *,
    officer: int | None = None,
    rule: str = "",
    case: str = "",
    state: str = DeadlineState.RUNNING,
) -> QuerySet[Deadline]:
    """Every clock the user supervises or works, most urgent first (F6.3): the
    police's clocks of their cases; a partner organisation's people (procuratorate,
    court, legal aid, detention centre) the clocks of their organisation's own
    records, which have no police case."""
    if not user.is_authenticated or not user.organisation_id:
        return Deadline.objects.none()
    if user.role in PARTNER_ROLES:
        mine = Q(case__isnull=True, organisation_id=user.organisation_id)
    elif user.role in POLICE_ROLES:
        mine = _assigned(user, "case__")
        if user.role in SUPERVISING_ROLES:
            mine |= _scope(user, "case__") & Q(case__secret=False)
            mine |= Q(case__isnull=True) & _scope(user, "")
    else:
        return Deadline.objects.none()
    rows = (
        Deadline.objects.filter(mine)
        .exclude(rule_id__in=timers.codes())  # a live rule's timer is not a clock
        .distinct()
        .select_related("rule", "case", "party__person", "measure")
    )
    if state:
        rows = rows.filter(state=state)
    if officer:
        rows = rows.filter(
            case__assignments__user_id=officer, case__assignments__ended_at__isnull=True
        )
    if rule:
        rows = rows.filter(rule_id=rule)
    if case:
        rows = rows.filter(Q(case__number__icontains=case) | Q(reference__icontains=case))
    return rows.order_by("due_at", "id")


def case_deadlines(case) -> QuerySet[Deadline]:
    """A case's clocks (the caller has already checked need-to-know): its legal and
    policy periods, not the timers of the custody area's live rules."""
    return (
        case.deadlines.exclude(rule_id__in=timers.codes())
        .select_related("rule", "party__person", "measure")
        .order_by("state", "due_at")
    )


def alert_inbox(user: User, *, state: str = "") -> QuerySet[Alert]:
    """The notifications page: open alerts first, then acknowledged, then resolved;
    newest first within each."""
    order = Case(
        When(state=AlertState.OPEN, then=Value(0)),
        When(state=AlertState.ACKNOWLEDGED, then=Value(1)),
        default=Value(2),
    )
    return (
        alert_list(user, state=state)
        .annotate(inbox_order=order)
        .order_by("inbox_order", "-raised_at", "-id")
    )


def get_alert(user: User, pk: int) -> Alert:
    """An alert addressed to the user; any other is "not found" (no enumeration)."""
    alert = alert_list(user).select_related("deadline", "case").filter(pk=pk).first()
    if alert is None:
        raise NotFound("alert.not_found", "提醒不存在。", "No such alert.")
    return alert


def open_clocks(
    user: User, *, officer: int | None = None, rule: str = "", case: str = ""
) -> QuerySet[Deadline]:
    """The review (F6.3): clocks still open — breached and not yet done on top,
    then the running ones by due time."""
    rows = deadline_review(user, officer=officer, rule=rule, case=case, state="").filter(
        state__in=[DeadlineState.RUNNING, DeadlineState.BREACHED], closed_at__isnull=True
    )
    urgency = Case(When(state=DeadlineState.BREACHED, then=Value(0)), default=Value(1))
    return rows.annotate(urgency=urgency).order_by("urgency", "due_at", "id")


def get_deadline(user: User, pk: int) -> Deadline:
    """A clock of a case the user works or supervises; any other is "not found"."""
    deadline = deadline_review(user, state="").filter(pk=pk).first()
    if deadline is None:
        raise NotFound("deadline.not_found", "期限不存在。", "No such deadline.")
    return deadline
