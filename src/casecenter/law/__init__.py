"""The legal core: periods, the work calendar, ID numbers, ages, masking.

Pure Python with no Django and no casecenter app imported, so that every rule
of law lives here once, with its article, and is tested in isolation.
"""

from casecenter.law import fasttrack
from casecenter.law.age import (
    ResponsibilityBand,
    age_on,
    criminal_age_on,
    is_minor_at,
    responsibility_band,
)
from casecenter.law.errors import (
    InvalidHolidayNotice,
    InvalidIdNumber,
    InvalidPeriod,
    LawError,
    UnknownCalendarYear,
)
from casecenter.law.holidays import WorkCalendar, YearNotice
from casecenter.law.idnumber import IdNumber, check_digit, parse_id_number
from casecenter.law.masking import mask_id_number, mask_name, mask_phone
from casecenter.law.periods import SHANGHAI, UNITS, PeriodResult, Unit, add_months, compute_period
from casecenter.law.rules import RULES, Period, RuleSpec, basis_zh, due, rule

__all__ = [
    "RULES",
    "Period",
    "RuleSpec",
    "basis_zh",
    "fasttrack",
    "due",
    "rule",
    "SHANGHAI",
    "UNITS",
    "IdNumber",
    "InvalidHolidayNotice",
    "InvalidIdNumber",
    "InvalidPeriod",
    "LawError",
    "PeriodResult",
    "ResponsibilityBand",
    "Unit",
    "UnknownCalendarYear",
    "WorkCalendar",
    "YearNotice",
    "add_months",
    "age_on",
    "check_digit",
    "compute_period",
    "criminal_age_on",
    "is_minor_at",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "parse_id_number",
    "responsibility_band",
]
