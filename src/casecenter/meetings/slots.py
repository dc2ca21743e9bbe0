"""When a remote meeting may take place: the slot a lawyer asks for.

A meeting lasts 15 to 120 minutes, within 08:00–20:00 local time of one day (the
centres' opening hours for lawyers' meetings), in the future as seen at the
request, and at most 30 days ahead (so slots are not hoarded). These are the
centre's practice, not statute: the statute is the 48-hour arrangement limit
(``lawyer.meeting``, CPL Art. 39).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from casecenter.errors import InvalidInput

MIN_LENGTH, MAX_LENGTH = timedelta(minutes=15), timedelta(minutes=120)
OPENS, CLOSES = time(8, 0), time(20, 0)
MAX_AHEAD = timedelta(days=30)
#: how early before its slot a meeting may be started
EARLY_START = timedelta(minutes=30)


def aware(value: datetime) -> datetime:
    """A naive time is read in the server's time zone (Asia/Shanghai)."""
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def check_slot(starts_at: datetime, ends_at: datetime, *, asked_at: datetime) -> None:
    """A slot a lawyer may ask for at ``asked_at`` (InvalidInput naming what is wrong)."""
    if ends_at <= starts_at:
        raise InvalidInput(
            "booking.slot_order", "结束时间须晚于开始时间。", "The slot must end after it starts."
        )
    if not MIN_LENGTH <= ends_at - starts_at <= MAX_LENGTH:
        raise InvalidInput(
            "booking.slot_length",
            "会见时长须在15至120分钟之间。",
            "A meeting lasts 15 to 120 minutes.",
        )
    if starts_at <= asked_at:
        raise InvalidInput(
            "booking.slot_past", "会见时间须在将来。", "The meeting must be in the future."
        )
    if starts_at > asked_at + MAX_AHEAD:
        raise InvalidInput(
            "booking.slot_far",
            "最多可预约30天内的会见。",
            "A meeting is booked at most 30 days ahead.",
        )
    start, end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    if start.date() != end.date() or start.time() < OPENS or end.time() > CLOSES:
        raise InvalidInput(
            "booking.slot_hours",
            "会见时间须在当日8:00至20:00之间。",
            "A meeting takes place between 08:00 and 20:00 of one day.",
        )
