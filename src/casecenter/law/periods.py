"""Counting periods (期间的计算), CPL Art. 105; MPS-C for months; working days.

The rules, as LAW.md "Counting periods" states them:

- The hour or day in which a period starts is not counted.
- Hours run from the exact minute of the trigger (arrival 09:20 + 12 h =
  21:20) and are never extended for holidays: a custody clock is a clock.
- Days: the last day is the trigger's local date plus N days; the period ends
  at the end of that day, so ``ends_at`` is 00:00 of the next day (the UI says
  "last day, 24:00"), Asia/Shanghai.
- Months: the same day N months later; from the last day of a month to the
  last day of the target month; to the target month's last day when it has no
  such day (31 Jan + 1 month = 28 or 29 Feb).
- Holiday extension (day and month periods): a last day that is a rest day
  becomes the first working day after it. Never while the person is in custody
  (在押): then the period ends on its day, and no calendar is consulted.
- Working days (工作日), for local policy targets such as "answer a party's
  message within 3 working days", not for statutory clocks: the trigger's
  local date is not counted (as for days); the last day is the N-th working
  day after it, as the State Council's holiday notice defines working days
  (weekends and official holidays are rest days, make-up working days 调休 are
  worked); the period ends at 24:00 of that day. The last day is a working day
  by construction, so nothing is ever extended. No custody clock counts
  working days, so ``in_custody=True`` with working days is refused
  (``period.workday_custody``) rather than silently ignored: it would mean
  "don't consult the calendar", which working days cannot do.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from casecenter.law.errors import InvalidPeriod
from casecenter.law.holidays import WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")

Unit = Literal["hour", "day", "month", "workday"]
UNITS: tuple[str, ...] = get_args(Unit)

BASIS = "CPL Art. 105"
BASIS_MONTHS = "CPL Art. 105; MPS-C (months)"
#: Working days come from no procedural article: the State Council's yearly notice sets them.
BASIS_WORKDAYS = "State Council holiday notice"
_BASIS_ZH = "《刑事诉讼法》第一百零五条"
_BASIS_MONTHS_ZH = "《刑事诉讼法》第一百零五条、《公安机关办理刑事案件程序规定》"
_BASIS_WORKDAYS_ZH = "国务院办公厅节假日安排通知"

#: Longest accepted period per unit: ten years (a year of hours; about ten
#: years of working days). Longer "periods" are typing errors, not clocks.
MAX_LENGTH: dict[str, int] = {"hour": 24 * 366, "day": 3660, "month": 120, "workday": 2500}

NOT_CONSULTED_HOURS = "not consulted (hours)"
NOT_CONSULTED_CUSTODY = "not consulted (in custody)"

_UNIT_EN = {
    "hour": ("hour", "hours"),
    "day": ("day", "days"),
    "month": ("month", "months"),
    "workday": ("working day", "working days"),
}
_UNIT_ZH = {"hour": "小时", "day": "日", "month": "个月", "workday": "个工作日"}


def length_en(length: int, unit: str) -> str:
    """``1 hour``, ``3 days``, ``3 working days``."""
    return f"{length} {_UNIT_EN[unit][0 if length == 1 else 1]}"


def length_zh(length: int, unit: str) -> str:
    """``1小时``, ``3日``, ``3个工作日``."""
    return f"{length}{_UNIT_ZH[unit]}"


@dataclass(frozen=True)
class PeriodResult:
    """When a period ends, and why: every alert built on it can explain itself (PIPL Art. 24)."""

    ends_at: datetime  # aware, Asia/Shanghai; the first instant after the period
    last_day: date | None  # None for hour periods
    extended_by_holiday: bool
    unextended_last_day: date | None  # the last day before any holiday extension
    calendar: str  # the calendar consulted, or why none was
    basis: str
    explanation_zh: str
    explanation_en: str

    def as_json(self) -> dict[str, object]:
        """The stable JSON form (the CLI and the API print exactly this)."""
        return {
            "ends_at": self.ends_at.isoformat(),
            "last_day": self.last_day.isoformat() if self.last_day else None,
            "extended_by_holiday": self.extended_by_holiday,
            "calendar": self.calendar,
            "basis": self.basis,
        }


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, month-end rules of LAW.md."""
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    target_last = monthrange(year, month)[1]
    if day.day == monthrange(day.year, day.month)[1]:
        return date(year, month, target_last)
    return date(year, month, min(day.day, target_last))


def _check(start: datetime, length: int, unit: str) -> None:
    if start.tzinfo is None or start.utcoffset() is None:
        raise InvalidPeriod(
            "period.naive_start",
            f"起算时间{start.isoformat()}没有时区，请写明时区，例如+08:00。",
            f"The start {start.isoformat()} has no UTC offset; give one, e.g. +08:00.",
        )
    if unit not in UNITS:
        raise InvalidPeriod(
            "period.unit",
            f"未知的期间单位“{unit}”，应为hour、day、month或workday。",
            f"Unknown period unit {unit!r}: use hour, day, month or workday.",
        )
    if isinstance(length, bool) or not isinstance(length, int):
        raise InvalidPeriod(
            "period.length",
            "期间长度须为整数。",
            "The length of a period is a whole number.",
        )
    if not 1 <= length <= MAX_LENGTH[unit]:
        raise InvalidPeriod(
            "period.length",
            f"期间长度须在1到{MAX_LENGTH[unit]}{_UNIT_ZH[unit]}之间，实际为{length}。",
            f"The length must be between 1 and {MAX_LENGTH[unit]} {_UNIT_EN[unit][1]}, "
            f"not {length}.",
        )


def _out_of_range() -> InvalidPeriod:
    return InvalidPeriod(
        "period.out_of_range",
        "期间的结束日期超出了可表示的日期范围。",
        "The period ends beyond the dates that can be represented.",
    )


def _clock(value: datetime) -> str:
    fmt = "%Y-%m-%d %H:%M:%S" if value.second or value.microsecond else "%Y-%m-%d %H:%M"
    return value.strftime(fmt)


def compute_period(
    start: datetime,
    length: int,
    unit: Unit,
    *,
    in_custody: bool = False,
    calendar: WorkCalendar | None = None,
) -> PeriodResult:
    """Count a period of ``length`` ``unit``\\ s from ``start`` (CPL Art. 105).

    ``start`` must be timezone-aware (a naive time is refused, not guessed).
    ``calendar`` defaults to ``WorkCalendar()`` (the package's years only); a
    last day in a year no calendar knows raises ``UnknownCalendarYear`` — for
    working days, any day counted in such a year. ``in_custody`` with working
    days raises ``InvalidPeriod`` (``period.workday_custody``).
    """
    _check(start, length, unit)
    local = start.astimezone(SHANGHAI)
    n_en, n_zh = length_en(length, unit), length_zh(length, unit)

    if unit == "hour":
        try:
            # In UTC: elapsed time, whatever the wall clock did (China kept DST 1986-1991).
            ends_at = (start.astimezone(UTC) + timedelta(hours=length)).astimezone(SHANGHAI)
        except OverflowError:
            raise _out_of_range() from None
        return PeriodResult(
            ends_at=ends_at,
            last_day=None,
            extended_by_holiday=False,
            unextended_last_day=None,
            calendar=NOT_CONSULTED_HOURS,
            basis=BASIS,
            explanation_zh=(
                f"自{_clock(local)}起{n_zh}：按分钟计算，至{_clock(ends_at)}届满，"
                f"不因节假日顺延（{_BASIS_ZH}）。"
            ),
            explanation_en=(
                f"{n_en} from {_clock(local)}: counted to the minute, ends at "
                f"{_clock(ends_at)}, never extended for rest days ({BASIS})."
            ),
        )

    if unit == "workday":
        return _working_days(local, length, n_en, n_zh, in_custody=in_custody, calendar=calendar)

    basis, basis_zh = (BASIS_MONTHS, _BASIS_MONTHS_ZH) if unit == "month" else (BASIS, _BASIS_ZH)
    start_day = local.date()
    try:
        if unit == "day":
            unextended = start_day + timedelta(days=length)
        else:
            unextended = add_months(start_day, length)
    except (OverflowError, ValueError):
        raise _out_of_range() from None
    head_en = f"{n_en} from {start_day.isoformat()}: last day {unextended.isoformat()}"
    head_zh = f"自{start_day.isoformat()}起{n_zh}：最后一日{unextended.isoformat()}"

    last = unextended
    if in_custody:
        consulted = NOT_CONSULTED_CUSTODY
        tail_en = "; in custody, so never extended for rest days"
        tail_zh = "；在押期间不因节假日延长"
    else:
        work_calendar = calendar if calendar is not None else WorkCalendar()
        consulted = work_calendar.describe()
        if work_calendar.is_rest_day(unextended):
            last = work_calendar.first_working_day_after(unextended)
            tail_en = f" is a rest day, extended to the first working day {last.isoformat()}"
            tail_zh = f"为休息日，顺延至其后第一个工作日{last.isoformat()}"
        else:
            tail_en = " is a working day"
            tail_zh = "为工作日"
    try:
        ends_at = datetime.combine(last + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    except OverflowError:
        raise _out_of_range() from None
    return PeriodResult(
        ends_at=ends_at,
        last_day=last,
        extended_by_holiday=last != unextended,
        unextended_last_day=unextended,
        calendar=consulted,
        basis=basis,
        explanation_zh=f"{head_zh}{tail_zh}，期间至该日24时届满（{basis_zh}）。",
        explanation_en=f"{head_en}{tail_en}; the period ends at 24:00 that day ({basis}).",
    )


def _working_days(
    local: datetime,
    length: int,
    n_en: str,
    n_zh: str,
    *,
    in_custody: bool,
    calendar: WorkCalendar | None,
) -> PeriodResult:
    """``length`` working days after the local date of ``local``, to 24:00 of the last."""
    if in_custody:
        # No custody clock counts working days. Ignoring the flag would pretend
        # to honour "never extended, calendar not consulted", which working
        # days cannot do: they are nothing but the calendar.
        raise InvalidPeriod(
            "period.workday_custody",
            "按工作日计算的期间不适用于在押人员的期限，请按日、月或小时计算。",
            "Working days do not apply to a clock of a person in custody: "
            "count it in days, months or hours.",
        )
    work_calendar = calendar if calendar is not None else WorkCalendar()
    start_day = local.date()
    try:
        last = work_calendar.nth_working_day_after(start_day, length)
        ends_at = datetime.combine(last + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    except OverflowError:
        raise _out_of_range() from None
    rest = (last - start_day).days - length
    if rest:
        skipped_en = f" ({rest} rest day{'' if rest == 1 else 's'} in between not counted)"
        skipped_zh = f"（其间{rest}个休息日不计）"
    else:
        skipped_en = skipped_zh = ""
    return PeriodResult(
        ends_at=ends_at,
        last_day=last,
        extended_by_holiday=False,
        unextended_last_day=last,
        calendar=work_calendar.describe(),
        basis=BASIS_WORKDAYS,
        explanation_zh=(
            f"自{start_day.isoformat()}起{n_zh}：最后一日{last.isoformat()}{skipped_zh}，"
            f"期间至该日24时届满（{_BASIS_WORKDAYS_ZH}）。"
        ),
        explanation_en=(
            f"{n_en} from {start_day.isoformat()}: last day {last.isoformat()}{skipped_en}; "
            f"the period ends at 24:00 that day ({BASIS_WORKDAYS})."
        ),
    )
