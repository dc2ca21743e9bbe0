"""API: cases, their people, officers, transitions and timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from casecenter.accounts.models import User
from casecenter.cases import breakglass, selectors, services
from casecenter.cases.models import (
    AccessGrant,
    AssignmentRole,
    Case,
    CaseEvent,
    CaseKind,
    CaseState,
    Category,
    Party,
    PartyRole,
)
from casecenter.cases.workflow import TRANSITIONS
from casecenter.errors import NotFound, PermissionDenied
from casecenter.law import mask_phone
from casecenter.schema import Choice, ChoiceFilter, Id, Limit, Offset, Text, Timestamp

router = Router(tags=["cases"])


class CaseOut(Schema):
    id: int
    number: str
    kind: str
    category: str
    title: str
    state: str
    secret: bool
    version: int
    organisation: str
    accepted_at: datetime
    occurred_at: datetime | None
    closed_at: datetime | None


class PartyOut(Schema):
    id: int
    role: str
    name: str
    id_number_masked: str
    sex: str
    age_at_act: int | None
    minor_at_act: bool


class OfficerOut(Schema):
    user_id: int
    name: str
    role: str


class EventOut(Schema):
    at: datetime
    kind: str
    actor: str | None
    from_state: str
    to_state: str
    reason: str
    data: dict


class TransitionOut(Schema):
    name: str
    label: str
    needs_reason: bool
    enforcement: bool


class CaseDetailOut(CaseOut):
    summary: str
    place: str
    access_basis: str
    parties: list[PartyOut]
    officers: list[OfficerOut]
    timeline: list[EventOut]
    transitions: list[TransitionOut]


class CaseIn(Schema):
    kind: Choice(CaseKind, 20)
    category: Choice(Category, 30)
    title: Text(200, 1)
    summary: Text(5000) = ""
    place: Text(200) = ""
    occurred_at: Timestamp | None = None
    secret: bool = False


class CasePatch(Schema):
    """Only the fields sent change. ``null`` clears ``occurred_at`` and nothing else: a
    title, summary, place or category is changed, never removed (found by schemathesis:
    a ``null`` place was a 500)."""

    version: int
    title: Text(200, 1) = None  # type: ignore[assignment]  # absent: unchanged
    summary: Text(5000) = None  # type: ignore[assignment]
    place: Text(200) = None  # type: ignore[assignment]
    category: Choice(Category, 30) = None  # type: ignore[assignment]
    occurred_at: Timestamp | None = None


class TransitionIn(Schema):
    transition: Choice(TRANSITIONS, 40)
    version: int
    reason: Text(2000) = ""
    officers: list[Id] = []


class PartyIn(Schema):
    role: Choice(PartyRole, 20)
    name: Text(100, 1)
    id_number: Text(30) = ""
    phone: Text(40) = ""
    email: Text(200) = ""


class AssignmentIn(Schema):
    user_id: Id
    role: Choice(AssignmentRole, 20)


class BreakGlassIn(Schema):
    reason: Text(2000, 1)


class ContactIn(Schema):
    phone: Text(40) = ""
    email: Text(200) = ""


class ContactOut(Schema):
    party_id: int
    phone_masked: str
    email_masked: str


class GrantOut(Schema):
    id: int
    case_id: int
    case_number: str
    officer_id: int
    officer: str
    reason: str
    granted_at: datetime
    expires_at: datetime
    reviewed_at: datetime | None
    reviewed_by: str | None
    review_note: str
    reads: int


class GrantFilter(Schema):
    state: Literal["pending", "reviewed", ""] = "pending"
    limit: Limit = 50
    offset: Offset = 0


class ReviewIn(Schema):
    note: Text(2000) = ""


class RevealIn(Schema):
    purpose: Text(500, 4)


class CaseFilter(Schema):
    q: Text(100) = ""
    state: ChoiceFilter(CaseState, 20) = ""
    kind: ChoiceFilter(CaseKind, 20) = ""
    category: ChoiceFilter(Category, 30) = ""
    mine: bool = False
    limit: Limit = 50
    offset: Offset = 0


def case_out(case: Case) -> dict:
    return {
        "id": case.pk,
        "number": case.number,
        "kind": case.kind,
        "category": case.category,
        "title": case.title,
        "state": case.state,
        "secret": case.secret,
        "version": case.version,
        "organisation": case.organisation.name,
        "accepted_at": case.accepted_at,
        "occurred_at": case.occurred_at,
        "closed_at": case.closed_at,
    }


def _party_out(party: Party) -> dict:
    person = party.person
    return {
        "id": party.pk,
        "role": party.role,
        "name": person.name,
        "id_number_masked": person.id_number_masked,
        "sex": person.sex,
        "age_at_act": party.age_at_act,
        "minor_at_act": party.minor_at_act,
    }


def _event_out(event: CaseEvent) -> dict:
    return {
        "at": event.at,
        "kind": event.kind,
        "actor": str(event.actor) if event.actor else None,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "reason": event.reason,
        "data": event.data,
    }


def case_detail(user: User, case: Case) -> dict:
    file = selectors.read_case_file(user, case, purpose="api")
    return {
        **case_out(case),
        "summary": case.summary,
        "place": case.place,
        "access_basis": file.basis,
        "parties": [_party_out(p) for p in file.parties],
        "officers": [
            {"user_id": a.user_id, "name": str(a.user), "role": a.role} for a in file.officers
        ],
        "timeline": [_event_out(e) for e in file.events],
        "transitions": [
            {
                "name": t.name,
                "label": str(t.label),
                "needs_reason": t.needs_reason,
                "enforcement": t.enforcement,
            }
            for t in file.transitions
        ],
    }


def _officers(ids: list[int]) -> list[User]:
    found = list(User.objects.filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise NotFound("officers.unknown", "有民警编号不存在。", "Unknown officer id.")
    return found


def _grant_out(grant: AccessGrant) -> dict:
    return {
        "id": grant.pk,
        "case_id": grant.case_id,
        "case_number": grant.case.number,
        "officer_id": grant.user_id,
        "officer": str(grant.user),
        "reason": grant.reason,
        "granted_at": grant.granted_at,
        "expires_at": grant.expires_at,
        "reviewed_at": grant.reviewed_at,
        "reviewed_by": str(grant.reviewed_by) if grant.reviewed_by_id else None,
        "review_note": grant.review_note,
        "reads": breakglass.reads_under(grant).count(),
    }


def _mask_email(value: str) -> str:
    name, _, domain = (value or "").partition("@")
    return f"{name[:1]}***@{domain}" if domain else ""


def _reviewer(user: User) -> None:
    if not breakglass.may_review(user):
        raise PermissionDenied(
            "break_glass.not_reviewer",
            "只有案管组和法制部门审查紧急查阅。",
            "Only the case-management group and legal affairs review break-glass reads.",
        )


@router.get("/break-glass", response=list[GrantOut])
def break_glass_reviews(request: HttpRequest, filters: Query[GrantFilter]):
    """The break-glass grants to review (case-management group, legal affairs)."""
    _reviewer(request.auth)
    rows = breakglass.grants_to_review(request.auth, state=filters.state)
    return [_grant_out(g) for g in rows[filters.offset : filters.offset + filters.limit]]


@router.post("/break-glass/{grant_id}/review", response=GrantOut)
def review_break_glass(request: HttpRequest, grant_id: Id, payload: ReviewIn):
    """Mark a break-glass grant reviewed (audited)."""
    _reviewer(request.auth)
    grant = breakglass.get_grant(request.auth, grant_id)
    return _grant_out(breakglass.review_grant(request.auth, grant, note=payload.note))


@router.get("", response=list[CaseOut])
def list_cases(request: HttpRequest, filters: Query[CaseFilter]):
    rows = selectors.case_list(
        request.auth,
        q=filters.q,
        state=filters.state,
        kind=filters.kind,
        category=filters.category,
        assigned_to_me=filters.mine,
    )[filters.offset : filters.offset + filters.limit]
    return [case_out(c) for c in rows]


@router.post("", response={201: CaseDetailOut})
def accept(request: HttpRequest, payload: CaseIn):
    """Accept a case directly (a walk-in report); you become its lead officer."""
    case = services.accept_case(request.auth, **payload.dict())
    return Status(201, case_detail(request.auth, case))


@router.get("/{case_id}", response=CaseDetailOut)
def read(request: HttpRequest, case_id: Id):
    """The case with its people, officers and timeline (need-to-know; audited)."""
    return case_detail(request.auth, selectors.get_case(request.auth, case_id))


@router.patch("/{case_id}", response=CaseDetailOut)
def edit(request: HttpRequest, case_id: Id, payload: CasePatch):
    """Edit details. Send the ``version`` you read: a stale version gets 409."""
    case = selectors.get_case(request.auth, case_id)
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version")
    case = services.update_case(request.auth, case, expected_version=version, **changes)
    return case_detail(request.auth, case)


@router.post("/{case_id}/transitions", response=CaseDetailOut)
def transition(request: HttpRequest, case_id: Id, payload: TransitionIn):
    """Move the case (``file``, ``start_investigation`` …); enforcement steps name 2+ officers."""
    case = selectors.get_case(request.auth, case_id)
    case = services.transition_case(
        request.auth,
        case,
        payload.transition,
        expected_version=payload.version,
        reason=payload.reason,
        officers=_officers(payload.officers),
    )
    return case_detail(request.auth, case)


@router.post("/{case_id}/parties", response={201: PartyOut})
def add_party(request: HttpRequest, case_id: Id, payload: PartyIn):
    case = selectors.get_case(request.auth, case_id)
    return Status(201, _party_out(services.add_party(request.auth, case, **payload.dict())))


@router.post("/{case_id}/parties/{party_id}/reveal-id", response=dict)
def reveal_id(request: HttpRequest, case_id: Id, party_id: Id, payload: RevealIn):
    """The full ID number of a party, for a stated purpose (audited)."""
    case = selectors.get_case(request.auth, case_id)
    party = case.parties.select_related("person", "case").filter(pk=party_id).first()
    if party is None:
        raise NotFound("party.not_found", "该人员不在本案中。", "No such party in this case.")
    return {"id_number": selectors.reveal_id_number(request.auth, party, purpose=payload.purpose)}


@router.post("/{case_id}/assignments", response={201: OfficerOut})
def assign(request: HttpRequest, case_id: Id, payload: AssignmentIn):
    case = selectors.get_case(request.auth, case_id)
    officer = _officers([payload.user_id])[0]
    assignment = services.assign_officer(request.auth, case, officer, payload.role)
    return Status(201, {"user_id": officer.pk, "name": str(officer), "role": assignment.role})


@router.delete("/{case_id}/assignments/{user_id}", response={204: None})
def release(request: HttpRequest, case_id: Id, user_id: Id):
    case = selectors.get_case(request.auth, case_id)
    services.release_officer(request.auth, case, _officers([user_id])[0])
    return Status(204, None)


@router.post("/{case_id}/break-glass", response={201: dict})
def break_glass(request: HttpRequest, case_id: Id, payload: BreakGlassIn):
    """Open a case you are not assigned to, with a reason, for a few hours (audited)."""
    case = selectors.get_case(request.auth, case_id)
    grant = breakglass.break_glass(request.auth, case, reason=payload.reason)
    return Status(201, {"expires_at": grant.expires_at.isoformat()})


@router.put("/{case_id}/parties/{party_id}/contact", response=ContactOut)
def change_contact(request: HttpRequest, case_id: Id, party_id: Id, payload: ContactIn):
    """Replace a party's phone and e-mail: this case's record only (audited)."""
    case = selectors.get_case(request.auth, case_id)
    party = case.parties.select_related("person").filter(pk=party_id).first()
    if party is None:
        raise NotFound("party.not_found", "该人员不在本案中。", "No such party in this case.")
    party = services.change_party_contact(
        request.auth, party, phone=payload.phone, email=payload.email
    )
    return {
        "party_id": party.pk,
        "phone_masked": mask_phone(party.person.phone),
        "email_masked": _mask_email(party.person.email),
    }


@router.get("/{case_id}/timeline", response=list[EventOut])
def timeline(request: HttpRequest, case_id: Id):
    case = selectors.get_case(request.auth, case_id)
    return [_event_out(e) for e in selectors.read_case_file(request.auth, case).events]
