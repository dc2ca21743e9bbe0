"""The assistance API's shapes: what goes in (bounded, with ``schema`` types) and what comes out."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema

from casecenter.assistance import services
from casecenter.assistance.models import AssistanceEvent, AssistanceRequest, Topic
from casecenter.assistance.selectors import RequestView
from casecenter.schema import Id, Text, Timestamp
from casecenter.supervision.models import Deadline

LevelIn = Literal[1, 2, 3]
TopicIn = Literal[tuple(Topic.values)]  # type: ignore[valid-type]


class AskIn(Schema):
    case_id: Id
    unit_id: Id
    level: LevelIn
    topic: TopicIn
    question: Text(services.MAX_TEXT, 1)
    #: when it was asked, if not now (a moment up to now, not before the case)
    at: Timestamp | None = None


class AnswerIn(Schema):
    answer: Text(services.MAX_TEXT, 1)
    channel: Literal["on_site", "remote"]
    #: the question answered (``round`` of the request read); a newer one is 409
    round: int | None = None
    at: Timestamp | None = None


class FollowUpIn(Schema):
    question: Text(services.MAX_TEXT, 1)
    at: Timestamp | None = None


class EscalateIn(Schema):
    level: Literal[1, 2]
    reason: Text(services.MAX_REASON, 1)
    at: Timestamp | None = None


class CloseIn(Schema):
    helpful: bool
    note: Text(services.MAX_REASON) = ""
    at: Timestamp | None = None


class WithdrawIn(Schema):
    reason: Text(services.MAX_REASON, 1)
    at: Timestamp | None = None


class UnitOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    organisation_id: int
    organisation: str


class LevelOut(Schema):
    level: int
    label: str
    rule: str
    #: the response target ("1 hour"), None when the rule is switched off
    target_zh: str | None
    target_en: str | None


class CaseRefOut(Schema):
    id: int
    number: str
    title: str
    kind: str
    category: str
    category_label: str
    secret: bool


class RequestOut(Schema):
    """A request as lists show it: no question text."""

    id: int
    number: str
    case: CaseRefOut
    unit: UnitOut
    asker_id: int
    asker: str
    level: int
    level_label: str
    topic: str
    topic_label: str
    state: str
    state_label: str
    round: int
    asked_at: datetime
    clock_from: datetime
    due_at: datetime | None
    overdue: bool
    answered_at: datetime | None
    answered_by: str | None
    channel: str
    closed_at: datetime | None
    helpful: bool | None


class EventOut(Schema):
    kind: str
    kind_label: str
    actor_id: int
    actor: str
    at: datetime
    level: int
    from_level: int | None
    round: int
    text: str
    channel: str
    helpful: bool | None
    due_at: datetime | None


class ClockOut(Schema):
    id: int
    rule: str
    state: str
    trigger_at: datetime
    due_at: datetime
    closed_at: datetime | None


class RequestDetailOut(RequestOut):
    question: str
    basis: str
    events: list[EventOut]
    clocks: list[ClockOut]
    may_answer: bool
    may_follow_up: bool
    may_close: bool
    may_withdraw: bool
    may_escalate: bool
    higher_levels: list[int]


class BoardLevelOut(Schema):
    level: int
    label: str
    requests: list[RequestOut]


class BoardOut(Schema):
    waiting: int
    overdue: int
    answered_30_days: int
    on_time_30_days: int
    levels: list[BoardLevelOut]


# --- shaping -----------------------------------------------------------------------------


def unit_out(unit) -> dict:  # type: ignore[no-untyped-def]
    return {
        "id": unit.pk,
        "kind": unit.kind,
        "kind_label": unit.get_kind_display(),
        "name": unit.name,
        "organisation_id": unit.organisation_id,
        "organisation": str(unit.organisation),
    }


def request_out(r: AssistanceRequest, now: datetime) -> dict:
    case = r.case
    return {
        "id": r.pk,
        "number": r.number,
        "case": {
            "id": case.pk,
            "number": case.number,
            "title": case.title,
            "kind": case.kind,
            "category": case.category,
            "category_label": case.get_category_display(),
            "secret": case.secret,
        },
        "unit": unit_out(r.unit),
        "asker_id": r.asker_id,
        "asker": str(r.asker),
        "level": r.level,
        "level_label": r.get_level_display(),
        "topic": r.topic,
        "topic_label": r.get_topic_display(),
        "state": r.state,
        "state_label": r.get_state_display(),
        "round": r.round,
        "asked_at": r.asked_at,
        "clock_from": r.clock_from,
        "due_at": r.due_at,
        "overdue": bool(r.is_waiting and r.due_at and r.due_at <= now),
        "answered_at": r.answered_at,
        "answered_by": str(r.answered_by) if r.answered_by_id else None,
        "channel": r.channel,
        "closed_at": r.closed_at,
        "helpful": r.helpful,
    }


def event_out(e: AssistanceEvent) -> dict:
    return {
        "kind": e.kind,
        "kind_label": e.get_kind_display(),
        "actor_id": e.actor_id,
        "actor": str(e.actor),
        "at": e.at,
        "level": e.level,
        "from_level": e.from_level,
        "round": e.round,
        "text": e.text,
        "channel": e.channel,
        "helpful": e.helpful,
        "due_at": e.due_at,
    }


def clock_out(d: Deadline) -> dict:
    return {
        "id": d.pk,
        "rule": d.rule_id,
        "state": d.state,
        "trigger_at": d.trigger_at,
        "due_at": d.due_at,
        "closed_at": d.closed_at,
    }


def detail_out(view: RequestView, now: datetime) -> dict:
    r = view.request
    return {
        **request_out(r, now),
        "question": r.question,
        "basis": view.basis,
        "events": [event_out(e) for e in view.events],
        "clocks": [clock_out(d) for d in view.deadlines],
        "may_answer": view.may_answer,
        "may_follow_up": view.may_follow_up,
        "may_close": view.may_close,
        "may_withdraw": view.may_withdraw,
        "may_escalate": view.may_escalate,
        "higher_levels": view.higher_levels,
    }
