"""Counting periods, CPL Art. 105 (LAW.md "Counting periods" and its worked examples)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest

from casecenter.law import (
    SHANGHAI,
    InvalidPeriod,
    UnknownCalendarYear,
    WorkCalendar,
    YearNotice,
    compute_period,
)

PACKAGE = f"chinese-calendar {chinese_calendar.__version__}"


def at(text: str) -> datetime:
    """A Beijing-time instant from ``YYYY-MM-DD HH:MM``."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


# --- the worked examples of LAW.md ----------------------------------------------


def test_three_days_ending_on_national_day_extend_to_first_working_day():
    result = compute_period(at("2026-09-28 10:00"), 3, "day")

    assert result.unextended_last_day == date(2026, 10, 1)
    assert result.last_day == date(2026, 10, 8)
    assert result.extended_by_holiday is True
    assert result.ends_at == at("2026-10-09 00:00")


def test_three_days_ending_on_national_day_in_custody_are_not_extended():
    result = compute_period(at("2026-09-28 10:00"), 3, "day", in_custody=True)

    assert result.last_day == date(2026, 10, 1)
    assert result.extended_by_holiday is False
    assert result.ends_at == at("2026-10-02 00:00")
    assert result.calendar == "not consulted (in custody)"


def test_seven_days_ending_on_a_make_up_working_saturday_are_not_extended():
    result = compute_period(at("2026-10-03 09:00"), 7, "day")

    assert date(2026, 10, 10).weekday() == 5  # a Saturday, but worked (调休)
    assert result.last_day == date(2026, 10, 10)
    assert result.extended_by_holiday is False
    assert result.ends_at == at("2026-10-11 00:00")


def test_two_months_in_custody_end_on_the_same_day_two_months_later():
    result = compute_period(at("2026-03-15 11:00"), 2, "month", in_custody=True)

    assert result.last_day == date(2026, 5, 15)
    assert result.ends_at == at("2026-05-16 00:00")


def test_twenty_four_hours_in_custody_end_at_the_same_minute_next_day():
    result = compute_period(at("2026-09-30 22:00"), 24, "hour", in_custody=True)

    assert result.ends_at == at("2026-10-01 22:00")
    assert result.last_day is None
    assert result.calendar == "not consulted (hours)"


@pytest.mark.parametrize(
    ("start", "length", "unit", "in_custody", "expected"),
    [
        (
            "2026-09-28 10:00",
            3,
            "day",
            False,
            {
                "ends_at": "2026-10-09T00:00:00+08:00",
                "last_day": "2026-10-08",
                "extended_by_holiday": True,
                "calendar": PACKAGE,
                "basis": "CPL Art. 105",
            },
        ),
        (
            "2026-09-28 10:00",
            3,
            "day",
            True,
            {
                "ends_at": "2026-10-02T00:00:00+08:00",
                "last_day": "2026-10-01",
                "extended_by_holiday": False,
                "calendar": "not consulted (in custody)",
                "basis": "CPL Art. 105",
            },
        ),
        (
            "2026-10-03 09:00",
            7,
            "day",
            False,
            {
                "ends_at": "2026-10-11T00:00:00+08:00",
                "last_day": "2026-10-10",
                "extended_by_holiday": False,
                "calendar": PACKAGE,
                "basis": "CPL Art. 105",
            },
        ),
        (
            "2026-03-15 11:00",
            2,
            "month",
            True,
            {
                "ends_at": "2026-05-16T00:00:00+08:00",
                "last_day": "2026-05-15",
                "extended_by_holiday": False,
                "calendar": "not consulted (in custody)",
                "basis": "CPL Art. 105; MPS-C (months)",
            },
        ),
        (
            "2026-09-30 22:00",
            24,
            "hour",
            True,
            {
                "ends_at": "2026-10-01T22:00:00+08:00",
                "last_day": None,
                "extended_by_holiday": False,
                "calendar": "not consulted (hours)",
                "basis": "CPL Art. 105",
            },
        ),
    ],
)
def test_worked_examples_give_exactly_this_json(start, length, unit, in_custody, expected):
    result = compute_period(at(start), length, unit, in_custody=in_custody)

    assert result.as_json() == expected


# --- days --------------------------------------------------------------------------


def test_day_period_ends_at_midnight_after_its_last_day_not_at_its_start():
    result = compute_period(at("2026-11-02 15:30"), 3, "day")

    assert result.last_day == date(2026, 11, 5)
    assert result.ends_at == at("2026-11-06 00:00")
    assert result.ends_at.utcoffset() == timedelta(hours=8)


def test_day_period_ending_on_a_weekend_extends_to_monday():
    result = compute_period(at("2026-11-04 08:00"), 3, "day")

    assert result.unextended_last_day == date(2026, 11, 7)  # Saturday
    assert result.last_day == date(2026, 11, 9)
    assert result.extended_by_holiday is True


def test_days_count_from_the_beijing_date_of_the_trigger():
    # 17:00 UTC on 27 Sep is 01:00 on 28 Sep in Beijing: the 28th is the day not counted.
    start = datetime(2026, 9, 27, 17, 0, tzinfo=UTC)

    result = compute_period(start, 3, "day", in_custody=True)

    assert result.last_day == date(2026, 10, 1)


# --- hours -------------------------------------------------------------------------


def test_hours_run_from_the_exact_minute_of_the_trigger():
    result = compute_period(at("2026-11-02 09:20"), 12, "hour")

    assert result.ends_at == at("2026-11-02 21:20")


def test_hour_periods_are_never_extended_even_outside_custody_on_a_holiday():
    result = compute_period(at("2026-09-30 22:00"), 24, "hour", in_custody=False)

    assert result.ends_at == at("2026-10-01 22:00")
    assert result.extended_by_holiday is False


def test_hour_periods_keep_the_offset_of_beijing_whatever_the_start_offset():
    start = datetime(2026, 11, 2, 1, 20, tzinfo=UTC)  # 09:20 in Beijing

    result = compute_period(start, 12, "hour")

    assert result.ends_at.isoformat() == "2026-11-02T21:20:00+08:00"


# --- months ------------------------------------------------------------------------


def test_month_from_the_last_day_of_a_month_ends_on_the_last_day_of_the_target_month():
    result = compute_period(at("2026-02-28 10:00"), 1, "month", in_custody=True)

    assert result.last_day == date(2026, 3, 31)


def test_month_into_a_shorter_month_ends_on_its_last_day():
    assert compute_period(at("2026-01-31 10:00"), 1, "month", in_custody=True).last_day == date(
        2026, 2, 28
    )
    assert compute_period(at("2024-01-30 10:00"), 1, "month", in_custody=True).last_day == date(
        2024, 2, 29
    )


def test_month_period_ending_on_labour_day_holiday_is_extended():
    result = compute_period(at("2026-03-04 10:00"), 2, "month")

    assert result.unextended_last_day == date(2026, 5, 4)
    assert result.last_day == date(2026, 5, 6)
    assert result.extended_by_holiday is True


def test_twelve_months_cross_the_year():
    result = compute_period(at("2025-03-15 10:00"), 12, "month", in_custody=True)

    assert result.last_day == date(2026, 3, 15)


# --- working days ----------------------------------------------------------------

WORKDAYS = "State Council holiday notice"


def test_three_working_days_from_a_friday_end_on_wednesday():
    result = compute_period(at("2026-11-20 16:00"), 3, "workday")

    assert date(2026, 11, 20).weekday() == 4  # Friday; Sat 21 and Sun 22 are not counted
    assert result.last_day == date(2026, 11, 25)
    assert result.ends_at == at("2026-11-26 00:00")
    assert result.extended_by_holiday is False
    assert result.unextended_last_day == result.last_day
    assert result.calendar == PACKAGE
    assert result.basis == WORKDAYS


def test_working_days_are_not_counted_on_the_day_of_the_trigger_even_at_midnight():
    # Monday 00:00 is a whole working day left, but the day of the trigger never counts.
    result = compute_period(at("2026-11-23 00:00"), 1, "workday")

    assert result.last_day == date(2026, 11, 24)


@pytest.mark.parametrize(
    ("length", "last_day"),
    [
        (1, date(2026, 9, 30)),
        (2, date(2026, 10, 8)),  # 10-01 to 10-07: National Day, not counted
        (3, date(2026, 10, 9)),
        (4, date(2026, 10, 10)),  # a Saturday, but a make-up working day (调休)
        (5, date(2026, 10, 12)),  # Sun 10-11 is a rest day
    ],
)
def test_working_days_across_national_day_skip_the_holiday_and_count_the_make_up_day(
    length, last_day
):
    result = compute_period(at("2026-09-29 10:00"), length, "workday")

    assert result.last_day == last_day
    assert result.ends_at == datetime.combine(
        last_day + timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI
    )
    assert result.extended_by_holiday is False


def test_working_days_from_late_evening_on_a_holiday_start_after_the_holiday():
    result = compute_period(at("2026-10-03 23:30"), 3, "workday")

    # 10-04 to 10-07 still National Day; 10-08, 10-09, then the make-up Saturday 10-10.
    assert result.last_day == date(2026, 10, 10)
    assert result.ends_at == at("2026-10-11 00:00")


def test_working_days_count_from_the_beijing_date_of_the_trigger():
    # 16:30 UTC on 7 Oct (a holiday) is 00:30 on 8 Oct in Beijing: the 8th is not counted.
    start = datetime(2026, 10, 7, 16, 30, tzinfo=UTC)

    result = compute_period(start, 3, "workday")

    assert result.last_day == date(2026, 10, 12)


def test_explanation_of_working_days_names_the_rest_days_not_counted():
    result = compute_period(at("2026-11-26 09:00"), 3, "workday")

    assert result.explanation_zh == (
        "自2026-11-26起3个工作日：最后一日2026-12-01（其间2个休息日不计），"
        "期间至该日24时届满（国务院办公厅节假日安排通知）。"
    )
    assert result.explanation_en == (
        "3 working days from 2026-11-26: last day 2026-12-01 (2 rest days in between not "
        "counted); the period ends at 24:00 that day (State Council holiday notice)."
    )


def test_explanation_of_working_days_without_rest_days_says_nothing_of_them():
    result = compute_period(at("2026-11-23 09:00"), 1, "workday")

    assert result.explanation_en == (
        "1 working day from 2026-11-23: last day 2026-11-24; "
        "the period ends at 24:00 that day (State Council holiday notice)."
    )


def test_working_days_in_custody_are_refused_not_ignored():
    with pytest.raises(InvalidPeriod) as caught:
        compute_period(at("2026-11-20 16:00"), 3, "workday", in_custody=True)

    assert caught.value.code == "period.workday_custody"
    assert caught.value.message_zh


def test_working_days_entering_a_year_no_calendar_knows_raise_unknown_calendar_year():
    assert not chinese_calendar.is_holiday(date(2026, 12, 31))

    with pytest.raises(UnknownCalendarYear) as caught:
        compute_period(at("2026-12-30 10:00"), 3, "workday")  # 12-31, then 2027

    assert caught.value.year == 2027


def test_working_days_into_a_loaded_year_follow_its_notice():
    notice_2027 = YearNotice(
        year=2027,
        rest_days=frozenset({date(2027, 1, 1)}),
        make_up_workdays=frozenset({date(2027, 1, 3)}),
        source="test notice 2027",
    )

    result = compute_period(
        at("2026-12-30 10:00"), 3, "workday", calendar=WorkCalendar([notice_2027])
    )

    # 12-31 works; 01-01 a holiday, Sat 01-02 a rest day, Sun 01-03 a make-up working
    # day, Mon 01-04 the third (without the make-up Sunday it would be Tue 01-05).
    assert result.last_day == date(2027, 1, 4)
    assert result.calendar == f"{PACKAGE} + notices 2027"


def test_the_longest_working_day_period_is_accepted_and_one_more_refused():
    result = compute_period(at("2005-01-04 10:00"), 2500, "workday")
    assert result.last_day is not None and result.last_day.year == 2015

    with pytest.raises(InvalidPeriod) as caught:
        compute_period(at("2005-01-04 10:00"), 2501, "workday")
    assert caught.value.code == "period.length"
    assert "2500 working days" in caught.value.message_en
    assert "2500个工作日" in caught.value.message_zh


# --- calendars ----------------------------------------------------------------


def test_day_period_ending_in_a_year_no_calendar_knows_raises_unknown_calendar_year():
    with pytest.raises(UnknownCalendarYear) as caught:
        compute_period(at("2030-12-30 10:00"), 3, "day")

    assert caught.value.year == 2031
    assert caught.value.code == "calendar.unknown_year"
    assert "2031" in str(caught.value)


def test_day_period_ending_in_an_unknown_year_in_custody_needs_no_calendar():
    result = compute_period(at("2030-12-30 10:00"), 3, "day", in_custody=True)

    assert result.last_day == date(2031, 1, 2)


def notice_2031() -> YearNotice:
    return YearNotice(
        year=2031,
        rest_days=frozenset({date(2031, 1, 1), date(2031, 1, 2), date(2031, 1, 3)}),
        make_up_workdays=frozenset({date(2031, 1, 5)}),
        source="test notice 2031",
    )


def test_a_loaded_notice_makes_an_unknown_year_computable():
    calendar = WorkCalendar([notice_2031()])

    result = compute_period(at("2030-12-30 10:00"), 3, "day", calendar=calendar)

    # 2 Jan 2031 is a holiday, 3 Jan too, 4 Jan is a Saturday, 5 Jan a make-up Sunday.
    assert result.last_day == date(2031, 1, 5)
    assert result.calendar == f"{PACKAGE} + notices 2031"


def test_extension_running_into_an_unknown_year_raises_rather_than_guessing():
    notice_2030 = YearNotice(
        year=2030,
        rest_days=frozenset({date(2030, 12, 31)}),
        make_up_workdays=frozenset(),
        source="test notice 2030",
    )

    with pytest.raises(UnknownCalendarYear) as caught:
        compute_period(at("2030-12-28 10:00"), 3, "day", calendar=WorkCalendar([notice_2030]))

    assert caught.value.year == 2031


def test_a_loaded_notice_overrides_the_package_for_a_year_it_knows():
    corrected = YearNotice(
        year=2026,
        rest_days=frozenset(date(2026, 10, d) for d in range(1, 10)),  # one more day off
        make_up_workdays=frozenset({date(2026, 10, 10)}),
        source="correction",
    )

    result = compute_period(at("2026-09-28 10:00"), 3, "day", calendar=WorkCalendar([corrected]))

    assert result.last_day == date(2026, 10, 10)
    assert result.calendar == f"{PACKAGE} + notices 2026"


class ExplodingCalendar(WorkCalendar):
    def is_rest_day(self, day: date) -> bool:
        raise AssertionError(f"consulted for {day}")


def test_in_custody_the_calendar_is_not_consulted():
    result = compute_period(
        at("2026-09-28 10:00"), 3, "day", in_custody=True, calendar=ExplodingCalendar()
    )

    assert result.last_day == date(2026, 10, 1)


def test_hour_periods_do_not_consult_the_calendar():
    result = compute_period(at("2026-09-28 10:00"), 3, "hour", calendar=ExplodingCalendar())

    assert result.ends_at == at("2026-09-28 13:00")


# --- explanations ---------------------------------------------------------------------


def test_explanation_shows_the_extension_in_both_languages():
    result = compute_period(at("2026-09-28 10:00"), 3, "day")

    assert result.explanation_en == (
        "3 days from 2026-09-28: last day 2026-10-01 is a rest day, extended to the first "
        "working day 2026-10-08; the period ends at 24:00 that day (CPL Art. 105)."
    )
    assert result.explanation_zh == (
        "自2026-09-28起3日：最后一日2026-10-01为休息日，顺延至其后第一个工作日2026-10-08，"
        "期间至该日24时届满（《刑事诉讼法》第一百零五条）。"
    )


def test_explanation_says_custody_is_never_extended():
    result = compute_period(at("2026-09-28 10:00"), 3, "day", in_custody=True)

    assert "in custody, so never extended" in result.explanation_en
    assert "在押期间不因节假日延长" in result.explanation_zh


def test_explanation_of_an_hour_period_gives_both_instants():
    result = compute_period(at("2026-09-30 22:00"), 24, "hour", in_custody=True)

    assert result.explanation_en == (
        "24 hours from 2026-09-30 22:00: counted to the minute, ends at 2026-10-01 22:00, "
        "never extended for rest days (CPL Art. 105)."
    )


# --- refused input ------------------------------------------------------------------


def test_a_naive_start_is_refused_not_guessed():
    with pytest.raises(InvalidPeriod) as caught:
        compute_period(datetime(2026, 9, 28, 10, 0), 3, "day")

    assert caught.value.code == "period.naive_start"
    assert "+08:00" in str(caught.value)


@pytest.mark.parametrize("length", [0, -1, 3661])
def test_a_length_outside_one_to_the_bound_is_refused(length):
    with pytest.raises(InvalidPeriod) as caught:
        compute_period(at("2026-09-28 10:00"), length, "day")

    assert caught.value.code == "period.length"


@pytest.mark.parametrize("length", [True, 2.5, "3"])
def test_a_length_that_is_not_an_integer_is_refused(length):
    with pytest.raises(InvalidPeriod) as caught:
        compute_period(at("2026-09-28 10:00"), length, "day")  # type: ignore[arg-type]

    assert caught.value.code == "period.length"


@pytest.mark.parametrize("unit", ["days", "week", "", "HOUR"])
def test_an_unknown_unit_is_refused(unit):
    with pytest.raises(InvalidPeriod) as caught:
        compute_period(at("2026-09-28 10:00"), 3, unit)  # type: ignore[arg-type]

    assert caught.value.code == "period.unit"


def test_a_period_beyond_representable_dates_is_refused():
    with pytest.raises(InvalidPeriod) as caught:
        compute_period(datetime(9999, 12, 1, tzinfo=SHANGHAI), 2, "month", in_custody=True)

    assert caught.value.code == "period.out_of_range"


def test_period_errors_are_value_errors_with_english_str():
    with pytest.raises(ValueError, match="Unknown period unit"):
        compute_period(at("2026-09-28 10:00"), 3, "fortnight")  # type: ignore[arg-type]
