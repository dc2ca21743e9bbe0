"""Reads of supervision: whose alerts, which clocks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Concat, RowNumber

from casecenter.accounts.models import (
    ALERTED_ROLES,
    PARTNER_ROLES,
    POLICE_ROLES,
    Organisation,
    Role,
    User,
)
from casecenter.audit.services import record
from casecenter.cases.access import SUPERVISING_ROLES
from casecenter.cases.models import Assignment
from casecenter.errors import NotFound
from casecenter.supervision import timers
from casecenter.supervision.models import (
    Alert,
    AlertAudience,
    AlertState,
    Deadline,
    DeadlineState,
    Rule,
    Severity,
)


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


def alert_viewers(
    alert: Alert, *, audience: QuerySet[AlertAudience] | None = None
) -> QuerySet[User]:
    """The users ``visible_alerts`` shows ``alert`` to, as one query: the same rule
    read from the alert's side (a test holds the two equal on generated worlds).

    The live push asks it once per alert for the users with an open stream,
    instead of asking ``visible_alerts`` once per user. ``audience`` narrows it
    to some of the alert's audience rows (an escalation's new rung): then only
    the people those rows tell, not the case's officers, who were told already."""
    rows = alert.audience.all() if audience is None else audience
    scope = [alert.organisation_id]
    if alert.organisation.parent_id is not None:
        scope.append(alert.organisation.parent_id)
    # a row without an organisation tells the role in the alert's scope; a row
    # with one tells the role there
    in_scope = Exists(rows.filter(role=OuterRef("role"), organisation__isnull=True))
    there = Exists(rows.filter(role=OuterRef("role"), organisation_id=OuterRef("organisation_id")))
    reaches = (Q(in_scope) & Q(organisation_id__in=scope)) | Q(there)
    if alert.case_id is not None and alert.case.secret:
        reaches = Q(pk__in=[])  # a secret case's alert goes to its own officers only
    if alert.case_id is not None and audience is None:
        works = Assignment.objects.filter(
            case_id=alert.case_id, user=OuterRef("pk"), ended_at__isnull=True
        )
        reaches |= Q(Exists(works))
    return User.objects.filter(reaches, role__in=ALERTED_ROLES)


#: the orders of an alert list; the first is the default
ALERT_SORTS = ("newest", "oldest", "severity", "rule")


def _severity_rank() -> Case:
    """Critical above warning above information (the "most severe first" order)."""
    return Case(
        When(severity=Severity.CRITICAL, then=Value(3)),
        When(severity=Severity.WARNING, then=Value(2)),
        default=Value(1),
        output_field=IntegerField(),
    )


def _filtered(
    user: User,
    *,
    state: str = "",
    rule: str = "",
    severity: str = "",
    case: str = "",
    organisation: int | None = None,
    subject: str = "",
) -> QuerySet[Alert]:
    """The user's alerts that pass the filters (unordered). A value naming
    something the user has no alert of simply matches nothing."""
    alerts = visible_alerts(user)
    if state == "active":
        alerts = alerts.exclude(state=AlertState.RESOLVED)
    elif state:
        alerts = alerts.filter(state=state)
    if rule:
        alerts = alerts.filter(rule_id=rule)
    if severity:
        alerts = alerts.filter(severity=severity)
    if case:
        alerts = alerts.filter(
            Q(case__number__icontains=case) | Q(deadline__reference__icontains=case)
        )
    if organisation:
        alerts = alerts.filter(organisation_id=organisation)
    if subject:
        alerts = alerts.filter(subject=subject)
    return alerts


def alert_list(user: User, *, sort: str = "newest", **filters: Any) -> QuerySet[Alert]:
    """The user's alerts, filtered (``_filtered``) and in the chosen order:
    newest first, oldest first, most severe first (then newest), or by rule
    (then newest)."""
    alerts = _filtered(user, **filters).select_related("rule", "case", "organisation")
    if sort == "oldest":
        return alerts.order_by("raised_at", "id")
    if sort == "severity":
        return alerts.alias(rank=_severity_rank()).order_by("-rank", "-raised_at", "-id")
    if sort == "rule":
        return alerts.order_by("rule_id", "-raised_at", "-id")
    return alerts.order_by("-raised_at", "-id")


def _group_key() -> Case:
    """What repeats are grouped by besides the rule: the alert's subject; an
    alert about no record ("") is a group of its own ("#<id>")."""
    return Case(
        When(subject="", then=Concat(Value("#"), Cast("id", CharField()))),
        default=F("subject"),
        output_field=CharField(),
    )


def alert_groups(user: User, *, sort: str = "newest", **filters: Any) -> QuerySet:
    """Repeats of one rule on one subject as one row each, counted in the
    database: ``rule_id``, ``group_subject``, ``count``, ``open_count``,
    ``last_id`` (the highest id in the group). Only the alerts passing the
    filters count. A group takes the place its first alert would have in the
    ungrouped list of the same order: newest first by its newest alert, oldest
    first by its oldest, most severe first by its most severe (then newest)."""
    mine = Alert.objects.filter(pk__in=_filtered(user, **filters).values("pk"))
    groups = (
        mine.annotate(group_subject=_group_key())
        .values("rule_id", "group_subject")
        .annotate(
            count=Count("id"),
            open_count=Count("id", filter=Q(state=AlertState.OPEN)),
            last_id=Max("id"),
            first_id=Min("id"),
            latest_at=Max("raised_at"),
            earliest_at=Min("raised_at"),
            top=Max(_severity_rank()),
        )
    )
    order = {
        "oldest": ("earliest_at", "first_id"),
        "severity": ("-top", "-latest_at", "-last_id"),
        "rule": ("rule_id", "-latest_at", "-last_id"),
    }.get(sort, ("-latest_at", "-last_id"))
    return groups.order_by(*order, "rule_id", "group_subject")


@dataclass(frozen=True)
class AlertGroup:
    """One row of a grouped list: the newest alert of the group and its counts."""

    alert: Alert
    count: int
    open_count: int
    #: the highest id counted: acknowledging the group covers no alert raised after
    last_id: int

    @property
    def token(self) -> str:
        """The group as a form names it: "<last id>|<rule>|<subject>"."""
        return f"{self.last_id}|{self.alert.rule_id}|{self.alert.subject}"


def group_rows(user: User, groups: Iterable[dict], **filters: Any) -> list[AlertGroup]:
    """The rows of a page of ``alert_groups``: each group's newest alert (among
    those passing the same filters), found in one query with a window function."""
    groups = list(groups)
    if not groups:
        return []
    which = Q(pk__in=[])
    for g in groups:
        if g["group_subject"].startswith("#"):
            which |= Q(pk=int(g["group_subject"][1:]))
        else:
            which |= Q(rule_id=g["rule_id"], subject=g["group_subject"])
    newest = Window(
        RowNumber(),
        partition_by=[F("rule_id"), F("group_subject")],
        order_by=[F("raised_at").desc(), F("id").desc()],
    )
    leaders = (
        Alert.objects.filter(pk__in=_filtered(user, **filters).values("pk"))
        .filter(which)
        .annotate(group_subject=_group_key(), rank=newest)
        .filter(rank=1)
        .select_related(
            "rule", "case", "organisation", "deadline", "acknowledged_by", "resolved_by"
        )
    )
    by_group = {(a.rule_id, a.group_subject): a for a in leaders}
    return [
        AlertGroup(
            by_group[g["rule_id"], g["group_subject"]], g["count"], g["open_count"], g["last_id"]
        )
        for g in groups
        if (g["rule_id"], g["group_subject"]) in by_group
    ]


def open_ids_of_groups(
    user: User, groups: Iterable[tuple[int, str, str]], *, limit: int, **filters: Any
) -> list[int]:
    """The open alerts of the named groups ((last id, rule, subject), as
    ``AlertGroup.token`` names them) among the user's alerts passing the
    filters, raised no later than the last one counted; at most ``limit``."""
    which = Q(pk__in=[])
    for last_id, rule, subject in groups:
        if subject:
            which |= Q(rule_id=rule, subject=subject, pk__lte=last_id)
        else:
            which |= Q(rule_id=rule, subject="", pk=last_id)
    rows = _filtered(user, **filters).filter(which, state=AlertState.OPEN)
    return list(rows.order_by("pk").values_list("pk", flat=True)[:limit])


def alert_filter_choices(user: User) -> tuple[QuerySet[Rule], QuerySet[Organisation]]:
    """The rules and the organisations the user's alerts are filed under (what
    the list's filters offer)."""
    mine = visible_alerts(user)
    return (
        Rule.objects.filter(code__in=mine.values("rule_id")),
        Organisation.objects.filter(pk__in=mine.values("organisation_id")).order_by("code"),
    )


def alerts_about(user: User, subject: str, *, limit: int = 50) -> list[Alert]:
    """The user's alerts about one record ("stay:12"), newest first."""
    rows = visible_alerts(user).filter(subject=subject).select_related("rule")
    return list(rows.order_by("-raised_at", "-id")[:limit])


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
        if user.role == Role.CASE_MANAGEMENT:  # as ``cases.access.is_supervising``
            mine |= Q(case__organisation_id=user.organisation_id, case__secret=False)
        elif user.role in SUPERVISING_ROLES:
            mine |= _scope(user, "case__") & Q(case__secret=False)
        if user.role in SUPERVISING_ROLES:
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


def audit_review(user: User, shown: Iterable[Deadline], *, via: str) -> list[Deadline]:
    """One audit entry for one read of the deadline review (F6.3): the clocks shown
    (ids), the cases and the people they name. One entry per page read, not one per
    row: the log tells who saw which clocks without growing with the list's length.
    Returns the clocks shown, as a list."""
    rows = list(shown)
    with transaction.atomic():
        record(
            user,
            "supervision.deadlines_read",
            None,
            reason=via,
            data={
                "deadlines": [d.pk for d in rows],
                "cases": sorted({d.case_id for d in rows if d.case_id}),
                "people": sorted({d.party.person_id for d in rows if d.party_id}),
            },
        )
    return rows


def get_deadline(user: User, pk: int) -> Deadline:
    """A clock of a case the user works or supervises; any other is "not found"."""
    deadline = deadline_review(user, state="").filter(pk=pk).first()
    if deadline is None:
        raise NotFound("deadline.not_found", "期限不存在。", "No such deadline.")
    return deadline
