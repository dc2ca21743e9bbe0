"""The work calendar: the package's years, loaded notices, and loud refusal of the rest."""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest

from casecenter.law import InvalidHolidayNotice, UnknownCalendarYear, WorkCalendar, YearNotice


def notice(year=2031, rest=(), make_up=(), source="国办发明电〔2030〕1号") -> YearNotice:
    return YearNotice(
        year=year, rest_days=frozenset(rest), make_up_workdays=frozenset(make_up), source=source
    )


def test_national_day_2026_is_a_rest_day_in_the_package():
    calendar = WorkCalendar()

    assert all(calendar.is_rest_day(date(2026, 10, d)) for d in range(1, 8))
    assert calendar.is_rest_day(date(2026, 10, 8)) is False


def test_a_make_up_saturday_is_a_working_day():
    assert WorkCalendar().is_rest_day(date(2026, 10, 10)) is False


def test_an_ordinary_weekend_is_a_rest_day_and_an_ordinary_weekday_is_not():
    calendar = WorkCalendar()

    assert calendar.is_rest_day(date(2026, 11, 7)) is True  # Saturday
    assert calendar.is_rest_day(date(2026, 11, 8)) is True  # Sunday
    assert calendar.is_rest_day(date(2026, 11, 9)) is False  # Monday


@pytest.mark.parametrize("year", [2003, 2027, 2031])
def test_a_year_no_calendar_knows_raises_instead_of_assuming_weekends(year):
    with pytest.raises(UnknownCalendarYear) as caught:
        WorkCalendar().is_rest_day(date(year, 3, 4))  # a weekday in every one of these years

    assert caught.value.year == year
    assert caught.value.code == "calendar.unknown_year"
    assert "calendar-load" in caught.value.message_en
    assert f"{year}年" in caught.value.message_zh


def test_covers_the_package_years_and_the_loaded_ones():
    calendar = WorkCalendar([notice(2031, rest=[date(2031, 1, 1)])])

    assert calendar.covers(2004) and calendar.covers(2026) and calendar.covers(2031)
    assert not calendar.covers(2003)
    assert not calendar.covers(2030)
    assert calendar.package_years == range(2004, 2027)


def test_describe_names_the_package_version_and_the_notice_years():
    package = f"chinese-calendar {chinese_calendar.__version__}"
    both = WorkCalendar([notice(2031, rest=[date(2031, 1, 1)]), notice(2027, rest=[])])

    assert WorkCalendar().describe() == package
    assert both.describe() == f"{package} + notices 2027, 2031"


def test_in_a_notice_year_holidays_and_unworked_weekends_are_rest_days():
    calendar = WorkCalendar(
        [notice(2031, rest=[date(2031, 1, 1), date(2031, 1, 2)], make_up=[date(2031, 1, 5)])]
    )

    assert calendar.is_rest_day(date(2031, 1, 1)) is True  # Wednesday, holiday
    assert calendar.is_rest_day(date(2031, 1, 3)) is False  # Friday
    assert calendar.is_rest_day(date(2031, 1, 4)) is True  # Saturday
    assert calendar.is_rest_day(date(2031, 1, 5)) is False  # Sunday, make-up working day


def test_a_notice_overrides_the_package_for_the_same_year():
    calendar = WorkCalendar([notice(2026, rest=[date(2026, 10, 8)])])

    assert calendar.is_rest_day(date(2026, 10, 8)) is True
    assert calendar.is_rest_day(date(2026, 10, 1)) is False  # not in this (partial) notice


def test_first_working_day_after_skips_a_run_of_rest_days():
    assert WorkCalendar().first_working_day_after(date(2026, 10, 1)) == date(2026, 10, 8)


def test_a_notice_with_no_working_day_in_sight_is_reported_not_walked_through():
    every_day = [date.fromordinal(date(2031, 1, 1).toordinal() + i) for i in range(365)]
    calendar = WorkCalendar([notice(2031, rest=every_day)])

    with pytest.raises(InvalidHolidayNotice) as caught:
        calendar.first_working_day_after(date(2031, 3, 1))

    assert caught.value.code == "calendar.no_working_day"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"rest": [date(2030, 12, 31)]}, "calendar.date_outside_year"),
        ({"make_up": [date(2032, 1, 3)]}, "calendar.date_outside_year"),
        ({"rest": [date(2031, 1, 4)], "make_up": [date(2031, 1, 4)]}, "calendar.overlap"),
        ({"make_up": [date(2031, 1, 6)]}, "calendar.make_up_not_weekend"),  # a Monday
        ({"source": "  "}, "calendar.source"),
        ({"year": 1899}, "calendar.year"),
    ],
)
def test_a_notice_that_contradicts_itself_is_refused(kwargs, code):
    with pytest.raises(InvalidHolidayNotice) as caught:
        notice(**kwargs)

    assert caught.value.code == code


def test_two_notices_for_one_year_are_refused():
    with pytest.raises(InvalidHolidayNotice) as caught:
        WorkCalendar([notice(2031), notice(2031)])

    assert caught.value.code == "calendar.duplicate_year"
