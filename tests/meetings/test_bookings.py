"""Bookings: the lawyer's request and what it must state, the detainee look-up,
the conflicts, the centre's decisions and the 48-hour ``lawyer.meeting`` clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from casecenter.audit.models import AuditEntry
from casecenter.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from casecenter.meetings import detainees, lookup, services
from casecenter.meetings.models import Booking, BookingState
from casecenter.supervision import selectors as supervision
from casecenter.supervision import subjects
from casecenter.supervision.models import Alert, Deadline, DeadlineState
from casecenter.supervision.worker import run_once
from tests.conftest import valid_id
from tests.meetings.conftest import DETAINEE_ID, OTHER_ID, slot

pytestmark = pytest.mark.django_db


def clock(booking: Booking) -> Deadline:
    return Deadline.objects.get(rule_id="lawyer.meeting", subject=f"booking:{booking.pk}")


def audit_count() -> int:
    return AuditEntry.objects.count()


# --- the request ------------------------------------------------------------------------


def test_a_request_is_numbered_per_centre_and_year_and_starts_the_centres_48_hour_clock(
    book, centres
):
    first = book()
    second = book(when=slot(days=2))
    year = timezone.localtime(first.requested_at).year
    assert first.number == f"HD-KSS-HJ-{year}-0001" and second.number == f"HD-KSS-HJ-{year}-0002"
    assert first.state == BookingState.REQUESTED and first.centre == centres["centre"]
    deadline = clock(first)
    assert deadline.case_id is None and deadline.organisation == centres["centre"]
    assert deadline.reference == first.number and deadline.state == DeadlineState.RUNNING
    assert deadline.trigger_at == first.requested_at
    assert deadline.due_at - deadline.trigger_at == timedelta(hours=48)
    assert deadline.rule.basis == "CPL Art. 39"
    assert subjects.page(deadline) == f"/meetings/{first.pk}/"  # where its alerts lead


def test_the_request_and_the_look_up_are_audited_without_the_detainees_name_or_number(
    book, detainee
):
    booking = book()
    matched = AuditEntry.objects.get(action="meeting.detainee_matched")
    assert matched.object_id == str(detainee.pk)
    requested = AuditEntry.objects.get(action="meeting.requested")
    assert requested.data["detainee"] == detainee.pk and requested.object_id == str(booking.pk)
    for entry in AuditEntry.objects.all():
        text = f"{entry.data} {entry.reason}"
        assert "张三" not in text and DETAINEE_ID not in text


@pytest.mark.parametrize(
    ("when", "code"),
    [
        (slot(minutes=10), "booking.slot_length"),
        (slot(minutes=121), "booking.slot_length"),
        (slot(days=-1), "booking.slot_past"),
        (slot(days=31), "booking.slot_far"),
        (slot(hour=7, minute=30), "booking.slot_hours"),
        (slot(hour=19, minute=30), "booking.slot_hours"),  # ends 20:30
        (slot(hour=23, minute=30), "booking.slot_hours"),  # runs past midnight
        (tuple(reversed(slot())), "booking.slot_order"),
    ],
)
def test_a_slot_outside_the_rules_is_refused_and_nothing_is_written(book, when, code):
    book(when=slot(days=3))  # the lawyer is verified and has booked once
    before = audit_count()
    with pytest.raises(InvalidInput) as caught:
        book(when=when)
    assert caught.value.code == code
    assert Booking.objects.count() == 1 and audit_count() == before


def test_a_slot_at_the_edges_of_the_day_is_taken(book):
    assert book(when=slot(hour=8, minutes=15)).state == BookingState.REQUESTED
    assert book(when=slot(hour=18, minutes=120)).state == BookingState.REQUESTED


@pytest.mark.parametrize(
    ("key", "authority", "reference", "code"),
    [
        ("duty", "engagement", "援字001", "booking.authority_duty"),
        ("lawyer", "power_of_attorney", "委字001", "booking.authority"),
        ("lawyer", "engagement", "   ", "booking.authority_reference"),
        ("lawyer", "engagement", "x" * 101, "booking.authority_reference"),
    ],
)
def test_the_authority_of_cpl_article_39_must_be_stated(
    people, centres, detainee, verified, key, authority, reference, code
):
    verified(key)
    before = audit_count()
    with pytest.raises(InvalidInput) as caught:
        services.request_booking(
            people[key],
            centre=centres["centre"],
            name="张三",
            id_number=DETAINEE_ID,
            starts_at=slot()[0],
            ends_at=slot()[1],
            authority=authority,
            authority_reference=reference,
        )
    assert caught.value.code == code
    assert not Booking.objects.exists() and audit_count() == before


def test_a_duty_lawyer_books_on_a_legal_aid_letter(book):
    booking = book("duty", authority="legal_aid")
    assert booking.authority == "legal_aid" and booking.lawyer.user.username == "zhengli"


# --- the detainee look-up -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "id_number"),
    [
        ("张四", DETAINEE_ID),  # right number, wrong name
        ("张三", valid_id("19700101", "111")),  # right name, number of nobody held
        ("李四", OTHER_ID),  # held — at another centre
    ],
)
def test_a_detainee_not_matched_gets_one_answer_whatever_is_wrong_and_the_miss_is_audited(
    book, people, name, id_number
):
    detainees.register_detainee(
        people["other_staff"],
        name="李四",
        id_number=OTHER_ID,
        handling_organisation="朝阳分局",
        case_number="CY-1",
    )
    book(when=slot(days=3))
    with pytest.raises(NotFound) as caught:
        book(name=name, id_number=id_number)
    assert caught.value.code == "booking.detainee_not_found"
    assert caught.value.message_zh == "该看守所没有与所填姓名和身份证号码相符的在押人员。"
    assert Booking.objects.count() == 1
    miss = AuditEntry.objects.get(action="meeting.detainee_not_matched")
    assert miss.actor_id == people["lawyer"].pk and name not in str(miss.data)


def test_names_are_matched_as_people_write_them(book):
    assert book(name=" 张 三 ").state == BookingState.REQUESTED


def test_a_released_detainee_is_not_found_any_more(book, people, detainee):
    detainees.release_detainee(people["staff"], detainee)
    with pytest.raises(NotFound) as caught:
        book()
    assert caught.value.code == "booking.detainee_not_found"


def test_a_malformed_id_number_is_bad_input_and_not_a_look_up(book):
    book(when=slot(days=3))
    before = audit_count()
    with pytest.raises(InvalidInput) as caught:
        book(id_number=DETAINEE_ID[:-1] + ("0" if DETAINEE_ID[-1] != "0" else "1"))
    assert caught.value.code == "id_number.check_digit"
    assert audit_count() == before


def test_a_lawyer_probing_numbers_is_stopped_after_ten_misses_in_an_hour(book):
    book(when=slot(days=3))
    for n in range(lookup.LOOKUP_LIMIT):
        with pytest.raises(NotFound):
            book(id_number=valid_id("19700101", f"{n:03d}"))
    with pytest.raises(PermissionDenied) as caught:
        book()  # even the right name and number now
    assert caught.value.code == "booking.lookup_limit"
    assert Booking.objects.count() == 1


def test_booking_at_an_organisation_that_is_not_a_detention_centre_is_not_found(
    people, centres, verified, detainee
):
    verified("lawyer")
    with pytest.raises(NotFound):
        services.request_booking(
            people["lawyer"],
            centre=centres["station"],
            name="张三",
            id_number=DETAINEE_ID,
            starts_at=slot()[0],
            ends_at=slot()[1],
            authority="engagement",
            authority_reference="委字001",
        )


# --- conflicts ----------------------------------------------------------------------------


def test_a_detainee_has_one_meeting_at_a_time(book):
    first = book("lawyer", when=slot(hour=10, minutes=60))
    with pytest.raises(Conflict) as caught:
        book("duty", when=slot(hour=10, minute=30, minutes=60))
    assert caught.value.code == "booking.detainee_busy" and caught.value.status == 409
    # the slot in the way, without the number of another lawyer's booking
    assert caught.value.facts == {
        "starts_at": first.starts_at.isoformat(),
        "ends_at": first.ends_at.isoformat(),
    }
    assert book("duty", when=slot(hour=11, minutes=30)).state == BookingState.REQUESTED


def test_a_lawyer_has_one_meeting_at_a_time(book, other_detainee):
    first = book("lawyer", when=slot(hour=14, minutes=90))
    with pytest.raises(Conflict) as caught:
        book("lawyer", when=slot(hour=15), name="李四", id_number=OTHER_ID)
    assert caught.value.code == "booking.lawyer_busy"
    assert caught.value.facts["booking"] == first.number  # their own, so named
    assert Booking.objects.count() == 1


def test_a_refused_or_cancelled_booking_frees_its_slot(book, people):
    first = book("lawyer")
    services.refuse_booking(people["staff"], first, reason="当日提审")
    second = book("duty")
    services.cancel_booking(people["duty"], second)
    assert book("lawyer2").state == BookingState.REQUESTED


def test_a_room_has_one_meeting_at_a_time(book, people, rooms, other_detainee):
    first = book("lawyer", when=slot(hour=9))
    second = book("duty", when=slot(hour=9, minute=30), name="李四", id_number=OTHER_ID)
    services.confirm_booking(people["staff"], first, room=rooms["one"])
    with pytest.raises(Conflict) as caught:
        services.confirm_booking(people["staff"], second, room=rooms["one"])
    assert caught.value.code == "booking.room_busy"
    second.refresh_from_db()
    assert second.state == BookingState.REQUESTED and second.room is None
    assert clock(second).state == DeadlineState.RUNNING
    services.confirm_booking(people["staff"], second, room=rooms["two"])
    assert Booking.objects.filter(state=BookingState.CONFIRMED).count() == 2


# --- the centre's decisions and the clock -----------------------------------------------


def test_confirming_assigns_a_room_and_meets_the_clock(book, people, rooms):
    booking = book()
    services.confirm_booking(people["staff"], booking, room=rooms["one"])
    booking.refresh_from_db()
    assert booking.state == BookingState.CONFIRMED and booking.room == rooms["one"]
    assert booking.decided_by == people["staff"] and booking.decided_at is not None
    assert clock(booking).state == DeadlineState.MET


@pytest.mark.parametrize("who", ["other_staff", "lawyer", "officer", "judge", "admin"])
def test_only_the_centres_staff_decide(book, people, rooms, who):
    booking = book()
    before = audit_count()
    with pytest.raises(PermissionDenied):
        services.confirm_booking(people[who], booking, room=rooms["one"])
    with pytest.raises(PermissionDenied):
        services.refuse_booking(people[who], booking, reason="不行")
    booking.refresh_from_db()
    assert booking.state == BookingState.REQUESTED and audit_count() == before


def test_a_room_of_another_centre_or_out_of_use_is_refused(book, people, rooms):
    booking = book()
    rooms["two"].active = False
    rooms["two"].save()
    for room, refusal in ((rooms["theirs"], NotFound), (None, NotFound), (rooms["two"], Conflict)):
        with pytest.raises(refusal) as caught:
            services.confirm_booking(people["staff"], booking, room=room)
        assert caught.value.code == "booking.room"
    assert clock(booking).state == DeadlineState.RUNNING


def test_refusing_needs_reasons_and_cancels_the_clock(book, people):
    booking = book()
    with pytest.raises(InvalidInput):
        services.refuse_booking(people["staff"], booking, reason="")
    services.refuse_booking(people["staff"], booking, reason="在押人员当日提讯，请另约")
    booking.refresh_from_db()
    assert booking.state == BookingState.REFUSED
    assert booking.refusal_reason == "在押人员当日提讯，请另约"
    assert clock(booking).state == DeadlineState.CANCELLED
    with pytest.raises(Conflict) as caught:
        services.refuse_booking(people["staff"], booking, reason="again")
    assert caught.value.code == "booking.state"


def test_the_lawyer_cancels_before_the_start_and_the_clock_is_cancelled(book, people, rooms):
    booking = book()
    with pytest.raises(PermissionDenied):
        services.cancel_booking(people["duty"], booking)  # not theirs
    services.cancel_booking(people["lawyer"], booking, reason="已另行会见")
    booking.refresh_from_db()
    assert booking.state == BookingState.CANCELLED and booking.cancel_reason == "已另行会见"
    assert clock(booking).state == DeadlineState.CANCELLED
    confirmed = book(when=slot(days=2))
    services.confirm_booking(people["staff"], confirmed, room=rooms["one"])
    services.cancel_booking(people["lawyer"], confirmed)
    assert clock(confirmed).state == DeadlineState.MET  # the centre did arrange it in time


def test_a_booking_whose_slot_has_begun_is_neither_cancelled_nor_confirmed(book, people, rooms):
    booking = book(when=slot(days=-1), at=timezone.now() - timedelta(days=3))
    with pytest.raises(Conflict) as cancelled:
        services.cancel_booking(people["lawyer"], booking)
    assert cancelled.value.code == "booking.started"
    with pytest.raises(Conflict) as confirmed:
        services.confirm_booking(people["staff"], booking, room=rooms["one"])
    assert confirmed.value.code == "booking.slot_passed"


def test_a_clock_never_answered_breaches_and_alerts_the_centres_staff_only(book, people):
    now = timezone.now()
    booking = book(at=now - timedelta(hours=50))
    run_once()
    deadline = clock(booking)
    assert deadline.state == DeadlineState.BREACHED
    alert = Alert.objects.get(deadline=deadline, kind="breach")
    assert alert.organisation == booking.centre and booking.number in alert.title_zh
    assert supervision.visible_alerts(people["staff"]).filter(pk=alert.pk).exists()
    for who in ("other_staff", "lawyer", "officer", "judge"):
        assert not supervision.visible_alerts(people[who]).filter(pk=alert.pk).exists()


def test_the_clocks_are_on_the_centres_deadline_review_only(book, people):
    deadline = clock(book())
    assert list(supervision.open_clocks(people["staff"])) == [deadline]
    for who in ("other_staff", "lawyer", "officer", "judge"):
        assert deadline not in supervision.open_clocks(people[who])


def test_the_clock_warns_two_hours_before_it_is_due(book):
    booking = book(at=timezone.now() - timedelta(hours=47))
    run_once()
    assert Alert.objects.filter(deadline=clock(booking), kind="warning").exists()
    assert clock(booking).state == DeadlineState.RUNNING


def test_a_confirmation_after_48_hours_closes_the_clock_as_breached(book, people, rooms):
    booking = book(at=timezone.now() - timedelta(hours=49))
    services.confirm_booking(people["staff"], booking, room=rooms["one"])
    deadline = clock(booking)
    assert deadline.state == DeadlineState.BREACHED and deadline.closed_at is not None


def test_releasing_a_detainee_refuses_their_live_bookings(book, people, rooms, detainee):
    requested = book()
    confirmed = book("duty", when=slot(days=2))
    services.confirm_booking(people["staff"], confirmed, room=rooms["one"])
    detainees.release_detainee(people["staff"], detainee)
    for booking in (requested, confirmed):
        booking.refresh_from_db()
        assert booking.state == BookingState.REFUSED
        assert "released" in booking.refusal_reason
    assert clock(requested).state == DeadlineState.CANCELLED
