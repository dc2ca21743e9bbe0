"""Properties of period arithmetic that must hold for every start and length."""

from __future__ import annotations

from calendar import monthrange
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from casecenter.law import SHANGHAI, WorkCalendar, compute_period

CALENDAR = WorkCalendar()

ZONES = st.sampled_from(
    [
        SHANGHAI,
        UTC,
        timezone(timedelta(hours=-5)),
        timezone(timedelta(hours=14)),
        ZoneInfo("Europe/Berlin"),
    ]
)

# Starts whose day and month periods stay inside the package's years (2004-2026),
# extension included, so that the calendar is always known.
KNOWN_STARTS = st.datetimes(
    min_value=datetime(2004, 1, 2), max_value=datetime(2025, 6, 30), timezones=ZONES
)
ANY_STARTS = st.datetimes(
    min_value=datetime(1901, 1, 2), max_value=datetime(2200, 12, 31), timezones=ZONES
)


def local_date(start: datetime) -> date:
    return start.astimezone(SHANGHAI).date()


def elapsed(start: datetime, end: datetime) -> timedelta:
    return end.astimezone(UTC) - start.astimezone(UTC)


@given(start=ANY_STARTS, hours=st.integers(min_value=1, max_value=24 * 366))
def test_an_hour_period_lasts_exactly_n_times_3600_seconds(start, hours):
    result = compute_period(start, hours, "hour")

    assert elapsed(start, result.ends_at) == timedelta(hours=hours)
    assert result.ends_at.tzinfo is SHANGHAI  # +08:00 (+09:00 in the DST summers of 1986-91)


@given(
    start=KNOWN_STARTS,
    length=st.integers(min_value=1, max_value=150),
    in_custody=st.booleans(),
)
def test_a_day_period_ends_at_midnight_after_a_last_day_at_least_n_days_on(
    start, length, in_custody
):
    result = compute_period(start, length, "day", in_custody=in_custody)

    assert result.unextended_last_day == local_date(start) + timedelta(days=length)
    assert result.last_day is not None and result.last_day >= result.unextended_last_day
    assert result.ends_at == datetime.combine(
        result.last_day + timedelta(days=1), time(0), tzinfo=SHANGHAI
    )
    assert result.ends_at > start


@given(
    start=KNOWN_STARTS,
    length=st.integers(min_value=1, max_value=5),
    unit=st.sampled_from(["day", "month"]),
)
def test_an_extension_lands_on_a_working_day_after_only_rest_days(start, length, unit):
    result = compute_period(start, length, unit)

    assert result.last_day is not None and result.unextended_last_day is not None
    assert CALENDAR.is_rest_day(result.last_day) is False
    assert result.extended_by_holiday == (result.last_day != result.unextended_last_day)
    day = result.unextended_last_day
    while day < result.last_day:
        assert CALENDAR.is_rest_day(day) is True
        day += timedelta(days=1)


@given(
    start=ANY_STARTS,
    length=st.integers(min_value=1, max_value=120),
    unit=st.sampled_from(["day", "month"]),
)
def test_in_custody_a_period_is_never_extended(start, length, unit):
    result = compute_period(start, length, unit, in_custody=True)

    assert result.extended_by_holiday is False
    assert result.last_day == result.unextended_last_day
    assert result.calendar == "not consulted (in custody)"
    assert result.ends_at > start


@given(start=ANY_STARTS, months=st.integers(min_value=1, max_value=120))
def test_a_month_period_moves_exactly_n_months_and_never_past_the_start_day(start, months):
    begin = local_date(start)
    last = compute_period(start, months, "month", in_custody=True).last_day
    assert last is not None

    assert (last.year * 12 + last.month) - (begin.year * 12 + begin.month) == months
    target_month_end = monthrange(last.year, last.month)[1]
    if begin.day == monthrange(begin.year, begin.month)[1]:
        assert last.day == target_month_end
    else:
        assert last.day == min(begin.day, target_month_end)
        assert last.day <= begin.day


# --- working days -------------------------------------------------------------------


def working_days_between(after: date, through: date) -> int:
    """How many working days lie in (``after``, ``through``]."""
    count, day = 0, after
    while day < through:
        day += timedelta(days=1)
        count += not CALENDAR.is_rest_day(day)
    return count


@given(start=KNOWN_STARTS, length=st.integers(min_value=1, max_value=60))
def test_the_last_of_n_working_days_is_a_working_day_with_exactly_n_up_to_it(start, length):
    result = compute_period(start, length, "workday")

    assert result.last_day is not None
    assert CALENDAR.is_rest_day(result.last_day) is False
    assert working_days_between(local_date(start), result.last_day) == length
    assert result.ends_at == datetime.combine(
        result.last_day + timedelta(days=1), time(0), tzinfo=SHANGHAI
    )
    assert result.ends_at > start
    # never sooner than N calendar days: the provisional clock of supervision relies on it
    assert result.last_day >= local_date(start) + timedelta(days=length)
    assert result.extended_by_holiday is False
    assert result.unextended_last_day == result.last_day


@given(start=KNOWN_STARTS, length=st.integers(min_value=1, max_value=60))
def test_one_more_working_day_ends_on_a_later_working_day(start, length):
    shorter = compute_period(start, length, "workday")
    longer = compute_period(start, length + 1, "workday")

    assert shorter.last_day is not None and longer.last_day is not None
    assert longer.last_day > shorter.last_day
    assert longer.ends_at > shorter.ends_at
    assert working_days_between(shorter.last_day, longer.last_day) == 1
