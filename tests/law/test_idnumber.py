"""Resident ID numbers, GB 11643-1999 (ISO 7064 MOD 11-2)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casecenter.law import InvalidIdNumber, LawError, check_digit, parse_id_number

# The examples printed in GB 11643-1999 itself.
FEMALE_1949 = "11010519491231002X"
MALE_1880 = "440524188001010014"


def with_check(first17: str) -> str:
    return first17 + check_digit(first17)


def test_the_standards_examples_parse_with_their_facts():
    woman = parse_id_number(FEMALE_1949)
    man = parse_id_number(MALE_1880)

    assert (woman.number, woman.birth_date, woman.sex, woman.region_code) == (
        FEMALE_1949,
        date(1949, 12, 31),
        "F",
        "110105",
    )
    assert woman.upgraded_from_15 is False
    assert (man.birth_date, man.sex, man.region_code) == (date(1880, 1, 1), "M", "440524")


def test_check_digit_of_the_standards_examples():
    assert check_digit(FEMALE_1949[:17]) == "X"
    assert check_digit(MALE_1880[:17]) == "4"


def test_a_lower_case_x_is_accepted_and_made_upper_case():
    assert parse_id_number(FEMALE_1949.lower()).number == FEMALE_1949


def test_surrounding_whitespace_is_ignored():
    assert parse_id_number(f" \t{FEMALE_1949}\n").number == FEMALE_1949


def test_a_fifteen_digit_number_is_upgraded_to_eighteen():
    parsed = parse_id_number("110105491231002")

    assert parsed.number == FEMALE_1949
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == "F"
    assert parsed.upgraded_from_15 is True


@pytest.mark.parametrize("text", ["", "1101051949123100", "11010519491231002X1", "1" * 16])
def test_a_wrong_length_is_refused(text):
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(text)

    assert caught.value.code == "id_number.length"


@pytest.mark.parametrize(
    "text",
    [
        "11010519491231 02X",  # inner space
        "1101051949123X002X",  # X before the end
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits
        "11010519491231002Y",
        "11010549123100X",  # 15 digits never end in X
        "٤٤٠٥٢٤١٨٨٠٠١٠١٠٠١٤",  # Arabic-Indic digits: isdigit() would say yes
    ],
)
def test_anything_but_ascii_digits_and_a_final_x_is_refused(text):
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(text)

    assert caught.value.code == "id_number.characters"


@pytest.mark.parametrize("birth", ["19490230", "19491301", "00000101", "20230229"])
def test_a_birth_date_that_does_not_exist_is_refused(birth):
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(with_check(f"110105{birth}002"))

    assert caught.value.code == "id_number.birth_date"
    assert birth in caught.value.message_en


def test_a_fifteen_digit_number_with_an_impossible_date_is_refused():
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number("110105490230002")

    assert caught.value.code == "id_number.birth_date"


def test_a_birth_date_after_today_is_refused():
    number = with_check("11010520260102001")

    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(number, today=date(2026, 1, 1))

    assert caught.value.code == "id_number.birth_date_future"
    assert parse_id_number(number, today=date(2026, 1, 2)).birth_date == date(2026, 1, 2)


def test_a_wrong_check_character_is_refused_with_the_expected_one():
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number("110105194912310021")

    assert caught.value.code == "id_number.check_digit"
    assert "expected X" in caught.value.message_en
    assert "应为X" in caught.value.message_zh


def test_error_messages_do_not_repeat_the_number():
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number("110105194912310021")

    assert "110105194912310021" not in caught.value.message_en
    assert "110105194912310021" not in caught.value.message_zh


def test_id_number_errors_are_value_errors_whose_str_is_english():
    with pytest.raises(ValueError) as caught:
        parse_id_number("123")

    assert isinstance(caught.value, LawError)
    assert str(caught.value) == caught.value.message_en
    assert "18" in str(caught.value)


@pytest.mark.parametrize("text", ["1234567890123456", "1101051949123100X", "abcdefghijklmnopq"])
def test_check_digit_needs_exactly_seventeen_digits(text):
    with pytest.raises(InvalidIdNumber):
        check_digit(text)


# --- properties ------------------------------------------------------------------

REGIONS = st.text(alphabet="0123456789", min_size=6, max_size=6)
SEQUENCES = st.text(alphabet="0123456789", min_size=3, max_size=3)


@given(
    region=REGIONS,
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
    sequence=SEQUENCES,
)
def test_any_seventeen_digits_with_their_check_character_parse(region, birth, sequence):
    first17 = f"{region}{birth:%Y%m%d}{sequence}"

    parsed = parse_id_number(first17 + check_digit(first17), today=date(2021, 1, 1))

    assert parsed.birth_date == birth
    assert parsed.region_code == region
    assert parsed.sex == ("M" if int(sequence[-1]) % 2 else "F")


@given(
    region=REGIONS,
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
    sequence=SEQUENCES,
    position=st.integers(min_value=0, max_value=17),
    data=st.data(),
)
def test_changing_any_one_character_breaks_the_number(region, birth, sequence, position, data):
    first17 = f"{region}{birth:%Y%m%d}{sequence}"
    number = first17 + check_digit(first17)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    changed = number[:position] + replacement + number[position + 1 :]

    assert check_digit(changed[:17]) != changed[17]
    try:
        parse_id_number(changed, today=date.max)
    except InvalidIdNumber as error:
        assert error.code in ("id_number.check_digit", "id_number.birth_date")
    else:
        raise AssertionError(f"{changed} was accepted")


@given(
    region=REGIONS,
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)),
    sequence=SEQUENCES,
)
def test_upgrading_fifteen_digits_keeps_birth_date_sex_and_region(region, birth, sequence):
    old = f"{region}{birth:%y%m%d}{sequence}"

    parsed = parse_id_number(old)

    assert parsed.upgraded_from_15 is True
    assert parsed.birth_date == birth
    assert parsed.sex == ("M" if int(sequence[-1]) % 2 else "F")
    assert parsed.number[:6] + parsed.number[8:17] == old
    assert parse_id_number(parsed.number).number == parsed.number
