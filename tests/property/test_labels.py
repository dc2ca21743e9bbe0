"""Labels read back by a real decoder (zxing-cpp): the QR code and the Code 128 barcode
both carry exactly the item number (or the shelf's code), and fit the 60 × 40 mm label."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from casecenter.errors import InvalidInput
from casecenter.property.labels import (
    BAR_MM,
    HEIGHT_MM,
    WIDTH_MM,
    Label,
    bar_width_mm,
    item_label,
    location_label,
    read_scan,
)
from casecenter.property.services import SCAN_MAX


def decoded(png: bytes) -> dict[str, str]:
    """What zxing-cpp reads off the image: format name → text."""
    image = Image.open(io.BytesIO(png))
    return {str(r.format): r.text for r in zxingcpp.read_barcodes(image)}


@pytest.mark.django_db
def test_an_item_label_reads_back_as_its_number_in_both_symbols(seize):
    item = seize()
    assert decoded(item_label(item).png()) == {"QR Code": item.number, "Code 128": item.number}


@pytest.mark.django_db
def test_a_label_printed_at_203_dpi_reads_back_too(seize):
    item = seize()
    assert decoded(item_label(item).png(dpi=203)) == {
        "QR Code": item.number,
        "Code 128": item.number,
    }


@pytest.mark.django_db
def test_a_shelf_label_reads_back_as_its_location_code(rooms):
    label = location_label(rooms["CW1-A-01"])
    assert decoded(label.png()) == {"QR Code": "CW1-A-01", "Code 128": "CW1-A-01"}
    assert label.title == "财物室一" and "A" in label.lines[0]


def test_the_png_is_the_label_size_at_its_resolution():
    image = Image.open(io.BytesIO(Label("ZGC-WP-2026-000001").png(dpi=300)))
    assert image.size == (round(WIDTH_MM * 300 / 25.4), round(HEIGHT_MM * 300 / 25.4))
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)


@pytest.mark.parametrize(
    "code",
    ["ZGC-WP-2026-000001", "HDJ-ZGC-LONGORG-WP-2026-000123", "X" * 40, "cw1-a-01", "A1"],
)
def test_long_and_short_codes_fit_the_label_and_still_read(code):
    assert decoded(Label(code).png()) == {"QR Code": code, "Code 128": code}
    svg = Label(code).barcode_svg()
    width = float(re.search(r'width="([0-9.]+)mm"', svg).group(1))
    assert width <= WIDTH_MM and bar_width_mm(code) <= BAR_MM


def test_the_svgs_are_sized_in_millimetres_and_carry_no_text():
    label = Label("ZGC-WP-2026-000001")
    qr, bars = label.qr_svg(), label.barcode_svg()
    assert qr.startswith("<svg") and 'width="17.5mm"' in qr
    assert bars.startswith("<svg") and 'height="8.000mm"' in bars
    assert "ZGC" not in qr + bars  # the human-readable line is the page's, not the symbols'


def test_a_code_code_128_cannot_carry_gets_its_qr_code_alone():
    label = Label("财物-1")
    assert not label.encodable and label.barcode_svg() == ""
    assert decoded(label.png()) == {"QR Code": "财物-1"}


# --- what a hand scanner types ---------------------------------------------------------


@pytest.mark.parametrize(
    "typed,code",
    [
        ("ZGC-WP-2026-000001", "ZGC-WP-2026-000001"),
        ("  ZGC-WP-2026-000001\r\n", "ZGC-WP-2026-000001"),
        ("\tCW1-A-01\t", "CW1-A-01"),
        ("ＺＧＣ－ＷＰ－２０２６－０００００１", "ZGC-WP-2026-000001"),  # a Chinese IME was on
    ],
)
def test_what_a_scanner_types_becomes_the_code(typed, code):
    assert read_scan(typed) == code


@pytest.mark.parametrize("typed", [None, "", "   ", "ZGC\x00WP", "A\tB", "\x1b[2J", "A" * 101])
def test_unreadable_input_is_refused(typed):
    with pytest.raises(InvalidInput) as err:
        read_scan(typed)
    assert err.value.code == "scan.unreadable"


@given(st.text(max_size=600))
def test_a_scan_is_a_short_printable_code_or_refused(text):
    try:
        code = read_scan(text)
    except InvalidInput:
        return
    assert 0 < len(code) <= SCAN_MAX and code.isprintable() and code == code.strip()
