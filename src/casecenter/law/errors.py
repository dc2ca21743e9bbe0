"""Errors raised by the legal core.

Every error carries a stable ``code`` (services, the API and the UI match on it,
never on the wording) and a message in both languages. ``LawError`` derives from
``ValueError`` because every one of them means "this input does not make sense
under the rule", and it must not depend on Django: the apps translate it into
``casecenter.errors.InvalidInput`` at their edge.
"""

from __future__ import annotations


class LawError(ValueError):
    """An input the rules of law cannot accept. ``str()`` is the English message."""

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en

    def __str__(self) -> str:
        return self.message_en


class InvalidIdNumber(LawError):
    """A resident ID number (居民身份证号码) that GB 11643-1999 rejects."""


class InvalidPeriod(LawError):
    """A period (期间) that cannot be counted: naive start, unknown unit, bad length."""


class InvalidHolidayNotice(LawError):
    """A holiday notice (节假日安排通知) whose dates contradict themselves."""


class UnknownCalendarYear(LawError):
    """No calendar knows the official holidays of ``year``.

    Raised instead of guessing "weekends only": a period whose last day falls
    on an unannounced holiday would otherwise end a day or a week too early.
    """

    def __init__(self, year: int) -> None:
        super().__init__(
            "calendar.unknown_year",
            f"没有{year}年的工作日历：请先载入国务院{year}年节假日安排通知"
            f"（casecenter law calendar-load），再计算该期限。",
            f"No work calendar for {year}: load the State Council's holiday notice "
            f"for {year} (casecenter law calendar-load) before computing this period.",
        )
        self.year = year
