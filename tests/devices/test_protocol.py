"""The device protocol: what parses, what is refused and why (pure, no database)."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casecenter.custody.tracking import Event
from casecenter.devices.protocol import (
    ProtocolError,
    command_payload,
    encode,
    parse,
    parse_command,
    split_topic,
    topic_for,
)

TS = "2026-11-26T09:30:00.250+08:00"


def body(**fields) -> bytes:
    return json.dumps({"seq": 7, "ts": TS, **fields}).encode()


def refused(topic: str, payload: bytes) -> str:
    with pytest.raises(ProtocolError) as caught:
        parse(topic, payload)
    return caught.value.code


def test_a_presence_message_becomes_an_event_with_the_topics_device():
    event = parse("casecenter/v1/hd-zx/presence/wb-01", body(zone="int1", event="enter"))
    assert event == Event(
        center="hd-zx",
        kind="presence",
        device="wb-01",
        seq=7,
        device_time=datetime(2026, 11, 26, 1, 30, 0, 250_000, tzinfo=UTC),
        payload={"zone": "int1", "event": "enter"},
    )
    assert event.device_time.utcoffset() == timedelta(hours=8)  # the device's own offset kept


def test_z_is_utc_and_unknown_fields_are_dropped():
    event = parse(
        "casecenter/v1/hd-zx/vitals/wb-01",
        json.dumps({"seq": 0, "ts": "2026-11-26T01:30:00Z", "hr": 80, "firmware": "1.2"}).encode(),
    )
    assert event.device_time == datetime(2026, 11, 26, 1, 30, tzinfo=UTC)
    assert event.payload == {"hr": 80}


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"{not json", "json"),
        (b"\xff\xfe", "json"),
        (b"[1, 2]", "payload"),
        (b"[" * 3000, "json"),  # nested past Python's recursion limit
        (json.dumps({"ts": TS, "hr": 80}).encode(), "seq"),
        (json.dumps({"seq": -1, "ts": TS, "hr": 80}).encode(), "seq"),
        (json.dumps({"seq": 2**63, "ts": TS, "hr": 80}).encode(), "seq"),
        (json.dumps({"seq": True, "ts": TS, "hr": 80}).encode(), "seq"),
        (json.dumps({"seq": 1.5, "ts": TS, "hr": 80}).encode(), "seq"),
        (json.dumps({"seq": 1, "hr": 80}).encode(), "ts"),
        (json.dumps({"seq": 1, "ts": "2026-11-26T09:30:00", "hr": 80}).encode(), "ts"),
        (json.dumps({"seq": 1, "ts": "yesterday", "hr": 80}).encode(), "ts"),
        (json.dumps({"seq": 1, "ts": "1970-01-01T00:00:00Z", "hr": 80}).encode(), "ts"),
        (json.dumps({"seq": 1, "ts": 1764120600, "hr": 80}).encode(), "ts"),
        (body(hr=301), "hr"),
        (body(hr=-1), "hr"),
        (body(hr="80"), "hr"),
        (body(spo2=101), "spo2"),
        (body(bp=[80, 120]), "bp"),
        (body(bp=[120, 120]), "bp"),
        (body(bp=[120]), "bp"),
        (body(bp=[400, 80]), "bp"),
        (body(), "vitals"),
        (b"{" + b'"a":' * 3000 + b"1" + b"}" * 3000, "too_large"),
    ],
)
def test_bad_vitals_messages_are_refused_with_a_code(payload, code):
    assert refused("casecenter/v1/hd-zx/vitals/wb-01", payload) == code


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"zone": "int1", "event": "arrive"}, "event"),
        ({"zone": "int1"}, "event"),
        ({"event": "enter"}, "zone"),
        ({"zone": "", "event": "enter"}, "zone"),
        ({"zone": "a/b", "event": "enter"}, "zone"),
        ({"zone": "int\u00001", "event": "enter"}, "zone"),
    ],
)
def test_bad_presence_messages_are_refused(fields, code):
    assert refused("casecenter/v1/hd-zx/presence/wb-01", body(**fields)) == code


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"battery": 101}, "battery"),
        ({"battery": -5}, "battery"),
        ({"strap": "open"}, "strap"),
        ({"command": "abc"}, "recording"),
        ({"recording": "yes"}, "recording"),
        ({"recording": True, "audio": 1}, "audio"),
        ({"recording": True, "command": "x" * 41}, "command"),
        ({"fault": "disk_full"}, "recording"),
        ({"recording": True, "fault": "disk_full"}, "fault"),
        ({"recording": False, "fault": "Disk Full!"}, "fault"),
        ({"recording": False, "fault": 7}, "fault"),
        ({}, "status"),
    ],
)
def test_bad_status_messages_are_refused(fields, code):
    assert refused("casecenter/v1/hd-zx/status/cam-1", body(**fields)) == code


@pytest.mark.parametrize(
    ("topic", "code"),
    [
        ("casecenter/v1/hd-zx/vital/wb-01", "kind"),
        ("casecenter/v1/hd-zx/command/cam-1", "kind"),
        ("casecenter/v2/hd-zx/vitals/wb-01", "topic"),
        ("casecenter/v1/hd-zx/vitals", "topic"),
        ("casecenter/v1/hd-zx/vitals/wb-01/extra", "topic"),
        ("casecenter/v1/hd zx/vitals/wb-01", "center"),
        ("casecenter/v1/hd-zx/vitals/" + "w" * 41, "device"),
    ],
)
def test_bad_topics_are_refused(topic, code):
    assert refused(topic, body(hr=80)) == code


def test_a_camera_status_without_audio_reads_as_no_audio():
    event = parse("casecenter/v1/hd-zx/status/int1-c1", body(recording=True, command="ab12"))
    assert event.payload == {"recording": True, "audio": False, "command": "ab12"}


def test_a_camera_reports_a_fault_with_recording_false():
    event = parse(
        "casecenter/v1/hd-zx/status/int1-c1",
        body(recording=False, fault="disk_full", command="ab12"),
    )
    assert event.payload == {
        "recording": False,
        "audio": False,
        "command": "ab12",
        "fault": "disk_full",
    }


def test_a_command_reads_back():
    at = datetime(2026, 11, 26, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    payload = command_payload("c0ffee", "record", True, at)
    assert parse_command(payload) == {"id": "c0ffee", "action": "record", "audio": True, "ts": at}


# --- properties --------------------------------------------------------------------------

codes = st.from_regex(r"[A-Za-z0-9._:-]{1,30}", fullmatch=True)
centers = st.from_regex(r"[A-Za-z0-9_-]{1,30}", fullmatch=True)
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
times = st.builds(
    lambda dt, tz: dt.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1991, 1, 1), max_value=datetime(2099, 1, 1)),
    offsets,
)
blood_pressure = st.tuples(
    st.integers(min_value=1, max_value=300), st.integers(min_value=0, max_value=299)
).filter(lambda bp: bp[0] > bp[1])
payloads = {
    "presence": st.fixed_dictionaries(
        {"zone": codes, "event": st.sampled_from(["enter", "leave"])}
    ),
    "vitals": st.fixed_dictionaries(
        {},
        optional={
            "hr": st.integers(min_value=0, max_value=300),
            "bp": blood_pressure.map(list),
            "spo2": st.integers(min_value=0, max_value=100),
        },
    ).filter(bool),
    "status": st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "battery": st.integers(min_value=0, max_value=100),
                "strap": st.sampled_from(["closed", "removed"]),
            },
        ).filter(bool),
        st.fixed_dictionaries(
            {"recording": st.booleans(), "audio": st.booleans()},
            optional={"command": st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True)},
        ),
    ),
}
events = st.sampled_from(sorted(payloads)).flatmap(
    lambda kind: st.builds(
        Event,
        center=centers,
        kind=st.just(kind),
        device=st.from_regex(r"[A-Za-z0-9._:-]{1,40}", fullmatch=True),
        seq=st.integers(min_value=0, max_value=2**63 - 1),
        device_time=times,
        payload=payloads[kind],
    )
)


@given(events)
def test_whatever_encode_makes_parses_back_equal(event):
    parsed = parse(topic_for(event.center, event.kind, event.device), encode(event))
    assert parsed == event
    assert parsed.device_time.utcoffset() == event.device_time.utcoffset()


@given(st.binary(max_size=600), st.text(max_size=80))
def test_random_bytes_raise_nothing_but_protocol_errors(payload, topic):
    for t in (topic, "casecenter/v1/hd-zx/status/wb-01", "casecenter/v1/hd-zx/presence/wb-01"):
        with contextlib.suppress(ProtocolError):
            parse(t, payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@given(
    st.sampled_from(["presence", "vitals", "status"]),
    st.dictionaries(
        st.sampled_from(
            [
                "seq",
                "ts",
                "zone",
                "event",
                "hr",
                "bp",
                "spo2",
                "battery",
                "strap",
                "recording",
                "audio",
                "command",
            ]
        ),
        json_values,
    ),
)
def test_json_of_the_right_shape_with_wrong_values_raises_only_protocol_errors(kind, fields):
    try:
        event = parse(f"casecenter/v1/hd-zx/{kind}/wb-01", json.dumps(fields).encode())
    except ProtocolError as exc:
        assert exc.code and exc.message
    else:
        assert parse(f"casecenter/v1/hd-zx/{kind}/wb-01", encode(event)) == event


def test_split_topic_knows_the_command_topic():
    assert split_topic("casecenter/v1/hd-zx/command/int1-c1") == ("hd-zx", "command", "int1-c1")
