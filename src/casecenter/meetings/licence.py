"""Lawyer's practising licence numbers (律师执业证号), read field by field.

Pure Python, no Django: the check a detention centre makes before it lets a
lawyer book a meeting (CPL Art. 39 — a lawyer meets a detainee on showing the
practising licence, the firm's letter and the engagement letter or legal-aid
letter). The number has 17 digits:

====== ==========================================================
digits what
====== ==========================================================
1–4    the issuing authority's region code; digits 1–2 a province
       (11–15, 21–23, 31–37, 41–46, 50–54, 61–65)
5–8    the year of the first licence (1980 to this year)
9      the kind of practice (1 full-time … 8 legal-aid)
10     sex: 0 female, 1 male
11–17  serial
====== ==========================================================

Only the form is checked, as for ID numbers: the number is not looked up in the
Ministry of Justice's register (a detention centre's staff verify the lawyer
against the licence shown). A licence number is public professional data, so
the messages may repeat the wrong field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from casecenter.law.errors import LawError

LENGTH = 17
FIRST_YEAR = 1980
_DIGITS = frozenset("0123456789")
_SHANGHAI = ZoneInfo("Asia/Shanghai")

#: the provinces' two-digit codes (GB/T 2260), mainland only
PROVINCES: frozenset[str] = frozenset(
    f"{n:02d}"
    for low, high in ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65))
    for n in range(low, high + 1)
)

#: digit 9 → (Chinese name, English name) of the kind of practice
PRACTICES: dict[str, tuple[str, str]] = {
    "1": ("专职律师", "full-time lawyer"),
    "2": ("兼职律师", "part-time lawyer"),
    "3": ("香港居民律师", "Hong Kong resident lawyer"),
    "4": ("澳门居民律师", "Macao resident lawyer"),
    "5": ("台湾居民律师", "Taiwan resident lawyer"),
    "6": ("公职律师", "public-sector lawyer"),
    "7": ("公司律师", "company lawyer"),
    "8": ("法律援助律师", "legal-aid lawyer"),
}
#: digit 10 → sex, as ``User.sex`` writes it
SEXES: dict[str, Literal["M", "F"]] = {"0": "F", "1": "M"}

Sex = Literal["M", "F"]


class InvalidLicence(LawError):
    """A practising-licence number whose form is wrong; ``code`` names the field."""


@dataclass(frozen=True)
class Licence:
    """A well-formed licence number and what it says about its holder."""

    number: str
    region_code: str  # 4 digits
    first_year: int
    practice: str  # a key of PRACTICES
    sex: Sex
    serial: str  # 7 digits

    @property
    def province_code(self) -> str:
        return self.region_code[:2]

    @property
    def practice_zh(self) -> str:
        return PRACTICES[self.practice][0]

    @property
    def practice_en(self) -> str:
        return PRACTICES[self.practice][1]


def compose(region_code: str, first_year: int, practice: str, sex: Sex, serial: str) -> str:
    """The 17 digits of a licence from its fields (not checked: see ``parse_licence``)."""
    sex_digit = next(d for d, s in SEXES.items() if s == sex)
    return f"{region_code}{first_year:04d}{practice}{sex_digit}{serial}"


def _this_year() -> int:
    return datetime.now(_SHANGHAI).year


def parse_licence(text: str, *, this_year: int | None = None) -> Licence:
    """Check ``text`` field by field and return the licence it describes.

    Surrounding whitespace is ignored; everything else must be an ASCII digit
    (full-width digits, spaces or dashes inside are refused, not guessed).
    ``this_year`` (default: this year in Asia/Shanghai) bounds the year of the
    first licence.
    """
    if not isinstance(text, str):
        raise InvalidLicence(
            "licence.characters", "律师执业证号须为数字。", "A licence number is made of digits."
        )
    raw = text.strip()
    if len(raw) != LENGTH:
        raise InvalidLicence(
            "licence.length",
            f"律师执业证号应为{LENGTH}位数字，实际为{len(raw)}位。",
            f"A practising-licence number has {LENGTH} digits, not {len(raw)}.",
        )
    for position, char in enumerate(raw, start=1):
        if char not in _DIGITS:
            raise InvalidLicence(
                "licence.characters",
                f"律师执业证号只能由数字组成，第{position}位不是数字。",
                f"A practising-licence number is digits only; character {position} is not.",
            )
    province = raw[:2]
    if province not in PROVINCES:
        raise InvalidLicence(
            "licence.region",
            f"律师执业证号第1–2位应为省级行政区划代码，{province}不是有效代码。",
            f"Digits 1–2 of a licence number are a province code; {province} is none.",
        )
    year, latest = int(raw[4:8]), this_year if this_year is not None else _this_year()
    if not FIRST_YEAR <= year <= latest:
        raise InvalidLicence(
            "licence.year",
            f"律师执业证号第5–8位为首次执业年份，应在{FIRST_YEAR}年至{latest}年之间，"
            f"实际为{raw[4:8]}。",
            f"Digits 5–8 of a licence number are the year of the first licence, "
            f"{FIRST_YEAR} to {latest}; {raw[4:8]} is not.",
        )
    practice = raw[8]
    if practice not in PRACTICES:
        raise InvalidLicence(
            "licence.practice",
            f"律师执业证号第9位为执业类别（1–8），{practice}无效。",
            f"Digit 9 of a licence number is the kind of practice (1 to 8); {practice} is none.",
        )
    sex = raw[9]
    if sex not in SEXES:
        raise InvalidLicence(
            "licence.sex",
            f"律师执业证号第10位为性别（0女、1男），{sex}无效。",
            f"Digit 10 of a licence number is the sex (0 female, 1 male); {sex} is neither.",
        )
    return Licence(
        number=raw,
        region_code=raw[:4],
        first_year=year,
        practice=practice,
        sex=SEXES[sex],
        serial=raw[10:],
    )
