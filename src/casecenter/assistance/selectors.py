"""Reads of requests for help: the inbox, the commander's board, one request with
its timeline (audited), the case page's list, the levels' targets.

Lists hold the case's number, title and category, the unit, the topic, the
level and the clock — no question text and nobody's name but the officers',
so they are not audited per row; reading one request (its question and
answers) goes through :func:`read_request`, which is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Case as DbCase
from django.db.models import Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from casecenter import law
from casecenter.accounts.models import Role, Unit, User
from casecenter.assistance import access
from casecenter.assistance.models import (
    HELPING_UNITS,
    AssistanceEvent,
    AssistanceRequest,
    Level,
    State,
    rule_for,
)
from casecenter.audit.services import record
from casecenter.cases import access as case_access
from casecenter.cases import selectors as cases
from casecenter.cases.models import Assignment, Case
from casecenter.errors import NotFound, PermissionDenied
from casecenter.supervision import services as clocks
from casecenter.supervision.models import Deadline, Rule


def _not_found() -> NotFound:
    return NotFound("assistance.not_found", "求助不存在。", "No such request for help.")


# --- lists -------------------------------------------------------------------------------


def _rows(queryset: QuerySet[AssistanceRequest]) -> QuerySet[AssistanceRequest]:
    """Waiting first, the least time left on top; then answered (newest first);
    then the finished ones, newest first."""
    order = DbCase(
        When(state=State.OPEN, then=Value(0)),
        When(state=State.ANSWERED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        queryset.select_related("case", "unit", "organisation", "asker", "answered_by")
        .annotate(inbox_order=order)
        .order_by(
            "inbox_order",
            F("due_at").asc(nulls_last=True),
            "-last_step_at",
            "-id",
        )
    )


STATE_FILTERS = ("", "waiting", *State.values)


def _filtered(rows: QuerySet[AssistanceRequest], state: str) -> QuerySet[AssistanceRequest]:
    if state == "waiting":
        return rows.filter(state=State.OPEN)
    if state in State.values:
        return rows.filter(state=state)
    return rows


def unit_inbox(user: User, *, state: str = "") -> QuerySet[AssistanceRequest]:
    """The requests to the user's unit (a helping unit's member)."""
    if not is_helper(user):
        return AssistanceRequest.objects.none()
    return _rows(_filtered(access.visible_requests(user).filter(unit_id=user.unit_id), state))


def my_requests(user: User, *, state: str = "") -> QuerySet[AssistanceRequest]:
    """The requests the user asked or that concern the cases they are assigned to."""
    assigned = Exists(
        Assignment.objects.filter(case_id=OuterRef("case_id"), user=user, ended_at__isnull=True)
    )
    rows = access.visible_requests(user).filter(Q(asker=user) | Q(assigned))
    return _rows(_filtered(rows, state))


def is_helper(user: User) -> bool:
    """A member of a unit that answers requests for help."""
    return bool(
        user.is_authenticated
        and user.unit_id
        and Unit.objects.filter(pk=user.unit_id, kind__in=HELPING_UNITS).exists()
    )


def is_board_user(user: User) -> bool:
    return bool(user.is_authenticated and user.role == Role.COMMANDER and user.organisation_id)


@dataclass(frozen=True)
class Board:
    """The commander's board: the center's waiting requests by level, and how the
    units kept their targets over the last 30 days."""

    by_level: list[tuple[int, str, list[AssistanceRequest]]]
    waiting: int
    overdue: int
    answered: int
    on_time: int
    now: datetime

    @property
    def on_time_share(self) -> int | None:
        return round(100 * self.on_time / self.answered) if self.answered else None


def board(user: User, *, now: datetime | None = None) -> Board:
    if not is_board_user(user):
        raise PermissionDenied(
            "assistance.board_role",
            "只有指挥中心指挥员可以查看响应看板。",
            "Only the center's commander sees the response board.",
        )
    now = now or timezone.now()
    waiting = list(
        _rows(
            access.visible_requests(user).filter(
                organisation_id=user.organisation_id, state=State.OPEN
            )
        )
    )
    answers = AssistanceEvent.objects.filter(
        request__organisation_id=user.organisation_id,
        request__case__secret=False,
        kind=AssistanceEvent.Kind.ANSWERED,
        at__gte=now - timedelta(days=30),
    )
    answered = answers.count()
    on_time = (
        answers.filter(due_at__isnull=False, at__lt=F("due_at")).count()
        + answers.filter(due_at__isnull=True).count()
    )
    return Board(
        by_level=[
            (level, str(label), [r for r in waiting if r.level == level])
            for level, label in Level.choices
        ],
        waiting=len(waiting),
        overdue=sum(1 for r in waiting if r.due_at and r.due_at <= now),
        answered=answered,
        on_time=on_time,
        now=now,
    )


def case_requests(user: User, case: Case) -> list[AssistanceRequest]:
    """The case's requests the user may see (the case page's card)."""
    return list(_rows(access.visible_requests(user).filter(case=case)))


# --- one request --------------------------------------------------------------------------


@dataclass
class RequestView:
    """One request as its viewer sees it, with what the viewer may do next."""

    request: AssistanceRequest
    basis: str
    events: list[AssistanceEvent]
    deadlines: list[Deadline]
    #: whether the viewer may open the case itself (a unit member of the center may not)
    case_visible: bool
    may_answer: bool
    may_follow_up: bool
    may_close: bool
    may_withdraw: bool
    may_escalate: bool
    #: the more urgent levels the viewer may raise it to
    higher_levels: list[int]


def get_request(user: User, pk: int) -> AssistanceRequest:
    """A request the user may see, for a step they take on it (the step audits
    itself, so this read does not); NotFound otherwise."""
    request = (
        access.visible_requests(user)
        .select_related("case", "unit__organisation", "organisation", "asker")
        .filter(pk=pk)
        .first()
    )
    if request is None:
        raise _not_found()
    return request


def read_request(user: User, pk: int) -> RequestView:
    """The request with its question, answers and clocks; the read is audited
    with its basis (asker, assigned, unit, commander)."""
    request = get_request(user, pk)
    basis = access.basis(user, request)
    if basis is None:  # the list's filter and the basis disagree: treat as unknown
        raise _not_found()
    events = list(request.events.select_related("actor"))
    deadlines = list(
        Deadline.objects.filter(case=request.case_id, subject=f"assistance:{request.pk}")
        .select_related("rule")
        .order_by("trigger_at", "id")
    )
    with transaction.atomic():
        record(
            user,
            "assistance.read",
            request,
            data={"case_id": request.case_id, "basis": basis, "number": request.number},
        )
    waiting = request.state == State.OPEN
    asker = access.is_asker(user, request)
    escalate = waiting and request.level > 1 and access.may_escalate(user, request)
    return RequestView(
        request=request,
        basis=basis,
        events=events,
        deadlines=deadlines,
        case_visible=case_access.visible_cases(user).filter(pk=request.case_id).exists(),
        may_answer=waiting and access.is_member(user, request),
        may_follow_up=asker and request.state == State.ANSWERED,
        may_close=asker and request.state == State.ANSWERED,
        may_withdraw=asker and waiting,
        may_escalate=escalate,
        higher_levels=[lv for lv in Level.values if lv < request.level] if escalate else [],
    )


# --- asking -------------------------------------------------------------------------------


def case_to_ask_about(user: User, pk: int) -> Case:
    """A case the user may ask help for: NotFound for a case they may not know,
    PermissionDenied for one they know but are not its lead or assisting officer.
    Not audited: it leads to a write, which audits itself."""
    case = cases.get_case(user, pk)
    if not access.may_ask(user, case):
        raise PermissionDenied(
            "assistance.not_assigned",
            "只有本案的主办或协办民警可以发起求助。",
            "Only the case's lead or assisting officers ask for help.",
        )
    return case


def cases_to_ask_about(user: User) -> QuerySet[Case]:
    """The open cases the user works as lead or assisting officer (the form's
    "choose a case" list: numbers and titles only)."""
    asking = Exists(
        Assignment.objects.filter(
            case_id=OuterRef("pk"),
            user=user,
            ended_at__isnull=True,
            role__in=access.ASKING_ASSIGNMENTS,
        )
    )
    return (
        case_access.visible_cases(user)
        .filter(asking)
        .exclude(state__in=access.FINISHED_CASE_STATES)
        .order_by("-accepted_at", "-id")[:200]
    )


def level_targets() -> list[tuple[int, str, law.Period | None]]:
    """Each level with its label and its response target (the rule's tuned policy
    period, or the default of ``law.RULES``; None when the rule is switched off)."""
    rules = {r.code: r for r in Rule.objects.filter(code__in=[rule_for(lv) for lv in Level.values])}
    targets = []
    for level, label in Level.choices:
        code = rule_for(level)
        rule = rules.get(code)
        period = None
        if rule is None or rule.enabled:
            period = (clocks.tuned_period(rule) if rule else None) or law.rule(code).period()
        targets.append((level, str(label), period))
    return targets
