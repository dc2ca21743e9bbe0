"""Ages and criminal-responsibility bands (LAW.md "Minors")."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casecenter.law import (
    LawError,
    ResponsibilityBand,
    age_on,
    criminal_age_on,
    is_minor_at,
    responsibility_band,
)

BIRTH = date(2008, 6, 15)
LEAP_BIRTH = date(2008, 2, 29)


def test_age_counts_completed_years_and_grows_on_the_birthday():
    assert age_on(BIRTH, date(2026, 6, 14)) == 17
    assert age_on(BIRTH, date(2026, 6, 15)) == 18
    assert age_on(BIRTH, BIRTH) == 0


def test_someone_born_on_29_february_is_a_year_older_on_1_march_in_a_common_year():
    assert age_on(LEAP_BIRTH, date(2026, 2, 28)) == 17
    assert age_on(LEAP_BIRTH, date(2026, 3, 1)) == 18
    assert age_on(LEAP_BIRTH, date(2028, 2, 29)) == 20


def test_an_age_before_birth_is_refused():
    with pytest.raises(LawError) as caught:
        age_on(BIRTH, date(2008, 6, 14))

    assert caught.value.code == "age.before_birth"


def test_criminal_age_is_reached_only_the_day_after_the_birthday():
    # SPC interpretation 法释〔2006〕1号 Art. 2: from the day after the birthday.
    assert criminal_age_on(BIRTH, date(2026, 6, 15)) == 17
    assert criminal_age_on(BIRTH, date(2026, 6, 16)) == 18


def test_a_person_acting_on_the_eighteenth_birthday_is_still_a_minor():
    assert is_minor_at(BIRTH, date(2026, 6, 15)) is True
    assert is_minor_at(BIRTH, date(2026, 6, 16)) is False


def test_someone_born_on_29_february_comes_of_age_criminally_on_2_march():
    assert is_minor_at(LEAP_BIRTH, date(2026, 3, 1)) is True
    assert is_minor_at(LEAP_BIRTH, date(2026, 3, 2)) is False


@pytest.mark.parametrize(
    ("on", "band"),
    [
        (date(2008, 6, 15), ResponsibilityBand.UNDER_14),
        (date(2022, 6, 15), ResponsibilityBand.UNDER_14),  # 14th birthday
        (date(2022, 6, 16), ResponsibilityBand.FROM_14_TO_16),
        (date(2024, 6, 15), ResponsibilityBand.FROM_14_TO_16),  # 16th birthday
        (date(2024, 6, 16), ResponsibilityBand.FROM_16_TO_18),
        (date(2026, 6, 15), ResponsibilityBand.FROM_16_TO_18),  # 18th birthday
        (date(2026, 6, 16), ResponsibilityBand.ADULT),
    ],
)
def test_responsibility_band_changes_the_day_after_each_birthday(on, band):
    assert responsibility_band(BIRTH, on) is band


def test_responsibility_band_values_are_stable_codes():
    assert [b.value for b in ResponsibilityBand] == ["under_14", "14_to_16", "16_to_18", "adult"]


@given(birth=st.dates(), days=st.integers(min_value=1, max_value=40_000))
def test_criminal_age_is_the_age_of_the_day_before(birth, days):
    try:
        on = birth + timedelta(days=days)
    except OverflowError:
        return
    assert criminal_age_on(birth, on) == age_on(birth, on - timedelta(days=1))
    assert age_on(birth, on) - criminal_age_on(birth, on) in (0, 1)
    assert age_on(birth, on) >= age_on(birth, on - timedelta(days=1))
