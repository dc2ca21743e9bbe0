"""The canonical bytes of an entry: fixed, and stable through both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from casecenter.audit.canonical import format_at, leaf_data, normalise_data

AT = datetime(2025, 3, 1, 8, 0, 0, 120, tzinfo=UTC)


def test_leaf_data_is_sorted_compact_utf8_json_of_the_nine_fields():
    data = leaf_data(
        seq=7,
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
            '"object_id":"42","object_type":"cases.case","reason":"立案","seq":7}'
        ).encode()
    )


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
