"""API: acceptance receipts, the public preview, and the parties' messages and ratings
(staff side). The public pages themselves are HTML for phones, not an API."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Schema, Status

from casecenter.cases import selectors as cases
from casecenter.errors import NotFound
from casecenter.portal import selectors, services
from casecenter.portal.models import LANGUAGES, Message
from casecenter.schema import Choice, Id, Text

router = Router(tags=["portal"])


class ReceiptIn(Schema):
    party_id: Id
    language: Choice(dict(LANGUAGES), 10) = "zh-hans"


class ReceiptOut(Schema):
    id: int
    number: str
    party_id: int
    language: str
    issued_at: datetime
    link: str  # the QR code's link: shown once, only its hash is kept


class MilestoneOut(Schema):
    key: str
    at: datetime
    title_zh: str
    title_en: str
    text_zh: str
    text_en: str


class PreviewOut(Schema):
    case_number: str
    unit_zh: str
    unit_en: str
    phone: str
    milestones: list[MilestoneOut]


class MessageOut(Schema):
    id: int
    case_id: int
    case_number: str
    receipt: str
    body: str
    at: datetime
    answer: str
    answered_at: datetime | None
    answered_by: str | None


class RatingOut(Schema):
    id: int
    case_id: int
    milestone: str
    stars: int
    comment: str
    at: datetime


class FeedbackOut(Schema):
    messages: list[MessageOut]
    ratings: list[RatingOut]


class AnswerIn(Schema):
    answer: Text(services.ANSWER_MAX, 1)


def _message_out(m: Message) -> dict:
    return {
        "id": m.pk,
        "case_id": m.case_id,
        "case_number": m.case.number,
        "receipt": m.receipt.number,
        "body": m.body,
        "at": m.at,
        "answer": m.answer,
        "answered_at": m.answered_at,
        "answered_by": str(m.answered_by) if m.answered_by else None,
    }


def _feedback_out(feedback: selectors.Feedback) -> dict:
    return {
        "messages": [_message_out(m) for m in feedback.messages],
        "ratings": [
            {
                "id": r.pk,
                "case_id": r.case_id,
                "milestone": r.milestone,
                "stars": r.stars,
                "comment": r.comment,
                "at": r.at,
            }
            for r in feedback.ratings
        ],
    }


@router.post("/cases/{case_id}/receipts", response={201: ReceiptOut})
def issue_receipt(request: HttpRequest, case_id: Id, payload: ReceiptIn):
    """Issue (or reissue, revoking the old link) a reporter's or victim's receipt
    in their language (``zh-hans`` or ``en``); the answer holds the QR link once."""
    case = cases.get_case(request.auth, case_id)
    party = case.parties.filter(pk=payload.party_id).first()
    if party is None:
        raise NotFound("party.not_found", "本案无此人员。", "No such person in this case.")
    receipt, token = services.issue_receipt(request.auth, case, party, language=payload.language)
    return Status(
        201,
        {
            "id": receipt.pk,
            "number": receipt.number,
            "party_id": party.pk,
            "language": receipt.language,
            "issued_at": receipt.issued_at,
            "link": request.build_absolute_uri(reverse("portal-token", args=[token])),
        },
    )


@router.get("/cases/{case_id}/public", response=PreviewOut)
def preview(request: HttpRequest, case_id: Id):
    """Exactly what a party sees of the case (404 for a secret case: never public)."""
    case = cases.get_case(request.auth, case_id)
    if case.secret:
        raise NotFound("case.not_public", "涉密案件不对外公开。", "A secret case is never public.")
    view = selectors.public_case(case)
    return {**view.__dict__, "milestones": [m.__dict__ for m in view.milestones]}


@router.get("/cases/{case_id}/feedback", response=FeedbackOut)
def case_feedback(request: HttpRequest, case_id: Id):
    """The case's messages (unanswered first) and ratings; audited read."""
    case = cases.get_case(request.auth, case_id)
    feedback = selectors.case_feedback(request.auth, case)
    if feedback is None:
        raise NotFound(
            "case.not_assigned",
            "您未被指派办理或监督该案件。",
            "You are not assigned to this case or to its supervision.",
        )
    return _feedback_out(feedback)


@router.get("/feedback", response=FeedbackOut)
def station_feedback(request: HttpRequest):
    """Messages (unanswered first) and ratings of every case you handle or supervise."""
    return _feedback_out(selectors.station_feedback(request.auth))


@router.post("/cases/{case_id}/messages/{message_id}/answer", response=MessageOut)
def answer(request: HttpRequest, case_id: Id, message_id: Id, payload: AnswerIn):
    """Answer a party's message (once); meets its three-working-day clock."""
    case = cases.get_case(request.auth, case_id)
    message = case.messages.filter(pk=message_id).first()
    if message is None:
        raise NotFound("message.not_found", "本案无此留言。", "No such message in this case.")
    return _message_out(services.answer_message(request.auth, message, payload.answer))
