"""The meeting itself: started and ended by the centre's staff, or missed; its
video session opened with recording off — never recorded (CPL Art. 39)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from casecenter.audit.models import AuditEntry
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.meetings import services, sessions, video
from casecenter.meetings.models import Booking, BookingState
from tests.meetings.conftest import slot

pytestmark = pytest.mark.django_db

#: what the test backends below were asked, and what they closed
ASKED: list[video.SessionRequest] = []
CLOSED: list[str] = []


class RecordingBackend:
    """A video system that records whatever it is asked."""

    def open_session(self, request: video.SessionRequest) -> video.Session:
        ASKED.append(request)
        return video.Session("vs-rec", "x://lawyer", "x://centre", recording=True)

    def close_session(self, session_id: str) -> None:
        CLOSED.append(session_id)


class BrokenBackend:
    def open_session(self, request: video.SessionRequest) -> video.Session:
        raise ConnectionError("gateway timeout")

    def close_session(self, session_id: str) -> None:
        CLOSED.append(session_id)


@pytest.fixture(autouse=True)
def _forget():
    ASKED.clear()
    CLOSED.clear()


YESTERDAY = slot(days=-1, hour=10)
#: a moment inside yesterday's slot, as staff enter it afterwards
IN_SLOT = YESTERDAY[0] + timedelta(minutes=2)


@pytest.fixture
def confirmed(book, people, rooms):
    """Yesterday's 10:00 slot, booked three days ago and confirmed the next day."""
    booking = book(when=YESTERDAY, at=timezone.now() - timedelta(days=3))
    return services.confirm_booking(
        people["staff"], booking, room=rooms["one"], at=timezone.now() - timedelta(days=2)
    )


def test_starting_opens_a_session_with_recording_off_and_ending_closes_it(
    confirmed, people, caplog
):
    with caplog.at_level(logging.INFO, logger="casecenter.meetings.video"):
        sessions.start_meeting(people["staff"], confirmed, at=IN_SLOT)
    confirmed.refresh_from_db()
    assert confirmed.state == BookingState.HELD and confirmed.in_progress
    assert confirmed.started_at is not None and confirmed.marked_by == people["staff"]
    assert confirmed.lawyer_link.startswith(f"casecenter-video://{confirmed.video_session}/")
    assert confirmed.centre_link.startswith("casecenter-video://")
    assert confirmed.lawyer_link != confirmed.centre_link
    assert len(confirmed.lawyer_link.rsplit("token=", 1)[1]) >= 32  # unguessable
    opened = [r.getMessage() for r in caplog.records if r.name == "casecenter.meetings.video"]
    assert opened and "recording off" in opened[0] and confirmed.number in opened[0]
    assert "张三" not in opened[0]
    # the join links are secrets: encrypted at rest
    with connection.cursor() as cursor:
        cursor.execute("SELECT lawyer_link FROM meetings_booking WHERE id = %s", [confirmed.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("v1:") and "token" not in stored

    with caplog.at_level(logging.INFO, logger="casecenter.meetings.video"):
        sessions.end_meeting(people["staff"], confirmed)
    confirmed.refresh_from_db()
    assert confirmed.ended_at is not None and not confirmed.in_progress
    assert confirmed.lawyer_link == "" and confirmed.centre_link == ""
    closed = [r.getMessage() for r in caplog.records if "closed" in r.getMessage()]
    assert closed == [f"video session {confirmed.video_session} closed"]
    assert [
        e.action for e in AuditEntry.objects.filter(action__in=["meeting.started", "meeting.ended"])
    ] == [
        "meeting.started",
        "meeting.ended",
    ]


def test_a_video_system_that_would_record_is_refused_and_the_meeting_does_not_start(
    confirmed, people, settings
):
    settings.CASECENTER_VIDEO_BACKEND = "tests.meetings.test_sessions.RecordingBackend"
    with pytest.raises(sessions.VideoRefused) as caught:
        sessions.start_meeting(people["staff"], confirmed, at=IN_SLOT)
    assert caught.value.code == "video.recording" and caught.value.status == 502
    assert "CPL Art. 39" in caught.value.message_en
    assert [r.recording for r in ASKED] == [False]  # it was asked for no recording
    assert CLOSED == ["vs-rec"]  # and the session it opened anyway is closed again
    confirmed.refresh_from_db()
    assert confirmed.state == BookingState.CONFIRMED and confirmed.started_at is None
    assert confirmed.video_session == "" and confirmed.lawyer_link == ""
    assert not AuditEntry.objects.filter(action="meeting.started").exists()


def test_a_video_system_that_fails_leaves_the_meeting_confirmed(confirmed, people, settings):
    settings.CASECENTER_VIDEO_BACKEND = "tests.meetings.test_sessions.BrokenBackend"
    with pytest.raises(sessions.VideoRefused) as caught:
        sessions.start_meeting(people["staff"], confirmed, at=IN_SLOT)
    assert caught.value.code == "video.unavailable"
    confirmed.refresh_from_db()
    assert confirmed.state == BookingState.CONFIRMED


def test_a_booking_has_no_place_for_a_recording():
    names = {f.name for f in Booking._meta.get_fields()}
    assert not {n for n in names if any(w in n for w in ("record", "audio", "transcript", "file"))}
    assert video.SessionRequest("x", "t", timezone.now(), timezone.now()).recording is False


def test_the_start_must_fall_in_the_slot_and_only_the_centres_staff_record_it(confirmed, people):
    for who in ("other_staff", "lawyer", "officer"):
        with pytest.raises(PermissionDenied):
            sessions.start_meeting(people[who], confirmed, at=IN_SLOT)
    with pytest.raises(InvalidInput) as early:
        sessions.start_meeting(people["staff"], confirmed, at=YESTERDAY[0] - timedelta(minutes=31))
    assert early.value.code == "booking.start_outside"
    with pytest.raises(InvalidInput) as future:
        sessions.start_meeting(people["staff"], confirmed, at=timezone.now() + timedelta(hours=1))
    assert future.value.code == "meeting.future"
    confirmed.refresh_from_db()
    assert confirmed.state == BookingState.CONFIRMED


def test_a_meeting_cannot_end_before_it_started_nor_twice(confirmed, people):
    started = sessions.start_meeting(people["staff"], confirmed, at=IN_SLOT)
    with pytest.raises(InvalidInput):
        sessions.end_meeting(people["staff"], started, at=started.started_at - timedelta(minutes=1))
    sessions.end_meeting(people["staff"], started)
    with pytest.raises(Conflict) as again:
        sessions.end_meeting(people["staff"], started)
    assert again.value.code == "booking.ended"


def test_a_started_meeting_is_not_cancelled_by_the_lawyer(confirmed, people):
    sessions.start_meeting(people["staff"], confirmed, at=IN_SLOT)
    with pytest.raises(Conflict):
        services.cancel_booking(people["lawyer"], confirmed)


def test_a_confirmed_meeting_is_missed_only_once_its_slot_has_begun(book, people, rooms, confirmed):
    later = book(when=slot(days=2))
    services.confirm_booking(people["staff"], later, room=rooms["one"])
    with pytest.raises(Conflict) as early:
        sessions.mark_missed(people["staff"], later)
    assert early.value.code == "booking.not_begun"
    sessions.mark_missed(people["staff"], confirmed, reason="律师未接入")
    confirmed.refresh_from_db()
    assert confirmed.state == BookingState.MISSED and confirmed.missed_reason == "律师未接入"
    with pytest.raises(Conflict):
        sessions.start_meeting(people["staff"], confirmed, at=IN_SLOT)
