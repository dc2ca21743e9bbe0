"""Resident identity card numbers (公民身份号码), GB 11643-1999.

An 18-character number is: 6-digit administrative region code, 8-digit birth
date ``YYYYMMDD``, 3-digit sequence code (odd for men, even for women) and one
check character computed with ISO 7064 MOD 11-2 (``0``-``9`` or ``X`` for 10).

Numbers issued before 1999 have 15 digits: region, ``YYMMDD`` (always 19xx),
sequence, no check character. They are upgraded to 18 characters by inserting
``19`` before the year and appending the check character.

Only the form is checked: the region code is not looked up in a region table
(regions are renamed and merged; an old number stays valid).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from casecenter.law.errors import InvalidIdNumber

_DIGITS = frozenset("0123456789")
# ISO 7064 MOD 11-2: the weight of position i (1-based from the left, of 18) is
# 2**(18 - i) mod 11; written out for the 17 positions that carry digits.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
# (12 - sum mod 11) mod 11, with 10 written as X, indexed by sum mod 11.
_CHECK_CHARS = "10X98765432"
_SHANGHAI = ZoneInfo("Asia/Shanghai")

Sex = Literal["M", "F"]


@dataclass(frozen=True)
class IdNumber:
    """A well-formed resident ID number and what it says about its holder."""

    number: str  # 18 characters, canonical: an upper-case X
    birth_date: date
    sex: Sex
    region_code: str
    upgraded_from_15: bool


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit() also accepts full-width and other scripts' digits.
    return bool(text) and all(c in _DIGITS for c in text)


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character (``0``-``9`` or ``X``) of 17 digits."""
    if len(first17) != 17 or not _is_ascii_digits(first17):
        raise InvalidIdNumber(
            "id_number.characters",
            "计算校验码需要恰好17位数字。",
            "The check character is computed from exactly 17 digits.",
        )
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def _birth_date(text: str) -> date:
    try:
        return date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise InvalidIdNumber(
            "id_number.birth_date",
            f"身份证号码中的出生日期{text}不是有效日期。",
            f"The birth date {text} in the ID number is not a real date.",
        ) from None


def parse_id_number(text: str, *, today: date | None = None) -> IdNumber:
    """Check ``text`` and return the canonical 18-character number with its facts.

    Surrounding whitespace is ignored; anything else that is not a digit (or a
    final ``X``/``x`` in an 18-character number) is rejected. ``today`` (default:
    today in Asia/Shanghai) bounds the birth date: nobody is born in the future.
    Messages never repeat the number: it is sensitive personal information
    (PIPL Art. 28) and error messages end up in logs.
    """
    raw = text.strip()
    if len(raw) not in (15, 18):
        raise InvalidIdNumber(
            "id_number.length",
            f"身份证号码应为18位（或旧式15位），实际为{len(raw)}位。",
            f"An ID number has 18 characters (or 15 for an old one), not {len(raw)}.",
        )
    if len(raw) == 15:
        if not _is_ascii_digits(raw):
            raise InvalidIdNumber(
                "id_number.characters",
                "15位身份证号码只能由数字组成。",
                "A 15-digit ID number consists of digits only.",
            )
        first17 = raw[:6] + "19" + raw[6:]
        number = first17 + check_digit(first17)
        upgraded = True
    else:
        last = raw[17].upper()
        if not _is_ascii_digits(raw[:17]) or not (last in _DIGITS or last == "X"):
            raise InvalidIdNumber(
                "id_number.characters",
                "18位身份证号码前17位须为数字，最后一位须为数字或X。",
                "An 18-character ID number is 17 digits followed by a digit or X.",
            )
        number = raw[:17] + last
        upgraded = False

    birth = _birth_date(number[6:14])
    limit = today if today is not None else datetime.now(_SHANGHAI).date()
    if birth > limit:
        raise InvalidIdNumber(
            "id_number.birth_date_future",
            f"身份证号码中的出生日期{birth.isoformat()}晚于今天。",
            f"The birth date {birth.isoformat()} in the ID number is in the future.",
        )
    if not upgraded:
        expected = check_digit(number[:17])
        if number[17] != expected:
            raise InvalidIdNumber(
                "id_number.check_digit",
                f"身份证号码校验码错误：应为{expected}，实际为{number[17]}。",
                f"Wrong check character in the ID number: expected {expected}, found {number[17]}.",
            )
    return IdNumber(
        number=number,
        birth_date=birth,
        sex="M" if int(number[16]) % 2 == 1 else "F",
        region_code=number[:6],
        upgraded_from_15=upgraded,
    )
