"""The work calendar (工作日历): which days are rest days.

Official holidays and make-up working days (调休) are set each year by the
State Council's notice on holiday arrangements (国务院办公厅关于某年部分节假日安排的
通知). The ``chinese_calendar`` package carries the notices up to its release;
for a later year an administrator loads the notice (``YearNotice``), and a
loaded notice also overrides the package for a year it knows (a correction).

A question about a year that neither knows raises ``UnknownCalendarYear``: a
calendar that quietly assumed "weekends only" would end a period on an
unannounced holiday, too early (LAW.md, "Counting periods").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import MAXYEAR, date, timedelta

import chinese_calendar  # type: ignore[import-untyped]

from casecenter.law.errors import InvalidHolidayNotice, UnknownCalendarYear

#: How far a search for the next working day looks before it gives up. Runs of
#: rest days last about ten days at most (Spring Festival); a longer run means a
#: wrong notice, which must be said rather than silently walked through.
_MAX_REST_RUN = 62


def _package_years() -> range:
    known = chinese_calendar.holidays.keys()
    return range(min(known).year, max(known).year + 1)


def _is_weekend(day: date) -> bool:
    return day.weekday() >= 5


@dataclass(frozen=True)
class YearNotice:
    """One year's holiday notice, as an administrator loaded it.

    ``rest_days`` are the official holidays (放假日, weekends inside a holiday
    included or not: either way they are rest days); ``make_up_workdays`` are
    the Saturdays and Sundays declared working days (调休上班). ``source`` names
    the notice, e.g. ``国办发明电〔2026〕x号``. A notice that contradicts itself
    raises ``InvalidHolidayNotice`` when it is built.
    """

    year: int
    rest_days: frozenset[date]
    make_up_workdays: frozenset[date]
    source: str

    def __post_init__(self) -> None:
        if not 1900 <= self.year < MAXYEAR:
            raise InvalidHolidayNotice(
                "calendar.year",
                f"年份{self.year}不在可接受的范围内（1900–{MAXYEAR - 1}）。",
                f"The year {self.year} is outside the accepted range (1900–{MAXYEAR - 1}).",
            )
        outside = sorted(d for d in self.rest_days | self.make_up_workdays if d.year != self.year)
        if outside:
            raise InvalidHolidayNotice(
                "calendar.date_outside_year",
                f"日期{outside[0].isoformat()}不在{self.year}年内。",
                f"The date {outside[0].isoformat()} is not in {self.year}.",
            )
        both = sorted(self.rest_days & self.make_up_workdays)
        if both:
            raise InvalidHolidayNotice(
                "calendar.overlap",
                f"{both[0].isoformat()}不能既是放假日又是调休上班日。",
                f"{both[0].isoformat()} cannot be both a rest day and a make-up working day.",
            )
        weekdays = sorted(d for d in self.make_up_workdays if not _is_weekend(d))
        if weekdays:
            raise InvalidHolidayNotice(
                "calendar.make_up_not_weekend",
                f"调休上班日{weekdays[0].isoformat()}不是星期六或星期日。",
                f"The make-up working day {weekdays[0].isoformat()} is not a Saturday or Sunday.",
            )
        if not self.source.strip():
            raise InvalidHolidayNotice(
                "calendar.source",
                "请注明通知的来源（文号）。",
                "Name the notice this calendar comes from (its document number).",
            )

    def is_rest_day(self, day: date) -> bool:
        """An official holiday, or a weekend day that is not a make-up working day."""
        return day in self.rest_days or (_is_weekend(day) and day not in self.make_up_workdays)


class WorkCalendar:
    """Rest days from ``chinese_calendar`` plus loaded notices (notices win)."""

    def __init__(self, notices: Iterable[YearNotice] = ()) -> None:
        by_year: dict[int, YearNotice] = {}
        for notice in notices:
            if notice.year in by_year:
                raise InvalidHolidayNotice(
                    "calendar.duplicate_year",
                    f"{notice.year}年有两份通知，只能有一份。",
                    f"Two notices for {notice.year}; a year has one.",
                )
            by_year[notice.year] = notice
        self._notices = by_year
        self._package_years = _package_years()

    @property
    def package_version(self) -> str:
        return str(chinese_calendar.__version__)

    @property
    def package_years(self) -> range:
        """The years the installed ``chinese_calendar`` knows."""
        return self._package_years

    @property
    def notice_years(self) -> tuple[int, ...]:
        return tuple(sorted(self._notices))

    def covers(self, year: int) -> bool:
        """Whether this calendar knows the official holidays of ``year``."""
        return year in self._notices or year in self._package_years

    def is_rest_day(self, day: date) -> bool:
        """Whether ``day`` is a rest day; ``UnknownCalendarYear`` if the year is unknown."""
        notice = self._notices.get(day.year)
        if notice is not None:
            return notice.is_rest_day(day)
        if day.year not in self._package_years:
            raise UnknownCalendarYear(day.year)
        try:
            return not bool(chinese_calendar.is_workday(day))
        except NotImplementedError:  # the package's own "year not supported"
            raise UnknownCalendarYear(day.year) from None

    def first_working_day_after(self, day: date) -> date:
        """The first day after ``day`` that is not a rest day."""
        candidate = day
        for _ in range(_MAX_REST_RUN):
            candidate += timedelta(days=1)
            if not self.is_rest_day(candidate):
                return candidate
        raise InvalidHolidayNotice(
            "calendar.no_working_day",
            f"{day.isoformat()}之后{_MAX_REST_RUN}天内没有工作日，请检查节假日通知。",
            f"No working day within {_MAX_REST_RUN} days after {day.isoformat()}: "
            f"check the holiday notice.",
        )

    def nth_working_day_after(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day``, ``day`` itself not counted.

        Each step asks ``first_working_day_after``, so a year nobody knows
        raises ``UnknownCalendarYear`` as soon as the count enters it, and an
        implausible run of rest days is reported rather than walked through.
        """
        for _ in range(n):
            day = self.first_working_day_after(day)
        return day

    def describe(self) -> str:
        """What this calendar is made of, e.g. ``chinese-calendar 1.11.0 + notices 2027``."""
        text = f"chinese-calendar {self.package_version}"
        if self._notices:
            text += " + notices " + ", ".join(str(y) for y in self.notice_years)
        return text
