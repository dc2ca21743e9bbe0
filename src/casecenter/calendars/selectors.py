"""Reads of the work calendar."""

from __future__ import annotations

from datetime import date

from django.db import connection

from casecenter import law
from casecenter.calendars.models import HolidayNotice


def year_notice(notice: HolidayNotice) -> law.YearNotice:
    """The ``law`` form of a stored notice (validated again on the way)."""
    return law.YearNotice(
        year=notice.year,
        rest_days=frozenset(date.fromisoformat(d) for d in notice.rest_days),
        make_up_workdays=frozenset(date.fromisoformat(d) for d in notice.make_up_workdays),
        source=notice.source,
    )


def work_calendar() -> law.WorkCalendar:
    """The calendar every period is counted with: the package plus all loaded notices.

    Read fresh on each call (one small query): a notice loaded a moment ago by
    another process counts at once, and no cache can serve a stale year.
    """
    if HolidayNotice._meta.db_table not in connection.introspection.table_names():
        # A database not set up yet (``casecenter law`` straight after install) has
        # no loaded notice: the package's years are exact, any other year still
        # raises UnknownCalendarYear. Nothing is guessed.
        return law.WorkCalendar()
    return law.WorkCalendar(year_notice(n) for n in HolidayNotice.objects.all())


def notices() -> list[HolidayNotice]:
    """All loaded notices, by year, with who loaded them."""
    return list(HolidayNotice.objects.select_related("loaded_by").order_by("year"))
