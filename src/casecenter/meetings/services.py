"""Every write of a meeting booking (会见预约) — one transaction each, audited,
with its outbox event and its ``lawyer.meeting`` clock.

The walk of a booking::

    requested ─confirm (room)─> confirmed ─start─> held ─end─> held (ended)
        │                           ├─cancel (lawyer, before it starts)─> cancelled
        ├─refuse (reasons)─> refused └─missed (after its start)─> missed
        └─cancel (lawyer)─> cancelled

- A **verified** lawyer requests a slot (15 to 120 minutes, in the future, within
  08:00–20:00 local time of one day, at most 30 days ahead) with a detainee of a
  detention centre, named by name and ID number, stating the authority CPL
  Art. 39 asks for: an engagement letter (委托书) or a legal-aid letter (法律援助
  公函; the only one a duty lawyer has). The clock ``lawyer.meeting`` (48 hours,
  CPL Art. 39) starts at the request and belongs to the centre.
- The centre's staff confirm it with a free room (the clock is met) or refuse it
  with reasons (the clock is cancelled); the lawyer may cancel it before it
  starts (the clock, if still running, is cancelled).
- Staff record the start — the video session is opened, recording off — and
  the end; or mark a confirmed meeting missed after its start.

Conflicts are 409s: a slot overlapping a live booking (requested, confirmed or
held) of the same detainee or of the same lawyer, and at confirmation one of
the same room. They are checked under row locks — the lawyer's row, then the
detainee's, then the room's, always in that order — so of two requests at the
same moment one wins and the other sees it.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from casecenter.accounts.models import Organisation, OrganisationKind, Role, User
from casecenter.accounts.services import next_serial
from casecenter.audit.services import record
from casecenter.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from casecenter.meetings import access, lookup
from casecenter.meetings.models import (
    Authority,
    Booking,
    BookingState,
    Detainee,
    Lawyer,
    LawyerState,
    Room,
)
from casecenter.meetings.slots import aware, check_slot
from casecenter.moments import past_moment
from casecenter.outbox.services import emit
from casecenter.supervision import services as clocks

RULE = "lawyer.meeting"
#: bookings that hold their slot
OCCUPYING = (BookingState.REQUESTED, BookingState.CONFIRMED, BookingState.HELD)
MAX_REASON = 2000


# --- small checks ------------------------------------------------------------------------


def when(at: datetime | None, what_zh: str = "时间", what_en: str = "time") -> datetime:
    return past_moment(at, code="meeting", what_zh=what_zh, what_en=what_en)


def reason_text(reason: str, *, required: bool, code: str = "booking.reason") -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise InvalidInput(code, "请说明理由。", "Give the reason.")
    if len(reason) > MAX_REASON:
        raise InvalidInput(
            f"{code}_long",
            f"理由不能超过{MAX_REASON}字。",
            f"The reason may be at most {MAX_REASON} characters.",
        )
    return reason


def _check_authority(lawyer: Lawyer, authority: str, reference: str) -> str:
    if authority not in Authority.values:
        raise InvalidInput(
            "booking.authority",
            "请选择委托书或法律援助公函。",
            "State an engagement letter or a legal-aid letter.",
        )
    if lawyer.user.role == Role.DUTY_LAWYER and authority != Authority.LEGAL_AID:
        raise InvalidInput(
            "booking.authority_duty",
            "值班律师凭法律援助公函会见。",
            "A duty lawyer meets on a legal-aid letter.",
        )
    reference = (reference or "").strip()
    if not reference or len(reference) > 100:
        raise InvalidInput(
            "booking.authority_reference",
            "请填写委托书或法律援助公函的编号（不超过100字）。",
            "Give the letter's reference (at most 100 characters).",
        )
    return reference


def verified_lawyer(actor: User) -> Lawyer:
    """The actor's verified licence (PermissionDenied otherwise)."""
    lawyer = Lawyer.objects.filter(user=actor).select_related("user").first()
    if not access.is_lawyer(actor) or lawyer is None or lawyer.state != LawyerState.VERIFIED:
        raise PermissionDenied(
            "booking.lawyer_unverified",
            "只有执业证经核验的律师可以预约会见。",
            "Only a lawyer whose licence is verified books meetings.",
        )
    return lawyer


def _centre(centre: Organisation | None) -> Organisation:
    if centre is None or centre.kind != OrganisationKind.DETENTION_CENTRE:
        raise NotFound("booking.centre", "看守所不存在。", "No such detention centre.")
    return centre


def _overlapping(rows: QuerySet, starts_at: datetime, ends_at: datetime) -> QuerySet:
    return rows.filter(state__in=OCCUPYING, starts_at__lt=ends_at, ends_at__gt=starts_at)


def _conflict(code: str, zh: str, en: str, other: Booking, *, named: bool = True) -> Conflict:
    """A 409 with the slot that is in the way (and its number, unless it is
    another lawyer's booking)."""
    facts = {
        "starts_at": timezone.localtime(other.starts_at).isoformat(),
        "ends_at": timezone.localtime(other.ends_at).isoformat(),
    }
    if named:
        facts["booking"] = other.number
    return Conflict(code, zh, en, **facts)


# --- the lawyer's request -----------------------------------------------------------------


def request_booking(
    actor: User,
    *,
    centre: Organisation | None,
    name: str,
    id_number: str,
    starts_at: datetime,
    ends_at: datetime,
    authority: str,
    authority_reference: str,
    at: datetime | None = None,
) -> Booking:
    """A verified lawyer asks for a slot with a detainee of ``centre``.

    Everything the lawyer typed is checked first; then the detainee is looked up
    (``lookup.find_detainee``: audited on its own, a miss too); then, in one transaction under
    the lawyer's and the detainee's row locks, the slot is checked against
    their live bookings, the booking numbered, and the centre's 48-hour clock
    started.
    """
    lawyer = verified_lawyer(actor)
    centre = _centre(centre)
    at = when(at, "申请时间", "time of the request")
    starts_at, ends_at = aware(starts_at), aware(ends_at)
    check_slot(starts_at, ends_at, asked_at=at)
    reference = _check_authority(lawyer, authority, authority_reference)
    detainee = lookup.find_detainee(actor, centre, name=name, id_number=id_number)
    return _book(actor, lawyer, detainee, starts_at, ends_at, authority, reference, at)


@transaction.atomic
def _book(
    actor: User,
    lawyer: Lawyer,
    detainee: Detainee,
    starts_at: datetime,
    ends_at: datetime,
    authority: str,
    reference: str,
    at: datetime,
) -> Booking:
    lawyer = Lawyer.objects.select_for_update(of=("self",)).get(pk=lawyer.pk)
    if lawyer.state != LawyerState.VERIFIED:
        raise PermissionDenied(
            "booking.lawyer_unverified",
            "只有执业证经核验的律师可以预约会见。",
            "Only a lawyer whose licence is verified books meetings.",
        )
    detainee = (
        Detainee.objects.select_for_update(of=("self",))
        .select_related("centre")
        .get(pk=detainee.pk)
    )
    if detainee.released_at is not None:  # released since the look-up
        raise lookup.not_found()
    other = _overlapping(Booking.objects.filter(detainee=detainee), starts_at, ends_at).first()
    if other is not None:
        raise _conflict(
            "booking.detainee_busy",
            "该在押人员在此时段已有会见预约，请另选时间。",
            "The detainee has another meeting booked in this slot; choose another time.",
            other,
            named=other.lawyer_id == lawyer.pk,
        )
    other = _overlapping(Booking.objects.filter(lawyer=lawyer), starts_at, ends_at).first()
    if other is not None:
        raise _conflict(
            "booking.lawyer_busy",
            "您在此时段已有会见预约。",
            "You have another meeting booked in this slot.",
            other,
        )
    centre = detainee.centre
    year = timezone.localtime(at).year
    serial = next_serial(centre.pk, "meeting", year)
    booking = Booking.objects.create(
        centre=centre,
        number=f"{centre.code.upper()}-HJ-{year}-{serial:04d}",
        year=year,
        serial=serial,
        lawyer=lawyer,
        detainee=detainee,
        starts_at=starts_at,
        ends_at=ends_at,
        authority=authority,
        authority_reference=reference,
        requested_at=at,
    )
    clocks.open_deadline(
        actor,
        RULE,
        None,
        trigger_at=at,
        organisation=centre,
        subject=booking.subject,
        reference=booking.number,
    )
    record(
        actor,
        "meeting.requested",
        booking,
        data={
            "number": booking.number,
            "centre": centre.pk,
            "detainee": detainee.pk,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
            "authority": authority,
        },
    )
    emit("meetings.requested", booking=booking.pk, centre=centre.pk)
    return booking


# --- the centre's decisions ---------------------------------------------------------------


def locked(booking: Booking) -> Booking:
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("centre", "lawyer__user", "room")
        .get(pk=booking.pk)
    )


def require_staff(actor: User, booking: Booking) -> None:
    if not access.is_centre_staff(actor, booking.centre_id):
        raise PermissionDenied(
            "booking.staff_only",
            "只有该看守所的工作人员可以办理。",
            "Only the detention centre's staff do this.",
        )


#: the states' names in the Chinese messages
STATE_ZH = {
    BookingState.REQUESTED: "待确认",
    BookingState.CONFIRMED: "已确认",
    BookingState.REFUSED: "已拒绝",
    BookingState.HELD: "已会见",
    BookingState.CANCELLED: "已取消",
    BookingState.MISSED: "未进行",
}


def require_state(booking: Booking, *states: str) -> None:
    if booking.state not in states:
        raise Conflict(
            "booking.state",
            f"该预约当前状态为“{STATE_ZH[booking.state]}”，不能进行此操作。",
            f"The booking is {booking.state}; this cannot be done now.",
            state=booking.state,
        )


@transaction.atomic
def confirm_booking(
    actor: User, booking: Booking, *, room: Room | None, at: datetime | None = None
) -> Booking:
    """The centre arranges the meeting in a free room; its clock is met."""
    booking = locked(booking)
    require_staff(actor, booking)
    require_state(booking, BookingState.REQUESTED)
    at = max(when(at), booking.requested_at)
    if booking.starts_at <= at:
        raise Conflict(
            "booking.slot_passed",
            "预约时段已开始，不能再确认，请拒绝并说明理由。",
            "The slot has begun; it can no longer be confirmed — refuse it with reasons.",
        )
    if room is None or room.centre_id != booking.centre_id:
        raise NotFound("booking.room", "本所没有该会见室。", "No such room in the centre.")
    if not room.active:
        raise Conflict(
            "booking.room", "请选择本所在用的会见室。", "Choose one of the centre's rooms in use."
        )
    if booking.lawyer.state != LawyerState.VERIFIED:
        raise Conflict(
            "booking.lawyer_unverified",
            "该律师的执业证核验已被撤销。",
            "The lawyer's verification has been withdrawn.",
        )
    room = Room.objects.select_for_update(of=("self",)).get(pk=room.pk)
    busy = _overlapping(Booking.objects.filter(room=room), booking.starts_at, booking.ends_at)
    other = busy.exclude(pk=booking.pk).first()
    if other is not None:
        raise _conflict(
            "booking.room_busy",
            f"会见室“{room.name}”在此时段已安排会见。",
            f"The room {room.name} is taken in this slot.",
            other,
        )
    booking.state, booking.room = BookingState.CONFIRMED, room
    booking.decided_by, booking.decided_at = actor, at
    booking.save(update_fields=["state", "room", "decided_by", "decided_at"])
    clocks.meet_deadlines(actor, None, [RULE], at=at, subject=booking.subject)
    record(
        actor,
        "meeting.confirmed",
        booking,
        data={"number": booking.number, "room": room.pk},
    )
    emit("meetings.confirmed", booking=booking.pk, centre=booking.centre_id)
    return booking


@transaction.atomic
def refuse_booking(
    actor: User, booking: Booking, *, reason: str, at: datetime | None = None
) -> Booking:
    """The centre cannot arrange the meeting; the reasons are told to the lawyer."""
    booking = locked(booking)
    require_staff(actor, booking)
    reason = reason_text(reason, required=True)
    require_state(booking, BookingState.REQUESTED)
    at = max(when(at), booking.requested_at)
    _close_refused(actor, booking, reason, at)
    return booking


def _close_refused(actor: User | None, booking: Booking, reason: str, at: datetime) -> None:
    booking.state, booking.refusal_reason = BookingState.REFUSED, reason
    booking.decided_by, booking.decided_at = actor, at
    booking.save(update_fields=["state", "refusal_reason", "decided_by", "decided_at"])
    clocks.cancel_deadlines(actor, None, [RULE], reason=reason, subject=booking.subject)
    record(actor, "meeting.refused", booking, reason=reason, data={"number": booking.number})
    emit("meetings.refused", booking=booking.pk, centre=booking.centre_id)


@transaction.atomic
def cancel_booking(
    actor: User, booking: Booking, *, reason: str = "", at: datetime | None = None
) -> Booking:
    """The lawyer withdraws a booking before it starts."""
    booking = locked(booking)
    if booking.lawyer.user_id != actor.pk:
        raise PermissionDenied(
            "booking.lawyer_only",
            "只有预约的律师可以取消。",
            "Only the lawyer who booked cancels.",
        )
    reason = reason_text(reason, required=False)
    require_state(booking, BookingState.REQUESTED, BookingState.CONFIRMED)
    at = max(when(at), booking.requested_at)
    if booking.starts_at <= at:
        raise Conflict(
            "booking.started",
            "会见时段已开始，不能取消。",
            "The meeting's slot has begun; it can no longer be cancelled.",
        )
    booking.state, booking.cancelled_at, booking.cancel_reason = (
        BookingState.CANCELLED,
        at,
        reason[:500],
    )
    booking.save(update_fields=["state", "cancelled_at", "cancel_reason"])
    clocks.cancel_deadlines(
        actor, None, [RULE], reason=reason or "cancelled by the lawyer", subject=booking.subject
    )
    record(actor, "meeting.cancelled", booking, reason=reason, data={"number": booking.number})
    emit("meetings.cancelled", booking=booking.pk, centre=booking.centre_id)
    return booking


def close_for_release(actor: User, detainee: Detainee, at: datetime) -> list[Booking]:
    """A detainee released: their live bookings are refused (inside the caller's
    transaction), their clocks cancelled. A meeting in progress is left to end."""
    closed = []
    rows = Booking.objects.select_for_update(of=("self",)).filter(
        detainee=detainee, state__in=[BookingState.REQUESTED, BookingState.CONFIRMED]
    )
    for booking in rows:
        _close_refused(actor, booking, "在押人员已出所 / the detainee was released", at)
        closed.append(booking)
    return closed
