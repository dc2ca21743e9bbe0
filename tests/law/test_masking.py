"""Masking personal information for display (PIPL Art. 28)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casecenter.law import mask_id_number, mask_name, mask_phone


def test_an_id_number_keeps_its_region_and_last_four():
    assert mask_id_number("110105199003071234") == "110105********1234"
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("110105491231002") == "110105*****1002"


def test_a_name_keeps_its_first_character():
    assert mask_name("张三丰") == "张**"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("Alice") == "A****"


def test_a_one_character_name_is_never_shown_whole():
    assert mask_name("张") == "张*"


def test_a_mobile_number_keeps_the_first_three_and_last_four():
    assert mask_phone("13812345678") == "138****5678"


@pytest.mark.parametrize("mask", [mask_id_number, mask_name, mask_phone])
@pytest.mark.parametrize("value", ["", None, "   "])
def test_empty_stays_empty(mask, value):
    assert mask(value) == ""


def test_values_too_short_to_keep_their_ends_are_masked_whole():
    assert mask_id_number("1234567890") == "**********"
    assert mask_phone("1234567") == "*******"


@given(st.text().filter(lambda t: "*" not in t))
def test_masking_never_raises_and_never_shows_a_value_whole(text):
    value = text.strip()
    for mask in (mask_id_number, mask_name, mask_phone):
        masked = mask(text)
        assert isinstance(masked, str)
        if value:
            assert "*" in masked
            assert masked != value
    for mask in (mask_id_number, mask_phone):
        masked = mask(text)
        assert len(masked) == len(value)
        assert all(m in ("*", c) for m, c in zip(masked, value, strict=True))
