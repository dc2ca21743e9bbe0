"""The practising-licence number parser (律师执业证号): field by field, by example
and by property. Pure Python: no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casecenter.meetings.licence import (
    PRACTICES,
    PROVINCES,
    InvalidLicence,
    Licence,
    compose,
    parse_licence,
)

THIS_YEAR = 2026

provinces = st.sampled_from(sorted(PROVINCES))
cities = st.integers(0, 99).map(lambda n: f"{n:02d}")
years = st.integers(1980, THIS_YEAR)
practices = st.sampled_from(sorted(PRACTICES))
sexes = st.sampled_from(["M", "F"])
serials = st.integers(0, 9_999_999).map(lambda n: f"{n:07d}")


@st.composite
def licences(draw):
    fields = {
        "region_code": draw(provinces) + draw(cities),
        "first_year": draw(years),
        "practice": draw(practices),
        "sex": draw(sexes),
        "serial": draw(serials),
    }
    return compose(**fields), fields


def parse(text: str) -> Licence:
    return parse_licence(text, this_year=THIS_YEAR)


def refused(text: str) -> str:
    with pytest.raises(InvalidLicence) as caught:
        parse(text)
    return caught.value.code


def test_a_beijing_full_time_lawyers_licence_reads_field_by_field():
    licence = parse(" 11012010110012345 ")
    assert licence.number == "11012010110012345"
    assert (licence.region_code, licence.province_code) == ("1101", "11")
    assert (licence.first_year, licence.practice, licence.sex) == (2010, "1", "M")
    assert licence.serial == "0012345"
    assert (licence.practice_zh, licence.practice_en) == ("专职律师", "full-time lawyer")


@pytest.mark.parametrize(
    ("text", "code", "zh", "en"),
    [
        ("1101201011001234", "licence.length", "17位", "17 digits, not 16"),
        ("110120101100123456", "licence.length", "实际为18位", "not 18"),
        ("1101201011001234５", "licence.characters", "第17位", "character 17"),
        ("1101-2010-1100123", "licence.characters", "第5位", "character 5"),
        ("16012010110012345", "licence.region", "16不是有效代码", "16 is none"),
        ("71012010110012345", "licence.region", "71", "province code"),
        ("11011979110012345", "licence.year", "1979", "1979 is not"),
        ("11012027110012345", "licence.year", "2027", "1980 to 2026"),
        ("11012010010012345", "licence.practice", "0无效", "0 is none"),
        ("11012010910012345", "licence.practice", "9无效", "kind of practice"),
        ("11012010120012345", "licence.sex", "2无效", "0 female, 1 male"),
    ],
)
def test_each_wrong_field_is_named_in_both_languages(text, code, zh, en):
    with pytest.raises(InvalidLicence) as caught:
        parse(text)
    assert caught.value.code == code
    assert zh in caught.value.message_zh and en in caught.value.message_en


def test_every_practice_kind_of_the_ministry_is_known_and_only_those():
    assert sorted(PRACTICES) == [str(n) for n in range(1, 9)]
    for practice in PRACTICES:
        assert parse(f"31012010{practice}0{'0' * 7}").practice == practice


@given(licences())
def test_valid_numbers_round_trip(case):
    number, fields = case
    licence = parse(number)
    assert licence.number == number
    assert {
        "region_code": licence.region_code,
        "first_year": licence.first_year,
        "practice": licence.practice,
        "sex": licence.sex,
        "serial": licence.serial,
    } == fields
    assert compose(**fields) == number


WRONG_FIELDS = {
    # field → (slice of the number, strategy of a wrong value, expected code)
    "province": (
        slice(0, 2),
        st.integers(0, 99).map(lambda n: f"{n:02d}").filter(lambda p: p not in PROVINCES),
        "licence.region",
    ),
    "year": (
        slice(4, 8),
        st.one_of(st.integers(0, 1979), st.integers(THIS_YEAR + 1, 9999)).map(lambda y: f"{y:04d}"),
        "licence.year",
    ),
    "practice": (slice(8, 9), st.sampled_from(["0", "9"]), "licence.practice"),
    "sex": (slice(9, 10), st.sampled_from(list("23456789")), "licence.sex"),
}


@given(licences(), st.sampled_from(sorted(WRONG_FIELDS)), st.data())
def test_any_single_wrong_field_is_refused_with_its_own_code(case, field, data):
    number, _ = case
    where, wrong, code = WRONG_FIELDS[field]
    broken = number[: where.start] + data.draw(wrong) + number[where.stop :]
    assert len(broken) == 17
    assert refused(broken) == code


@given(licences(), st.integers(0, 16), st.characters(blacklist_categories=["Nd"]))
def test_a_character_that_is_not_a_digit_anywhere_is_refused(case, position, char):
    number, _ = case
    broken = number[:position] + char + number[position + 1 :]
    code = refused(broken)
    # a space at either end is trimmed, which makes the number one digit short
    trimmed = char.isspace() and position in (0, 16)
    assert code == ("licence.length" if trimmed else "licence.characters")


@given(licences(), st.sampled_from(["０", "١", "߀", "٣"]), st.integers(0, 16))
def test_digits_of_other_scripts_are_not_taken_for_ascii_digits(case, digit, position):
    number, _ = case
    assert refused(number[:position] + digit + number[position + 1 :]) == "licence.characters"


@given(licences(), st.integers(1, 3))
def test_a_missing_or_extra_digit_is_a_length_error(case, n):
    number, _ = case
    assert refused(number[:-n]) == "licence.length"
    assert refused(number + "1" * n) == "licence.length"


@given(st.one_of(st.text(max_size=40), st.text(alphabet="0123456789 ", max_size=20)))
def test_garbage_never_crashes_it_is_a_licence_or_a_named_refusal(text):
    try:
        licence = parse(text)
    except InvalidLicence as exc:
        assert exc.code.startswith("licence.") and exc.message_zh and exc.message_en
    else:
        assert len(licence.number) == 17 and licence.number == text.strip()


def test_not_a_string_is_refused_not_crashed():
    with pytest.raises(InvalidLicence):
        parse_licence(None)  # type: ignore[arg-type]
