"""The canonical bytes of an entry: fixed, and stable through both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from casecenter.audit.canonical import (
    LEAF_FIELDS,
    LEAF_VERSION,
    entry_leaf_data,
    format_at,
    leaf_data,
    normalise_data,
    parse_leaf,
)

AT = datetime(2025, 3, 1, 8, 0, 0, 120, tzinfo=UTC)
FIELDS = {
    "at": AT,
    "actor_id": None,
    "actor_name": "system",
    "action": "calendars.year.load",
    "object_type": "",
    "object_id": "",
    "reason": "",
    "data": {"year": 2025},
}


def test_leaf_data_is_sorted_compact_utf8_json_of_the_eight_fields_and_the_version():
    data = leaf_data(
        at=AT,
        actor_id=3,
        actor_name="李警官",
        action="case.transition",
        object_type="cases.case",
        object_id="42",
        reason="立案",
        data={"to": "filed", "from": "accepted"},
    )
    assert (
        data
        == (
            '{"action":"case.transition","actor_id":3,"actor_name":"李警官",'
            '"at":"2025-03-01T08:00:00.000120Z","data":{"from":"accepted","to":"filed"},'
            '"object_id":"42","object_type":"cases.case","reason":"立案","v":2}'
        ).encode()
    )


def test_the_leaf_holds_no_place_in_the_log():
    """Version 2: an entry is hashed before the sequencer gives it a place."""
    with pytest.raises(TypeError):
        leaf_data(seq=7, **FIELDS)  # type: ignore[call-arg]
    assert "seq" not in parse_leaf(leaf_data(**FIELDS))
    assert LEAF_VERSION == 2


def test_parse_leaf_reads_a_version_2_leaf_and_refuses_anything_else():
    leaf = leaf_data(**FIELDS)
    assert parse_leaf(leaf) == {**FIELDS, "at": format_at(AT), "v": 2}
    assert parse_leaf(leaf.decode()) == parse_leaf(leaf)
    version_1 = leaf.replace(b'"v":2', b'"seq":7')
    for other in (version_1, leaf.replace(b'"v":2', b'"v":3'), b"[]", b'"text"'):
        with pytest.raises(ValueError, match="not a version 2 audit leaf"):
            parse_leaf(other)


def test_entry_leaf_data_reads_the_fields_of_anything_that_has_them():
    assert entry_leaf_data(SimpleNamespace(**FIELDS)) == leaf_data(**FIELDS)


def test_the_leaf_fields_are_the_entrys_generated_columns():
    from casecenter.audit.models import AuditEntry

    generated = [f.name for f in AuditEntry._meta.concrete_fields if f.generated]
    assert sorted(generated) == sorted(LEAF_FIELDS)


def test_at_is_utc_with_six_fractional_digits_whatever_the_zone():
    beijing = timezone(timedelta(hours=8))
    assert format_at(datetime(2025, 3, 1, 16, 0, tzinfo=beijing)) == "2025-03-01T08:00:00.000000Z"
    with pytest.raises(ValueError):
        format_at(datetime(2025, 3, 1, 8, 0))  # naive: which 08:00?


def test_data_is_normalised_to_what_both_databases_return():
    assert normalise_data({"t": (1, 2), "big": 1e16, "neg": -1e20, "z": -0.0, "f": 0.1}) == {
        "t": [1, 2],
        "big": 10**16,
        "neg": -(10**20),
        "z": 0.0,
        "f": 0.1,
    }
    normalised = normalise_data({"z": -0.0})
    assert str(normalised) == "{'z': 0.0}"  # not -0.0


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({"x": float("nan")}, ValueError),
        ({"x": float("inf")}, ValueError),
        ({1: "a"}, TypeError),
        ({"x": {1, 2}}, TypeError),
        ({"x": datetime(2025, 1, 1, tzinfo=UTC)}, TypeError),
        ({"x": "a\x00b"}, ValueError),
        ({"a\x00": 1}, ValueError),
        ({"x": "\ud800"}, ValueError),
    ],
)
def test_data_no_database_keeps_unchanged_is_refused(value, error):
    with pytest.raises(error):
        normalise_data(value)
