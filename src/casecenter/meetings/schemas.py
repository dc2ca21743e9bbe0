"""The meetings API's shapes: what goes in (bounded, with ``schema`` types) and
what comes out (a detainee's name masked everywhere but in the audited read of
the centre's own staff)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Schema

from casecenter import law
from casecenter.accounts.models import User
from casecenter.meetings.models import Booking, Detainee, Lawyer, Room
from casecenter.meetings.selectors import DetaineeView
from casecenter.schema import Id, Text, Timestamp
from casecenter.supervision.models import Deadline

# --- in -----------------------------------------------------------------------------------


class LicenceIn(Schema):
    licence_number: Text(40, 1)


class ReasonIn(Schema):
    """A reason: required to refuse, optional to cancel or mark missed."""

    reason: Text(2000) = ""


class RefuseIn(Schema):
    reason: Text(2000, 1)


class DetaineeIn(Schema):
    name: Text(100, 1)
    id_number: Text(30, 1)
    handling_organisation: Text(200, 1)
    case_number: Text(60, 1)
    received_at: Timestamp | None = None


class MomentIn(Schema):
    """When it happened (now when absent); in the past, never in the future."""

    at: Timestamp | None = None


class MissedIn(Schema):
    reason: Text(2000) = ""
    at: Timestamp | None = None


class BookingIn(Schema):
    """A slot with a detainee named by name and ID number, and the authority of
    CPL Art. 39 (an engagement letter or a legal-aid letter, with its reference)."""

    centre_id: Id
    name: Text(100, 1)
    id_number: Text(30, 1)
    starts_at: Timestamp
    ends_at: Timestamp
    authority: Literal["engagement", "legal_aid"]
    authority_reference: Text(100, 1)


class ConfirmIn(Schema):
    room_id: Id


# --- out ----------------------------------------------------------------------------------


class LawyerOut(Schema):
    id: int
    user_id: int
    name: str
    role: str
    organisation_id: int
    organisation: str
    licence_number: str
    practice: str
    practice_label: str
    first_licensed: int
    state: str
    state_label: str
    registered_at: datetime
    verified_by: str | None
    verified_at: datetime | None
    refused_by: str | None
    refused_at: datetime | None
    refusal_reason: str


class CentreOut(Schema):
    id: int
    code: str
    name: str
    name_en: str


class RoomOut(Schema):
    id: int
    code: str
    name: str
    terminal: str
    active: bool


class DetaineeRowOut(Schema):
    """A detainee in a list: name and ID number masked."""

    id: int
    name: str
    id_number: str
    handling_organisation: str
    case_number: str
    received_at: datetime
    released_at: datetime | None


class DetaineeOut(Schema):
    """A detainee as the reader may see them (``masked``: a lawyer's view)."""

    id: int
    name: str
    id_number: str
    sex: str
    birth_date: date | None
    handling_organisation: str
    case_number: str
    received_at: datetime | None
    released_at: datetime | None
    in_custody: bool
    masked: bool


class ClockOut(Schema):
    rule: str
    state: str
    trigger_at: datetime
    warn_at: datetime
    due_at: datetime
    closed_at: datetime | None
    basis: str


class BookingOut(Schema):
    id: int
    number: str
    centre_id: int
    centre: str
    lawyer_id: int
    lawyer: str
    lawyer_organisation: str
    #: masked, as in every list; the full record is ``detainee`` of ``GET /bookings/{id}``
    detainee_id: int
    detainee_name: str
    starts_at: datetime
    ends_at: datetime
    authority: str
    authority_label: str
    authority_reference: str
    state: str
    state_label: str
    in_progress: bool
    requested_at: datetime
    room_id: int | None
    room: str | None
    decided_at: datetime | None
    refusal_reason: str
    cancelled_at: datetime | None
    cancel_reason: str
    started_at: datetime | None
    ended_at: datetime | None
    missed_at: datetime | None
    missed_reason: str
    clock: ClockOut | None
    #: the caller's own link into the video session, while the meeting is held
    join_link: str | None
    detainee: DetaineeOut | None = None


# --- shaping ------------------------------------------------------------------------------


def lawyer_out(lawyer: Lawyer) -> dict:
    return {
        "id": lawyer.pk,
        "user_id": lawyer.user_id,
        "name": str(lawyer.user),
        "role": lawyer.user.role,
        "organisation_id": lawyer.organisation_id,
        "organisation": str(lawyer.organisation),
        "licence_number": lawyer.licence_number,
        "practice": lawyer.practice,
        "practice_label": lawyer.get_practice_display(),
        "first_licensed": lawyer.first_licensed,
        "state": lawyer.state,
        "state_label": lawyer.get_state_display(),
        "registered_at": lawyer.registered_at,
        "verified_by": str(lawyer.verified_by) if lawyer.verified_by_id else None,
        "verified_at": lawyer.verified_at,
        "refused_by": str(lawyer.refused_by) if lawyer.refused_by_id else None,
        "refused_at": lawyer.refused_at,
        "refusal_reason": lawyer.refusal_reason,
    }


def room_out(room: Room) -> dict:
    return {
        "id": room.pk,
        "code": room.code,
        "name": room.name,
        "terminal": room.terminal,
        "active": room.active,
    }


def detainee_row_out(detainee: Detainee) -> dict:
    return {
        "id": detainee.pk,
        "name": law.mask_name(detainee.name),
        "id_number": detainee.id_number_masked,
        "handling_organisation": detainee.handling_organisation,
        "case_number": detainee.case_number,
        "received_at": detainee.received_at,
        "released_at": detainee.released_at,
    }


def detainee_out(view: DetaineeView) -> dict:
    return dict(view.__dict__)


def clock_out(deadline: Deadline | None) -> dict | None:
    if deadline is None:
        return None
    return {
        "rule": deadline.rule_id,
        "state": deadline.state,
        "trigger_at": deadline.trigger_at,
        "warn_at": deadline.warn_at,
        "due_at": deadline.due_at,
        "closed_at": deadline.closed_at,
        "basis": deadline.rule.basis,
    }


def join_link(user: User, booking: Booking) -> str | None:
    """The caller's own link while the meeting is held: the lawyer's to the lawyer,
    the centre's to its staff."""
    if not booking.in_progress:
        return None
    if booking.lawyer.user_id == user.pk:
        return booking.lawyer_link or None
    if user.organisation_id == booking.centre_id:
        return booking.centre_link or None
    return None


def booking_out(
    user: User,
    booking: Booking,
    *,
    clock: Deadline | None,
    detainee: DetaineeView | None = None,
) -> dict:
    return {
        "id": booking.pk,
        "number": booking.number,
        "centre_id": booking.centre_id,
        "centre": str(booking.centre),
        "lawyer_id": booking.lawyer_id,
        "lawyer": str(booking.lawyer.user),
        "lawyer_organisation": str(booking.lawyer.organisation),
        "detainee_id": booking.detainee_id,
        "detainee_name": law.mask_name(booking.detainee.name),
        "starts_at": booking.starts_at,
        "ends_at": booking.ends_at,
        "authority": booking.authority,
        "authority_label": booking.get_authority_display(),
        "authority_reference": booking.authority_reference,
        "state": booking.state,
        "state_label": booking.get_state_display(),
        "in_progress": booking.in_progress,
        "requested_at": booking.requested_at,
        "room_id": booking.room_id,
        "room": booking.room.name if booking.room_id else None,
        "decided_at": booking.decided_at,
        "refusal_reason": booking.refusal_reason,
        "cancelled_at": booking.cancelled_at,
        "cancel_reason": booking.cancel_reason,
        "started_at": booking.started_at,
        "ended_at": booking.ended_at,
        "missed_at": booking.missed_at,
        "missed_reason": booking.missed_reason,
        "clock": clock_out(clock),
        "join_link": join_link(user, booking),
        "detainee": detainee_out(detainee) if detainee else None,
    }
