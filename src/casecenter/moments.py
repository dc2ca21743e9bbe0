"""When something happened, as a user states it: checked the same way by every service.

A moment given by a person (a seizure, a measure's start, an entry into the
custody area, a review) may be a few minutes ahead of the server — desks' and
phones' clocks drift — but not more, and never before 1990. A naive time is
read in the server's time zone; no time at all means now.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from casecenter.errors import InvalidInput

LEEWAY = timedelta(minutes=5)
EARLIEST_YEAR = 1990


def past_moment(at: datetime | None, *, code: str, what_zh: str, what_en: str) -> datetime:
    """``at`` as an aware moment, or a domain error ``<code>.future`` /
    ``<code>.implausible`` naming ``what`` in both languages."""
    at = at or timezone.now()
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > timezone.now() + LEEWAY:
        raise InvalidInput(
            f"{code}.future", f"{what_zh}不能晚于现在。", f"The {what_en} cannot be in the future."
        )
    if at.year < EARLIEST_YEAR:
        raise InvalidInput(
            f"{code}.implausible", f"{what_zh}有误。", f"The {what_en} is implausible."
        )
    return at
