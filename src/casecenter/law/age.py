"""Age (年龄) and the bands of criminal responsibility for minors.

Two ways of counting are needed:

- ``age_on`` is the everyday count of completed years: a person is one year
  older on each birthday. Someone born on 29 February becomes a year older on
  1 March in a year without 29 February (their birthday has not yet come on
  28 February). This is the count for anything that is not criminal age.
- ``criminal_age_on`` is the count the Supreme People's Court prescribes for
  the ages in Criminal Law Art. 17 (法释〔2006〕1号, Art. 2): ages are counted by
  the Gregorian calendar "from the day after the birthday" (从周岁生日的第二天起算).
  On the 18th birthday itself a person is therefore still under 18. It equals
  ``age_on`` of the day before, so the 29 February rule carries over: in a
  non-leap year such a person reaches the new age on 2 March. Both choices err
  on the side of the minor.

``is_minor_at`` and ``responsibility_band`` use the criminal count, at the time
of the act (LAW.md, "Minors").
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from casecenter.law.errors import LawError


class ResponsibilityBand(StrEnum):
    """Criminal-responsibility age band (刑事责任年龄段), Criminal Law Art. 17.

    - ``UNDER_14``: no criminal responsibility. (Since Amendment XI, 2021, a
      person of 12–13 may answer for intentional homicide or intentional injury
      causing death or grave disability by especially cruel means, with the
      Supreme People's Procuratorate's approval: such a case needs a person.)
    - ``FROM_14_TO_16``: responsible only for the crimes listed in Art. 17(2).
    - ``FROM_16_TO_18``: responsible, as a minor (lighter punishment, juvenile
      procedure of CPL Part V Ch. I).
    - ``ADULT``: 18 or older.
    """

    UNDER_14 = "under_14"
    FROM_14_TO_16 = "14_to_16"
    FROM_16_TO_18 = "16_to_18"
    ADULT = "adult"


def age_on(birth: date, on: date) -> int:
    """Completed years of a person born on ``birth``, on the day ``on``."""
    if on < birth:
        raise LawError(
            "age.before_birth",
            f"日期{on.isoformat()}早于出生日期{birth.isoformat()}。",
            f"The day {on.isoformat()} is before the birth date {birth.isoformat()}.",
        )
    years = on.year - birth.year
    # Tuple comparison puts 29 Feb after 28 Feb: no birthday yet on 28 Feb.
    if (on.month, on.day) < (birth.month, birth.day):
        years -= 1
    return years


def criminal_age_on(birth: date, on: date) -> int:
    """Age for criminal responsibility: counted from the day after the birthday."""
    if on < birth:
        return age_on(birth, on)  # raises age.before_birth
    if on == birth:
        return 0
    return age_on(birth, on - timedelta(days=1))


def is_minor_at(birth: date, on: date) -> bool:
    """Whether a person born on ``birth`` was under 18 on ``on`` (the day of the act)."""
    return criminal_age_on(birth, on) < 18


def responsibility_band(birth: date, on: date) -> ResponsibilityBand:
    """The criminal-responsibility band on ``on`` (the day of the act)."""
    age = criminal_age_on(birth, on)
    if age < 14:
        return ResponsibilityBand.UNDER_14
    if age < 16:
        return ResponsibilityBand.FROM_14_TO_16
    if age < 18:
        return ResponsibilityBand.FROM_16_TO_18
    return ResponsibilityBand.ADULT
