"""Reads of supervision: whose alerts, which clocks."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from casecenter.accounts.models import POLICE_ROLES, User
from casecenter.cases.access import SUPERVISING_ROLES
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
    if not user.is_authenticated or user.role not in POLICE_ROLES:
        return Alert.objects.none()
    to_role = (
        Q(organisation_id=user.organisation_id) | Q(organisation__parent_id=user.organisation_id)
    ) & Q(audience__role=user.role)
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
    """Every clock the user supervises or works, most urgent first (F6.3)."""
    if user.role not in POLICE_ROLES:
        return Deadline.objects.none()
    mine = _assigned(user, "case__")
    if user.role in SUPERVISING_ROLES:
        mine |= _scope(user, "case__") & Q(case__secret=False)
    rows = (
        Deadline.objects.filter(mine)
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
        rows = rows.filter(case__number__icontains=case)
    return rows.order_by("due_at", "id")


def case_deadlines(case) -> QuerySet[Deadline]:
    """A case's clocks (the caller has already checked need-to-know)."""
    return case.deadlines.select_related("rule", "party__person", "measure").order_by(
        "state", "due_at"
    )
