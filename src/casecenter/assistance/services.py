"""Every write of the three-level response: ask, answer, follow up, raise the level,
close, withdraw — one transaction each, with its timeline step, its audit entry,
its outbox event and its clock.

The clock of a request is the policy rule of its level (``response.level1`` 1 h,
``response.level2`` 4 h, ``response.level3`` 24 h), kept on the case
(``case``) but owned by the unit's organisation (``organisation``), so its
alerts go to that organisation's specialists and legal-affairs officers and
escalate to its commander; ``subject`` is ``assistance:<id>`` and the
``reference`` the request's number. Asked or followed up, a clock starts;
answered, it is met (a late answer leaves it breached); raised to a more
urgent level, the running clock is cancelled and the new level's runs from the
moment of the raise; withdrawn, it is cancelled.

Nothing here writes to the cases app's tables: the case's own timeline knows
nothing of these requests; their history is the request's ``AssistanceEvent``
rows and the audit log.

A moment a user states (``at``) is checked like every other
(``casecenter.moments.past_moment``) and may not come before the request's
previous step; without one, a step happens now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from casecenter.accounts.models import Unit, User
from casecenter.accounts.services import next_serial
from casecenter.assistance import access
from casecenter.assistance.models import (
    AssistanceEvent,
    AssistanceRequest,
    Channel,
    Level,
    State,
    Topic,
    rule_for,
)
from casecenter.audit.services import record
from casecenter.cases.models import Case
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.moments import past_moment
from casecenter.outbox.services import emit
from casecenter.supervision import services as clocks

MAX_TEXT = 4000
MAX_REASON = 1000
Kind = AssistanceEvent.Kind


# --- checks ---------------------------------------------------------------------------


def _text(value: Any, *, limit: int, code: str, zh: str, en: str, required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if "\x00" in text:
        raise InvalidInput(
            f"{code}_invalid", f"{zh}含有非法字符。", f"The {en} has a NUL character."
        )
    if required and not text:
        raise InvalidInput(code, f"请填写{zh}。", f"The {en} is required.")
    if len(text) > limit:
        raise InvalidInput(
            f"{code}_long", f"{zh}不能超过{limit}字。", f"The {en} is at most {limit} characters."
        )
    return text


def _level(value: Any) -> int:
    if isinstance(value, bool) or value not in Level.values:
        raise InvalidInput(
            "assistance.level", "响应级别须为一、二或三级。", "The level is 1, 2 or 3."
        )
    return int(value)


def _fmt(at: datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def _moment(at: datetime | None, after: datetime | None) -> datetime:
    """A stated moment (or now), not before ``after`` (the previous step)."""
    if at is None and after is not None:
        return max(timezone.now(), after)
    when = past_moment(at, code="assistance", what_zh="时间", what_en="time")
    if after is not None and when < after:
        raise InvalidInput(
            "assistance.before_last_step",
            f"时间不能早于上一步（{_fmt(after)}）。",
            f"The time cannot be before the previous step ({_fmt(after)}).",
        )
    return when


def _locked(request: AssistanceRequest) -> AssistanceRequest:
    return (
        AssistanceRequest.objects.select_for_update(of=("self",))
        .select_related("case", "unit__organisation", "organisation")
        .get(pk=request.pk)
    )


def _require(allowed: bool, code: str, zh: str, en: str) -> None:
    if not allowed:
        raise PermissionDenied(code, zh, en)


def _expect_state(request: AssistanceRequest, state: str, code: str, zh: str, en: str) -> None:
    if request.state != state:
        raise Conflict(code, zh, en, state=request.state)


def _subject(request: AssistanceRequest) -> str:
    return f"assistance:{request.pk}"


# --- the clock -------------------------------------------------------------------------


def _start_clock(actor: User, request: AssistanceRequest, at: datetime) -> datetime | None:
    """The response clock of the request's level, from ``at``; its due moment."""
    deadline = clocks.open_deadline(
        actor,
        rule_for(request.level),
        request.case,
        trigger_at=at,
        organisation=request.organisation,
        subject=_subject(request),
        reference=request.number,
    )
    return deadline.due_at if deadline else None


def _step(
    actor: User, request: AssistanceRequest, kind: str, at: datetime, **fields: Any
) -> AssistanceEvent:
    request.last_step_at = at
    return AssistanceEvent.objects.create(
        request=request,
        kind=kind,
        actor=actor,
        at=at,
        level=request.level,
        round=request.round,
        **fields,
    )


def _audit(actor: User, request: AssistanceRequest, action: str, reason: str = "", **data) -> None:
    record(
        actor,
        f"assistance.{action}",
        request,
        reason=reason,
        data={"case_id": request.case_id, "number": request.number, "level": request.level, **data},
    )
    emit(
        f"assistance.{action}",
        request_id=request.pk,
        case_id=request.case_id,
        unit_id=request.unit_id,
        organisation_id=request.organisation_id,
        level=request.level,
        state=request.state,
    )


# --- ask --------------------------------------------------------------------------------


@transaction.atomic
def ask_for_help(
    actor: User,
    case: Case,
    *,
    unit: Unit,
    level: int,
    topic: str,
    question: str,
    at: datetime | None = None,
) -> AssistanceRequest:
    """The case's lead or assisting officer asks ``unit`` for help at ``level``;
    the level's response clock starts."""
    _require(
        access.may_ask(actor, case),
        "assistance.not_assigned",
        "只有本案的主办或协办民警可以发起求助。",
        "Only the case's lead or assisting officers ask for help.",
    )
    if case.state in access.FINISHED_CASE_STATES:
        raise Conflict(
            "assistance.case_finished",
            "案件已结束，不能再发起求助。",
            "The case is finished; no more requests for help.",
            state=case.state,
        )
    level = _level(level)
    if topic not in Topic.values:
        raise InvalidInput("assistance.topic", "请选择求助事项。", "Choose what help is needed.")
    question = _text(
        question, limit=MAX_TEXT, code="assistance.question", zh="求助内容", en="question"
    )
    if not isinstance(unit, Unit) or not access.units_in_reach(case).filter(pk=unit.pk).exists():
        raise InvalidInput(
            "assistance.unit_out_of_reach",
            "该单位不在本案可求助的范围内（本所、上级分局及其执法办案管理中心的专业警种和法制部门）。",
            "This unit is not one the case may ask: the specialised units and legal affairs of "
            "the case's organisation, its branch and the branch's case-handling center, "
            "with someone in them.",
        )
    at = _moment(at, None)
    organisation = unit.organisation
    year = timezone.localtime(at).year
    serial = next_serial(organisation.pk, "assistance", year)
    request = AssistanceRequest.objects.create(
        organisation=organisation,
        number=f"{organisation.code.upper()}-XZ-{year}-{serial:05d}",
        year=year,
        serial=serial,
        case=case,
        unit=unit,
        asker=actor,
        level=level,
        topic=topic,
        question=question,
        asked_at=at,
        clock_from=at,
        last_step_at=at,
    )
    request.due_at = _start_clock(actor, request, at)
    request.save(update_fields=["due_at"])
    _step(actor, request, Kind.ASKED, at, text=question, due_at=request.due_at)
    _audit(actor, request, "requested", unit=unit.pk, topic=topic)
    return request


# --- answer -----------------------------------------------------------------------------


@transaction.atomic
def answer_request(
    actor: User,
    request: AssistanceRequest,
    *,
    answer: str,
    channel: str,
    round: int | None = None,  # noqa: A002 - the request's own word
    at: datetime | None = None,
) -> AssistanceRequest:
    """A member of the unit answers, on the command room's seat or remotely; the
    clock is met (or, late, stays breached). ``round`` is the question the
    answerer read: a follow-up asked meanwhile is a conflict, and of two members
    answering at once the second finds it answered."""
    request = _locked(request)
    _require(
        access.is_member(actor, request),
        "assistance.not_member",
        "只有被求助单位的民警可以答复。",
        "Only a member of the unit asked answers.",
    )
    _expect_state(
        request,
        State.OPEN,
        "assistance.not_open",
        "该求助已答复或已结束。",
        "This request is no longer waiting for an answer.",
    )
    if round is not None and round != request.round:
        raise Conflict(
            "assistance.stale",
            "求助人已追问，请阅读新的问题后再答复。",
            "The asker has asked a follow-up; read it and answer that.",
            current_round=request.round,
            your_round=round,
        )
    if channel not in Channel.values:
        raise InvalidInput(
            "assistance.channel",
            "请选择答复方式：现场席位或远程在线。",
            "Say how you answered: on the seat on site, or remotely online.",
        )
    answer = _text(answer, limit=MAX_TEXT, code="assistance.answer", zh="答复内容", en="answer")
    at = _moment(at, request.last_step_at)
    clocks.meet_deadlines(
        actor, request.case, [request.rule_code], at=at, subject=_subject(request)
    )
    on_time = request.due_at is None or at < request.due_at
    request.state, request.answered_at, request.answered_by = State.ANSWERED, at, actor
    request.channel = channel
    _step(actor, request, Kind.ANSWERED, at, text=answer, channel=channel, due_at=request.due_at)
    request.save()
    _audit(actor, request, "answered", channel=channel, on_time=on_time, round=request.round)
    return request


# --- the asker's steps ------------------------------------------------------------------


def _as_asker(actor: User, request: AssistanceRequest, what_zh: str, what_en: str) -> None:
    _require(
        access.is_asker(actor, request),
        "assistance.not_asker",
        f"只有求助人可以{what_zh}。",
        f"Only the officer who asked may {what_en}.",
    )


@transaction.atomic
def follow_up(
    actor: User, request: AssistanceRequest, *, question: str, at: datetime | None = None
) -> AssistanceRequest:
    """The asker asks again after an answer: the request waits once more, at the
    same level, on a new clock from now."""
    request = _locked(request)
    _as_asker(actor, request, "追问", "ask a follow-up")
    _expect_state(
        request,
        State.ANSWERED,
        "assistance.not_answered",
        "只能对已答复的求助追问。",
        "Only an answered request takes a follow-up question.",
    )
    question = _text(
        question, limit=MAX_TEXT, code="assistance.question", zh="追问内容", en="question"
    )
    at = _moment(at, request.last_step_at)
    request.round += 1
    request.state, request.clock_from = State.OPEN, at
    request.answered_at = request.answered_by = None
    request.channel = ""
    request.due_at = _start_clock(actor, request, at)
    _step(actor, request, Kind.FOLLOWED_UP, at, text=question, due_at=request.due_at)
    request.save()
    _audit(actor, request, "followed_up", round=request.round)
    return request


@transaction.atomic
def escalate_request(
    actor: User,
    request: AssistanceRequest,
    *,
    level: int,
    reason: str,
    at: datetime | None = None,
) -> AssistanceRequest:
    """The asker, or the commander of the unit's organisation, raises a waiting
    request to a more urgent level: the running clock is cancelled and the new
    level's clock runs from the moment of the raise."""
    request = _locked(request)
    _require(
        access.may_escalate(actor, request),
        "assistance.escalate_role",
        "只有求助人或指挥中心指挥员可以提升响应级别。",
        "Only the asker or the center's commander raises the level.",
    )
    _expect_state(
        request,
        State.OPEN,
        "assistance.not_open",
        "只能提升等待答复的求助的级别。",
        "Only a request waiting for its answer can be raised.",
    )
    level = _level(level)
    if level >= request.level:
        raise InvalidInput(
            "assistance.level_not_higher",
            "新的响应级别须比当前更紧急（三级→二级→一级）。",
            "The new level must be more urgent than the current one (3 → 2 → 1).",
            level=request.level,
        )
    reason = _text(
        reason, limit=MAX_REASON, code="assistance.reason", zh="提升级别的理由", en="reason"
    )
    at = _moment(at, request.last_step_at)
    clocks.cancel_deadlines(
        actor, request.case, [request.rule_code], reason=reason, subject=_subject(request)
    )
    old = request.level
    request.level, request.clock_from = level, at
    request.due_at = _start_clock(actor, request, at)
    _step(actor, request, Kind.ESCALATED, at, from_level=old, text=reason, due_at=request.due_at)
    request.save()
    _audit(actor, request, "escalated", reason=reason, from_level=old)
    return request


@transaction.atomic
def close_request(
    actor: User,
    request: AssistanceRequest,
    *,
    helpful: bool,
    note: str = "",
    at: datetime | None = None,
) -> AssistanceRequest:
    """The asker closes an answered request, saying whether the help helped (a
    "not helpful" needs a note saying why)."""
    request = _locked(request)
    _as_asker(actor, request, "办结求助", "close the request")
    _expect_state(
        request,
        State.ANSWERED,
        "assistance.not_answered",
        "只能办结已答复的求助。",
        "Only an answered request can be closed.",
    )
    if not isinstance(helpful, bool):
        raise InvalidInput(
            "assistance.helpful", "请说明答复是否有帮助。", "Say whether the answer helped."
        )
    note = _text(
        note,
        limit=MAX_REASON,
        code="assistance.note",
        zh="说明",
        en="note",
        required=not helpful,
    )
    at = _moment(at, request.last_step_at)
    request.state, request.closed_at, request.helpful = State.CLOSED, at, helpful
    _step(actor, request, Kind.CLOSED, at, text=note, helpful=helpful)
    request.save()
    _audit(actor, request, "closed", reason=note, helpful=helpful)
    return request


@transaction.atomic
def withdraw_request(
    actor: User, request: AssistanceRequest, *, reason: str, at: datetime | None = None
) -> AssistanceRequest:
    """The asker no longer needs the help: a waiting request is withdrawn, its
    clock cancelled."""
    request = _locked(request)
    _as_asker(actor, request, "撤回求助", "withdraw the request")
    _expect_state(
        request,
        State.OPEN,
        "assistance.not_open",
        "只能撤回等待答复的求助。",
        "Only a request waiting for its answer can be withdrawn.",
    )
    reason = _text(reason, limit=MAX_REASON, code="assistance.reason", zh="撤回理由", en="reason")
    at = _moment(at, request.last_step_at)
    clocks.cancel_deadlines(
        actor, request.case, [request.rule_code], reason=reason, subject=_subject(request)
    )
    request.state, request.closed_at = State.WITHDRAWN, at
    _step(actor, request, Kind.WITHDRAWN, at, text=reason)
    request.save()
    _audit(actor, request, "withdrawn", reason=reason)
    return request
