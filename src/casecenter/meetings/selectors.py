"""Reads of remote meetings, each with its need-to-know filter (``access``).

A booking, a lawyer's licence or a detainee one may not know is NotFound — the
same answer as one that does not exist. Lists show detainees' names masked and
are not audited row by row; every read of a detainee's own data (a booking's
page, the detainee's record) goes through ``read_detainee``, which writes an
audit entry saying who read what and on which basis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from casecenter import law
from casecenter.accounts.models import Organisation, OrganisationKind, User
from casecenter.audit.services import record
from casecenter.errors import NotFound
from casecenter.meetings import access, services
from casecenter.meetings.models import Booking, BookingState, Detainee, Lawyer, LawyerState, Room
from casecenter.supervision.models import Deadline


def _booking_not_found() -> NotFound:
    return NotFound("booking.not_found", "会见预约不存在。", "No such booking.")


# --- lawyers ------------------------------------------------------------------------------


def own_licence(user: User) -> Lawyer | None:
    """The user's own licence registration (None when there is none)."""
    return Lawyer.objects.filter(user=user).select_related("organisation").first()


def lawyers(user: User, state: str = "") -> list[Lawyer]:
    """The licences a verifier decides on, those waiting first."""
    if not access.may_verify(user):
        raise NotFound("lawyer.not_found", "律师不存在。", "No such lawyer.")
    rows = Lawyer.objects.select_related("user", "organisation", "verified_by", "refused_by")
    if state:
        rows = rows.filter(state=state)
    order = {LawyerState.PENDING: 0, LawyerState.VERIFIED: 1, LawyerState.REFUSED: 2}
    return sorted(rows, key=lambda x: (order.get(x.state, 3), -x.registered_at.timestamp()))


def get_lawyer(user: User, pk: int) -> Lawyer:
    lawyer = Lawyer.objects.select_related("user", "organisation").filter(pk=pk).first()
    if lawyer is None or not (access.may_verify(user) or lawyer.user_id == user.pk):
        raise NotFound("lawyer.not_found", "律师不存在。", "No such lawyer.")
    return lawyer


# --- centres, rooms, detainees ----------------------------------------------------------


def centres() -> QuerySet[Organisation]:
    """Where a lawyer may book: every detention centre."""
    return Organisation.objects.filter(kind=OrganisationKind.DETENTION_CENTRE).order_by("name")


def get_centre(pk: int) -> Organisation:
    centre = centres().filter(pk=pk).first()
    if centre is None:
        raise NotFound("booking.centre", "看守所不存在。", "No such detention centre.")
    return centre


def rooms(user: User) -> QuerySet[Room]:
    """The rooms of the staff member's centre (none for anyone else)."""
    centre = access.staff_centre(user)
    return Room.objects.filter(centre=centre) if centre else Room.objects.none()


def get_room(user: User, pk: int) -> Room:
    room = rooms(user).filter(pk=pk).first()
    if room is None:
        raise NotFound("room.not_found", "会见室不存在。", "No such room.")
    return room


def centre_detainees(user: User, *, held_only: bool = False) -> QuerySet[Detainee]:
    """The staff member's centre's detainees (held first, newest first)."""
    centre = access.staff_centre(user)
    if centre is None:
        raise NotFound("detainee.not_found", "在押人员不存在。", "No such detainee.")
    rows = Detainee.objects.filter(centre=centre)
    if held_only:
        rows = rows.filter(released_at__isnull=True)
    return rows.order_by(F("released_at").asc(nulls_first=True), "-received_at", "-pk")


def get_detainee(user: User, pk: int) -> Detainee:
    """A detainee of the staff member's centre, for a write (not audited: the
    write audits itself)."""
    detainee = Detainee.objects.filter(pk=pk).first()
    if detainee is None or not access.is_centre_staff(user, detainee.centre_id):
        raise NotFound("detainee.not_found", "在押人员不存在。", "No such detainee.")
    return detainee


@dataclass(frozen=True)
class DetaineeView:
    """What a reader may see of a detainee: in full for the centre's staff,
    masked for a lawyer with a booking."""

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


def read_detainee(
    user: User, detainee: Detainee, *, booking: Booking | None = None
) -> DetaineeView:
    """The detainee as ``user`` may see them, audited (``meeting.detainee_read``).

    Their centre's staff read the record in full; a lawyer only through one of
    their own bookings of that detainee, masked; anyone else gets NotFound.
    """
    if access.is_centre_staff(user, detainee.centre_id):
        basis, masked = "centre_staff", False
    elif booking is not None and booking.detainee_id == detainee.pk and _own(user, booking):
        basis, masked = "own_booking", True
    else:
        raise NotFound("detainee.not_found", "在押人员不存在。", "No such detainee.")
    with transaction.atomic():
        record(
            user,
            "meeting.detainee_read",
            detainee,
            data={"basis": basis, "booking": booking.pk if booking else None, "masked": masked},
        )
    if masked:
        return DetaineeView(
            id=detainee.pk,
            name=law.mask_name(detainee.name),
            id_number=detainee.id_number_masked,
            sex="",
            birth_date=None,
            handling_organisation="",
            case_number="",
            received_at=None,
            released_at=None,
            in_custody=detainee.in_custody,
            masked=True,
        )
    return DetaineeView(
        id=detainee.pk,
        name=detainee.name,
        id_number=detainee.id_number,
        sex=detainee.sex,
        birth_date=detainee.birth_date,
        handling_organisation=detainee.handling_organisation,
        case_number=detainee.case_number,
        received_at=detainee.received_at,
        released_at=detainee.released_at,
        in_custody=detainee.in_custody,
        masked=False,
    )


# --- bookings -----------------------------------------------------------------------------


def _own(user: User, booking: Booking) -> bool:
    return access.is_lawyer(user) and booking.lawyer.user_id == user.pk


def may_read_booking(user: User, booking: Booking) -> bool:
    return access.is_centre_staff(user, booking.centre_id) or _own(user, booking)


def visible_bookings(user: User) -> QuerySet[Booking]:
    """The lawyer's own bookings, or the staff member's centre's; none for others."""
    rows = Booking.objects.select_related("centre", "lawyer__user", "lawyer__organisation", "room")
    centre = access.staff_centre(user)
    if centre is not None:
        return rows.filter(centre=centre)
    if access.is_lawyer(user):
        return rows.filter(lawyer__user=user)
    return rows.none()


def get_booking(user: User, pk: int) -> Booking:
    """A booking ``user`` may know (NotFound otherwise). Holds no personal data
    of its own: the detainee is read through ``read_detainee``."""
    booking = visible_bookings(user).select_related("detainee").filter(pk=pk).first()
    if booking is None:
        raise _booking_not_found()
    return booking


def clocks_of(bookings: list[Booking]) -> dict[int, Deadline]:
    """Each booking's ``lawyer.meeting`` clock (the latest), by booking id."""
    subjects = {b.subject: b.pk for b in bookings}
    found: dict[int, Deadline] = {}
    rows = Deadline.objects.filter(rule_id=services.RULE, subject__in=list(subjects)).order_by("pk")
    for deadline in rows.select_related("rule"):
        found[subjects[deadline.subject]] = deadline
    return found


def booking_clocks(booking: Booking) -> list[Deadline]:
    """The booking's ``lawyer.meeting`` clocks, oldest first (shown on its page,
    whose read is checked by ``get_booking``)."""
    rows = Deadline.objects.filter(rule_id=services.RULE, subject=booking.subject)
    return list(rows.select_related("rule").order_by("pk"))


@dataclass
class Row:
    """A booking in a list: the detainee's name masked, and its clock."""

    booking: Booking
    detainee_name: str
    clock: Deadline | None


def rows(bookings: list[Booking]) -> list[Row]:
    clocks = clocks_of(bookings)
    return [
        Row(booking=b, detainee_name=law.mask_name(b.detainee.name), clock=clocks.get(b.pk))
        for b in bookings
    ]


@dataclass
class Desk:
    """The centre's view: requests to decide (most urgent clock first), today's
    meetings, and the rest recently."""

    requests: list[Row]
    today: list[Row]
    recent: list[Row]


def centre_desk(user: User, *, now: datetime | None = None) -> Desk:
    now = now or timezone.now()
    bookings = visible_bookings(user).select_related("detainee")
    requests = rows(list(bookings.filter(state=BookingState.REQUESTED)))
    requests.sort(key=lambda r: (r.clock.due_at if r.clock else r.booking.starts_at, r.booking.pk))
    day = timezone.localtime(now).date()
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    today = rows(
        list(
            bookings.filter(
                starts_at__gte=start,
                starts_at__lt=start + timedelta(days=1),
                state__in=[BookingState.CONFIRMED, BookingState.HELD, BookingState.MISSED],
            ).order_by("starts_at")
        )
    )
    shown = {r.booking.pk for r in requests + today}
    recent = rows(
        [b for b in bookings.order_by("-requested_at")[: 50 + len(shown)] if b.pk not in shown][:50]
    )
    return Desk(requests=requests, today=today, recent=recent)


def lawyer_bookings(user: User, *, now: datetime | None = None) -> tuple[list[Row], list[Row]]:
    """The lawyer's upcoming bookings (soonest first) and past ones (latest first)."""
    now = now or timezone.now()
    bookings = visible_bookings(user).select_related("detainee")
    live = [BookingState.REQUESTED, BookingState.CONFIRMED, BookingState.HELD]
    upcoming = bookings.filter(ends_at__gte=now, state__in=live).order_by("starts_at")
    past = bookings.exclude(pk__in=upcoming.values("pk")).order_by("-starts_at")[:100]
    return rows(list(upcoming)), rows(list(past))
