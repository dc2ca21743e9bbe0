"""API of the three-level response (F7.5): the inbox, the commander's board, the
levels and the units a case may ask, a request with its timeline (audited), and
every step — ask, answer, follow up, raise the level, close, withdraw. A request
you may not see is 404, as for a case."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from casecenter.assistance import access, selectors, services
from casecenter.assistance.schemas import (
    AnswerIn,
    AskIn,
    BoardOut,
    CloseIn,
    EscalateIn,
    FollowUpIn,
    LevelOut,
    RequestDetailOut,
    RequestOut,
    UnitOut,
    WithdrawIn,
    detail_out,
    request_out,
    unit_out,
)
from casecenter.schema import Id, Limit, Offset

router = Router(tags=["assistance"])


class ListFilter(Schema):
    #: "mine": the requests of your cases; "unit": those to your unit
    box: Literal["mine", "unit"] = "mine"
    state: Literal["", "waiting", "open", "answered", "closed", "withdrawn"] = ""
    limit: Limit = 50
    offset: Offset = 0


@router.get("", response=list[RequestOut])
def list_requests(request: HttpRequest, filters: Query[ListFilter]):
    """Your cases' requests (``box=mine``) or your unit's (``box=unit``), waiting
    first with the least time left on top. No question text: read one for that."""
    user = request.auth
    rows = (
        selectors.unit_inbox(user, state=filters.state)
        if filters.box == "unit"
        else selectors.my_requests(user, state=filters.state)
    )
    now = timezone.now()
    page = rows[filters.offset : filters.offset + filters.limit]
    return [request_out(r, now) for r in page]


@router.get("/board", response=BoardOut)
def read_board(request: HttpRequest):
    """The commander's board: the center's waiting requests by level, and how many
    answers of the last 30 days came within their target."""
    board = selectors.board(request.auth)
    return {
        "waiting": board.waiting,
        "overdue": board.overdue,
        "answered_30_days": board.answered,
        "on_time_30_days": board.on_time,
        "levels": [
            {"level": level, "label": label, "requests": [request_out(r, board.now) for r in rows]}
            for level, label, rows in board.by_level
        ],
    }


@router.get("/levels", response=list[LevelOut])
def list_levels(request: HttpRequest):
    """The three levels and their response targets (rules ``response.level1``–``3``)."""
    return [
        {
            "level": level,
            "label": label,
            "rule": f"response.level{level}",
            "target_zh": period.describe_zh() if period else None,
            "target_en": period.describe_en() if period else None,
        }
        for level, label, period in selectors.level_targets()
    ]


@router.get("/cases/{case_id}/units", response=list[UnitOut])
def units_for_case(request: HttpRequest, case_id: Id):
    """The units the case's lead or assisting officer may ask (403 for anyone else
    who knows the case, 404 for who does not)."""
    case = selectors.case_to_ask_about(request.auth, case_id)
    return [unit_out(u) for u in access.units_in_reach(case)]


@router.post("", response={201: RequestDetailOut})
def ask(request: HttpRequest, payload: AskIn):
    """Ask a unit in the case's reach for help at level 1, 2 or 3; its clock starts."""
    case = selectors.case_to_ask_about(request.auth, payload.case_id)
    unit = access.units_in_reach(case).filter(pk=payload.unit_id).first()
    made = services.ask_for_help(
        request.auth,
        case,
        unit=unit,
        level=payload.level,
        topic=payload.topic,
        question=payload.question,
        at=payload.at,
    )
    return Status(201, _detail(request, made.pk))


def _detail(request: HttpRequest, pk: int) -> dict:
    return detail_out(selectors.read_request(request.auth, pk), timezone.now())


@router.get("/{request_id}", response=RequestDetailOut)
def read(request: HttpRequest, request_id: Id):
    """A request with its question, answers, timeline and clocks. Audited."""
    return _detail(request, request_id)


@router.post("/{request_id}/answer", response=RequestDetailOut)
def answer(request: HttpRequest, request_id: Id, payload: AnswerIn):
    """A member of the unit answers (``on_site`` or ``remote``); the clock is met.
    ``round`` is the question you read (409 ``assistance.stale`` if a follow-up
    came since); a request already answered is 409 ``assistance.not_open``."""
    req = selectors.get_request(request.auth, request_id)
    services.answer_request(
        request.auth,
        req,
        answer=payload.answer,
        channel=payload.channel,
        round=payload.round,
        at=payload.at,
    )
    return _detail(request, request_id)


@router.post("/{request_id}/follow-up", response=RequestDetailOut)
def follow_up(request: HttpRequest, request_id: Id, payload: FollowUpIn):
    """The asker asks again after an answer: it waits again, same level, new clock."""
    req = selectors.get_request(request.auth, request_id)
    services.follow_up(request.auth, req, question=payload.question, at=payload.at)
    return _detail(request, request_id)


@router.post("/{request_id}/escalate", response=RequestDetailOut)
def escalate(request: HttpRequest, request_id: Id, payload: EscalateIn):
    """The asker or the center's commander raises a waiting request to a more
    urgent level: the old clock is cancelled, the new one runs from now."""
    req = selectors.get_request(request.auth, request_id)
    services.escalate_request(
        request.auth, req, level=payload.level, reason=payload.reason, at=payload.at
    )
    return _detail(request, request_id)


@router.post("/{request_id}/close", response=RequestDetailOut)
def close(request: HttpRequest, request_id: Id, payload: CloseIn):
    """The asker closes an answered request: helpful or not (then with a note)."""
    req = selectors.get_request(request.auth, request_id)
    services.close_request(
        request.auth, req, helpful=payload.helpful, note=payload.note, at=payload.at
    )
    return _detail(request, request_id)


@router.post("/{request_id}/withdraw", response=RequestDetailOut)
def withdraw(request: HttpRequest, request_id: Id, payload: WithdrawIn):
    """The asker withdraws a waiting request, with a reason; its clock is cancelled."""
    req = selectors.get_request(request.auth, request_id)
    services.withdraw_request(request.auth, req, reason=payload.reason, at=payload.at)
    return _detail(request, request_id)
