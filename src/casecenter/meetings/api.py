"""API of remote lawyer video meetings (F7.4): lawyers' licences and their
verification, a detention centre's detainees and rooms, bookings and every
step of them. A booking, a detainee or a licence the caller may not know is
404; conflicts are 409; bad input 422 — all as JSON with a code."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from casecenter.accounts.models import Organisation
from casecenter.errors import NotFound
from casecenter.meetings import detainees, lawyers, selectors, services, sessions
from casecenter.meetings.models import BookingState, LawyerState, Room
from casecenter.meetings.schemas import (
    BookingIn,
    BookingOut,
    CentreOut,
    ConfirmIn,
    DetaineeIn,
    DetaineeOut,
    DetaineeRowOut,
    LawyerOut,
    LicenceIn,
    MissedIn,
    MomentIn,
    ReasonIn,
    RefuseIn,
    RoomOut,
    booking_out,
    detainee_out,
    detainee_row_out,
    lawyer_out,
    room_out,
)
from casecenter.schema import Id

router = Router(tags=["meetings"])


# --- lawyers ------------------------------------------------------------------------------


@router.get("/lawyer", response=LawyerOut)
def own_licence(request: HttpRequest):
    """The caller's own licence registration and its state (404: none yet)."""
    lawyer = selectors.own_licence(request.auth)
    if lawyer is None:
        raise NotFound("lawyer.not_found", "尚未登记执业证。", "No licence registered yet.")
    return lawyer_out(lawyer)


@router.post("/lawyer", response={201: LawyerOut})
def register_licence(request: HttpRequest, payload: LicenceIn):
    """A lawyer registers (or corrects) their 17-digit licence number; it waits
    for a detention centre's staff to verify it."""
    lawyer = lawyers.register_licence(request.auth, licence_number=payload.licence_number)
    return Status(201, lawyer_out(lawyer))


@router.get("/lawyers", response=list[LawyerOut])
def list_lawyers(request: HttpRequest, state: LawyerState | None = None):
    """Licences to verify (detention staff, administrators), those waiting first."""
    return [lawyer_out(x) for x in selectors.lawyers(request.auth, state or "")]


@router.post("/lawyers/{lawyer_id}/verify", response=LawyerOut)
def verify_lawyer(request: HttpRequest, lawyer_id: Id):
    lawyer = selectors.get_lawyer(request.auth, lawyer_id)
    return lawyer_out(lawyers.verify_lawyer(request.auth, lawyer))


@router.post("/lawyers/{lawyer_id}/refuse", response=LawyerOut)
def refuse_lawyer(request: HttpRequest, lawyer_id: Id, payload: RefuseIn):
    """Refuse a pending licence, or withdraw a verification, with reasons."""
    lawyer = selectors.get_lawyer(request.auth, lawyer_id)
    return lawyer_out(lawyers.refuse_lawyer(request.auth, lawyer, reason=payload.reason))


# --- centres, rooms, detainees --------------------------------------------------------------


@router.get("/centres", response=list[CentreOut])
def list_centres(request: HttpRequest):
    """The detention centres a lawyer may book a meeting with."""
    return list(selectors.centres())


@router.get("/rooms", response=list[RoomOut])
def list_rooms(request: HttpRequest):
    """The caller's centre's meeting rooms (managed in the admin)."""
    return [room_out(r) for r in selectors.rooms(request.auth)]


@router.get("/detainees", response=list[DetaineeRowOut])
def list_detainees(request: HttpRequest, held: bool = False):
    """The caller's centre's detainees, names and numbers masked (``held``: only
    those still held)."""
    return [
        detainee_row_out(d) for d in selectors.centre_detainees(request.auth, held_only=held)[:500]
    ]


@router.post("/detainees", response={201: DetaineeRowOut})
def register_detainee(request: HttpRequest, payload: DetaineeIn):
    """Register a person received into the caller's centre."""
    detainee = detainees.register_detainee(
        request.auth,
        name=payload.name,
        id_number=payload.id_number,
        handling_organisation=payload.handling_organisation,
        case_number=payload.case_number,
        received_at=payload.received_at,
    )
    return Status(201, detainee_row_out(detainee))


@router.get("/detainees/{detainee_id}", response=DetaineeOut)
def read_detainee(request: HttpRequest, detainee_id: Id):
    """A detainee's record in full, for the centre's staff. Audited."""
    detainee = selectors.get_detainee(request.auth, detainee_id)
    return detainee_out(selectors.read_detainee(request.auth, detainee))


@router.post("/detainees/{detainee_id}/release", response=DetaineeRowOut)
def release_detainee(request: HttpRequest, detainee_id: Id, payload: MomentIn | None = None):
    """The detainee left the centre (``at``: when; now by default); their live
    bookings are refused."""
    detainee = selectors.get_detainee(request.auth, detainee_id)
    at = payload.at if payload else None
    return detainee_row_out(detainees.release_detainee(request.auth, detainee, at=at))


# --- bookings -----------------------------------------------------------------------------


def _out(request: HttpRequest, booking, *, with_detainee: bool = False) -> dict:
    booking = selectors.get_booking(request.auth, booking.pk)
    clock = selectors.clocks_of([booking]).get(booking.pk)
    view = (
        selectors.read_detainee(request.auth, booking.detainee, booking=booking)
        if with_detainee
        else None
    )
    return booking_out(request.auth, booking, clock=clock, detainee=view)


@router.get("/bookings", response=list[BookingOut])
def list_bookings(request: HttpRequest, state: BookingState | None = None):
    """The caller's own bookings (a lawyer) or their centre's (its staff), soonest
    first; detainees' names masked."""
    rows = selectors.visible_bookings(request.auth).select_related("detainee")
    if state:
        rows = rows.filter(state=state)
    rows = list(rows.order_by("starts_at", "pk")[:500])
    clocks = selectors.clocks_of(rows)
    return [booking_out(request.auth, b, clock=clocks.get(b.pk)) for b in rows]


@router.post("/bookings", response={201: BookingOut})
def request_booking(request: HttpRequest, payload: BookingIn):
    """A verified lawyer asks for a slot (15–120 minutes, 08:00–20:00, at most 30
    days ahead) with a detainee named by name and ID number. No match is 404 with
    one message whatever was wrong; an overlapping booking of the detainee or of
    the lawyer is 409. The centre's 48-hour clock starts."""
    booking = services.request_booking(
        request.auth,
        centre=Organisation.objects.filter(pk=payload.centre_id).first(),
        name=payload.name,
        id_number=payload.id_number,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        authority=payload.authority,
        authority_reference=payload.authority_reference,
    )
    return Status(201, _out(request, booking))


@router.get("/bookings/{booking_id}", response=BookingOut)
def read_booking(request: HttpRequest, booking_id: Id):
    """A booking with its clock and its detainee (in full for the centre's staff,
    masked for the lawyer). The detainee's read is audited."""
    booking = selectors.get_booking(request.auth, booking_id)
    return _out(request, booking, with_detainee=True)


@router.post("/bookings/{booking_id}/confirm", response=BookingOut)
def confirm_booking(request: HttpRequest, booking_id: Id, payload: ConfirmIn):
    """The centre arranges the meeting in a free room of its own (404 for a room
    that is not its own, 409 when the room is out of use or taken in the slot);
    the clock is met."""
    booking = selectors.get_booking(request.auth, booking_id)
    room = Room.objects.filter(pk=payload.room_id).first()
    services.confirm_booking(request.auth, booking, room=room)
    return _out(request, booking)


@router.post("/bookings/{booking_id}/refuse", response=BookingOut)
def refuse_booking(request: HttpRequest, booking_id: Id, payload: RefuseIn):
    booking = selectors.get_booking(request.auth, booking_id)
    services.refuse_booking(request.auth, booking, reason=payload.reason)
    return _out(request, booking)


@router.post("/bookings/{booking_id}/cancel", response=BookingOut)
def cancel_booking(request: HttpRequest, booking_id: Id, payload: ReasonIn | None = None):
    """The lawyer withdraws the booking before its slot begins."""
    booking = selectors.get_booking(request.auth, booking_id)
    services.cancel_booking(request.auth, booking, reason=payload.reason if payload else "")
    return _out(request, booking)


@router.post("/bookings/{booking_id}/start", response=BookingOut)
def start_meeting(request: HttpRequest, booking_id: Id, payload: MomentIn | None = None):
    """The meeting begins (``at``: when); the video session opens, recording off,
    and ``join_link`` is each side's way in. 502 when the video system fails or
    would record."""
    booking = selectors.get_booking(request.auth, booking_id)
    sessions.start_meeting(request.auth, booking, at=payload.at if payload else None)
    return _out(request, booking)


@router.post("/bookings/{booking_id}/end", response=BookingOut)
def end_meeting(request: HttpRequest, booking_id: Id, payload: MomentIn | None = None):
    booking = selectors.get_booking(request.auth, booking_id)
    sessions.end_meeting(request.auth, booking, at=payload.at if payload else None)
    return _out(request, booking)


@router.post("/bookings/{booking_id}/missed", response=BookingOut)
def mark_missed(request: HttpRequest, booking_id: Id, payload: MissedIn | None = None):
    """A confirmed meeting whose slot has begun did not take place."""
    booking = selectors.get_booking(request.auth, booking_id)
    sessions.mark_missed(
        request.auth,
        booking,
        reason=payload.reason if payload else "",
        at=payload.at if payload else None,
    )
    return _out(request, booking)
