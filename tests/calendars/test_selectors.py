"""The work calendar the whole system counts with: package plus loaded notices."""

from __future__ import annotations

from datetime import date, datetime

import chinese_calendar
import pytest

from casecenter import law
from casecenter.calendars import selectors, services

PACKAGE = f"chinese-calendar {chinese_calendar.__version__}"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=law.SHANGHAI)


@pytest.mark.django_db
def test_without_notices_the_calendar_is_the_package_alone():
    calendar = selectors.work_calendar()

    assert calendar.describe() == PACKAGE
    assert calendar.covers(2026) and not calendar.covers(2031)


@pytest.mark.django_db
def test_a_period_ending_in_2031_is_refused_until_its_notice_is_loaded():
    with pytest.raises(law.UnknownCalendarYear):
        law.compute_period(at("2030-12-30 10:00"), 3, "day", calendar=selectors.work_calendar())

    services.load_notice(
        None, 2031, ["2031-01-01", "2031-01-02", "2031-01-03"], ["2031-01-05"], "test 2031"
    )
    result = law.compute_period(
        at("2030-12-30 10:00"), 3, "day", calendar=selectors.work_calendar()
    )

    assert result.last_day == date(2031, 1, 5)
    assert result.calendar == f"{PACKAGE} + notices 2031"


@pytest.mark.django_db
def test_a_loaded_notice_for_a_package_year_takes_precedence():
    national_day = [f"2026-10-0{d}" for d in range(1, 10)]  # a corrected, longer holiday
    services.load_notice(None, 2026, national_day, ["2026-10-10"], "correction")

    calendar = selectors.work_calendar()

    assert calendar.is_rest_day(date(2026, 10, 9)) is True
    assert calendar.is_rest_day(date(2026, 5, 1)) is False  # not in the loaded notice
