"""The meeting itself: the centre's staff start a confirmed meeting, end it, or
mark it missed — one transaction each, audited.

Starting asks the video system (``video.py``) for a session with recording off
(CPL Art. 39: a lawyer's meeting is not monitored). A backend that fails, or
that says it records, is refused (``VideoRefused``, 502): the meeting does not
start and nothing is written; a session it opened is closed again. The moments
staff record may be in the past (entered afterwards) but not in the future.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction

from casecenter.accounts.models import User
from casecenter.audit.services import record
from casecenter.errors import Conflict, DomainError, InvalidInput
from casecenter.meetings import video
from casecenter.meetings.models import Booking, BookingState
from casecenter.meetings.services import locked, reason_text, require_staff, require_state, when
from casecenter.meetings.slots import EARLY_START
from casecenter.outbox.services import emit

log = logging.getLogger("casecenter.meetings")


class VideoRefused(DomainError):
    """The video system failed, or would record the meeting: it does not start.
    Not the user's fault, so a 502 (the upstream system), never a 500."""

    status = 502


def _open_session(booking: Booking) -> video.Session:
    """Ask the video system for the session, recording off; refuse one that records."""
    request = video.SessionRequest(
        reference=booking.number,
        terminal=booking.room.terminal or booking.room.code,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        recording=False,
    )
    backend = video.backend()
    try:
        session = backend.open_session(request)
    except Exception as exc:  # whatever the adapter raises: the meeting cannot start
        log.warning("video session for %s not opened: %s", booking.number, exc)
        raise VideoRefused(
            "video.unavailable",
            "视频会见系统暂不可用，会见未开始。",
            "The video system is unavailable; the meeting has not started.",
        ) from exc
    if session.recording is not False:
        close_quietly(backend, session.session_id)
        raise VideoRefused(
            "video.recording",
            "视频系统将对会见录音录像，律师会见依法不被监听，会见未开始。",
            "The video system would record the meeting, which CPL Art. 39 forbids; "
            "the meeting has not started.",
        )
    return session


def close_quietly(backend: video.VideoBackend, session_id: str) -> None:
    """Close a session; a failure is logged (the session times out on its own)."""
    try:
        backend.close_session(session_id)
    except Exception as exc:
        log.warning("video session %s not closed: %s", session_id, exc)


@transaction.atomic
def start_meeting(actor: User, booking: Booking, *, at: datetime | None = None) -> Booking:
    """The meeting begins: the video session is opened with recording off."""
    booking = locked(booking)
    require_staff(actor, booking)
    require_state(booking, BookingState.CONFIRMED)
    at = when(at, "开始时间", "start")
    if not booking.starts_at - EARLY_START <= at <= booking.ends_at:
        raise InvalidInput(
            "booking.start_outside",
            "开始时间须在预约时段内（最多提前30分钟）。",
            "A meeting starts within its slot (at most 30 minutes early).",
        )
    session = _open_session(booking)
    try:
        with transaction.atomic():
            booking.state, booking.started_at, booking.marked_by = BookingState.HELD, at, actor
            booking.video_session = session.session_id
            booking.lawyer_link, booking.centre_link = session.lawyer_link, session.centre_link
            booking.save(
                update_fields=[
                    "state",
                    "started_at",
                    "marked_by",
                    "video_session",
                    "lawyer_link",
                    "centre_link",
                ]
            )
            record(
                actor,
                "meeting.started",
                booking,
                data={"number": booking.number, "session": session.session_id, "recording": False},
            )
            emit("meetings.started", booking=booking.pk, centre=booking.centre_id)
    except BaseException:
        close_quietly(video.backend(), session.session_id)
        raise
    return booking


@transaction.atomic
def end_meeting(actor: User, booking: Booking, *, at: datetime | None = None) -> Booking:
    """The meeting is over: its session is closed and the join links forgotten."""
    booking = locked(booking)
    require_staff(actor, booking)
    require_state(booking, BookingState.HELD)
    if booking.ended_at is not None:
        raise Conflict("booking.ended", "会见已结束。", "The meeting has ended already.")
    at = when(at, "结束时间", "end")
    if at < booking.started_at:
        raise InvalidInput(
            "booking.end_before_start",
            "结束时间不能早于开始时间。",
            "A meeting cannot end before it started.",
        )
    session = booking.video_session
    booking.ended_at, booking.marked_by = at, actor
    booking.lawyer_link = booking.centre_link = ""
    booking.save(update_fields=["ended_at", "marked_by", "lawyer_link", "centre_link"])
    record(actor, "meeting.ended", booking, data={"number": booking.number, "session": session})
    emit("meetings.ended", booking=booking.pk, centre=booking.centre_id)
    if session:  # closing twice is no error, so an end rolled back can be ended again
        close_quietly(video.backend(), session)
    return booking


@transaction.atomic
def mark_missed(
    actor: User, booking: Booking, *, reason: str = "", at: datetime | None = None
) -> Booking:
    """A confirmed meeting did not take place (the lawyer did not connect …)."""
    booking = locked(booking)
    require_staff(actor, booking)
    reason = reason_text(reason, required=False)[:500]
    require_state(booking, BookingState.CONFIRMED)
    at = when(at)
    if at < booking.starts_at:
        raise Conflict(
            "booking.not_begun",
            "会见时段尚未开始，不能记为未进行。",
            "The slot has not begun; the meeting cannot be marked missed yet.",
        )
    booking.state, booking.missed_at, booking.marked_by = BookingState.MISSED, at, actor
    booking.missed_reason = reason
    booking.save(update_fields=["state", "missed_at", "marked_by", "missed_reason"])
    record(actor, "meeting.missed", booking, reason=reason, data={"number": booking.number})
    emit("meetings.missed", booking=booking.pk, centre=booking.centre_id)
    return booking
