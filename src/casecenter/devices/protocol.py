"""The device protocol: MQTT topics and JSON payloads in, ``tracking.Event`` out.

Pure: no database, no network. ``parse`` turns one MQTT message (topic, bytes)
into an ``Event`` or raises ``ProtocolError`` with a stable code and a message
a device maker can act on; ``parse_fields`` does the same for one event of the
HTTP endpoint, whose center, kind and device are in the body instead of the
topic. ``encode`` is the inverse: what a well-behaved device publishes. The
contract is written up for device makers in ``docs/device-protocol.md``.

Only the fields the protocol knows are kept: an event's stored payload is
exactly what casecenter understood of it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from casecenter.custody.tracking import KINDS, Event

PREFIX = "casecenter/v1"
#: the topic casecenter publishes camera commands on (``{PREFIX}/{center}/command/{camera}``)
COMMAND = "command"
#: one message at most this long: a device event is a few hundred bytes
MAX_PAYLOAD = 4096
MAX_SEQ = 2**63 - 1  # a signed 64-bit integer: what PostgreSQL and SQLite store
CENTER_RE = re.compile(r"[A-Za-z0-9_-]{1,30}")  # an organisation code (a slug)
DEVICE_RE = re.compile(r"[A-Za-z0-9._:-]{1,40}")  # a device or camera code
ZONE_RE = re.compile(r"[A-Za-z0-9._:-]{1,30}")  # a zone code
COMMAND_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")
FAULT_RE = re.compile(r"[a-z0-9_.-]{1,40}")  # a camera's fault code: "disk_full", "no_signal"
YEARS = (1990, 2100)  # a device clock outside these years is broken, not late

#: the fields each kind may carry (anything else is ignored)
PRESENCE_EVENTS = ("enter", "leave")
STRAP = ("closed", "removed")
LIMITS = {"hr": (0, 300), "bp": (0, 300), "spo2": (0, 100), "battery": (0, 100)}


class ProtocolError(ValueError):
    """A message casecenter cannot take: ``code`` is stable, ``message`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def topic_for(center: str, kind: str, device: str) -> str:
    return f"{PREFIX}/{center}/{kind}/{device}"


def split_topic(topic: str) -> tuple[str, str, str]:
    """``casecenter/v1/{center}/{kind}/{device}`` → (center, kind, device).

    ``kind`` may be ``command`` (casecenter's own messages to cameras); the
    caller decides what to do with those."""
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != PREFIX:
        raise ProtocolError(
            "topic", f"topic {topic[:200]!r} is not {PREFIX}/<center>/<kind>/<device>"
        )
    _, _, center, kind, device = parts
    _check_ids(center, kind, device, allow_command=True)
    return center, kind, device


def _check_ids(center: str, kind: str, device: str, *, allow_command: bool = False) -> None:
    if not CENTER_RE.fullmatch(center):
        raise ProtocolError(
            "center", f"center {center[:60]!r} is not a center code (1-30 of A-Z a-z 0-9 _ -)"
        )
    if kind not in KINDS and not (allow_command and kind == COMMAND):
        raise ProtocolError(
            "kind", f"unknown kind {kind[:60]!r}: expected one of {', '.join(KINDS)}"
        )
    if not DEVICE_RE.fullmatch(device):
        raise ProtocolError(
            "device", f"device id {device[:60]!r} is not 1-40 of A-Z a-z 0-9 . _ : -"
        )


def parse(topic: str, payload: bytes) -> Event:
    """One MQTT message of a device → an ``Event`` (the device id is the topic's)."""
    center, kind, device = split_topic(topic)
    if kind == COMMAND:
        raise ProtocolError("kind", "command topics carry casecenter's commands, not events")
    if len(payload) > MAX_PAYLOAD:
        raise ProtocolError("too_large", f"payload of {len(payload)} bytes (at most {MAX_PAYLOAD})")
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError("json", f"payload is not UTF-8 JSON: {str(exc)[:120]}") from None
    return parse_fields(center, kind, device, body)


def parse_fields(center: str, kind: str, device: str, body: Any) -> Event:
    """One event's JSON object (``seq``, ``ts`` and the kind's fields) → an ``Event``."""
    _check_ids(center, kind, device)
    if not isinstance(body, dict):
        raise ProtocolError("payload", "payload must be a JSON object")
    seq = _seq(body)
    ts = _ts(body)
    fields = {"presence": _presence, "vitals": _vitals, "status": _status}[kind](body)
    return Event(center=center, kind=kind, device=device, seq=seq, device_time=ts, payload=fields)


def _int(body: Mapping[str, Any], key: str) -> int:
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(key, f"{key} must be an integer, not {_shown(value)}")
    return value


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)[:60] if _jsonable(value) else type(value).__name__


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (ValueError, TypeError, RecursionError):
        return False
    return True


def _seq(body: Mapping[str, Any]) -> int:
    if "seq" not in body:
        raise ProtocolError("seq", "seq is missing (the device's sequence number, an integer ≥ 0)")
    seq = _int(body, "seq")
    if not 0 <= seq <= MAX_SEQ:
        raise ProtocolError("seq", f"seq {seq} is out of range (0 to 2^63-1)")
    return seq


def _ts(body: Mapping[str, Any]) -> datetime:
    if "ts" not in body:
        raise ProtocolError("ts", "ts is missing (ISO 8601 with a UTC offset, device clock)")
    raw = body["ts"]
    if not isinstance(raw, str) or len(raw) > 40:
        raise ProtocolError("ts", f"ts must be an ISO 8601 string, not {_shown(raw)}")
    try:
        ts = datetime.fromisoformat(raw)
    except ValueError:
        raise ProtocolError("ts", f"ts {raw!r} is not ISO 8601") from None
    if ts.utcoffset() is None:
        raise ProtocolError(
            "ts", f"ts {raw!r} has no UTC offset: add Z or +08:00 (a naive time is ambiguous)"
        )
    try:
        year = ts.astimezone(UTC).year
    except OverflowError:
        year = ts.year
    if not YEARS[0] <= year < YEARS[1]:
        raise ProtocolError("ts", f"ts {raw!r} is outside {YEARS[0]}-{YEARS[1]}: check the clock")
    return ts


def _text(body: Mapping[str, Any], key: str, pattern: re.Pattern[str], what: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ProtocolError(key, f"{key} must be {what}, not {_shown(value)}")
    return value


def _choice(body: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> str:
    value = body.get(key)
    if value not in choices:
        raise ProtocolError(
            key, f"{key} must be one of {', '.join(map(repr, choices))}, not {_shown(value)}"
        )
    return str(value)


def _ranged(key: str, raw: Any) -> int:
    low, high = LIMITS[key]
    value = _int({key: raw}, key)
    if not low <= value <= high:
        raise ProtocolError(key, f"{key} {value} is out of range ({low}-{high})")
    return value


def _presence(body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "zone": _text(body, "zone", ZONE_RE, "a zone code (1-30 of A-Z a-z 0-9 . _ : -)"),
        "event": _choice(body, "event", PRESENCE_EVENTS),
    }


def _vitals(body: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "hr" in body:
        out["hr"] = _ranged("hr", body["hr"])
    if "bp" in body:
        bp = body["bp"]
        if not isinstance(bp, list) or len(bp) != 2:
            raise ProtocolError("bp", f"bp must be [systolic, diastolic], not {_shown(bp)}")
        systolic, diastolic = (_ranged("bp", v) for v in bp)
        if systolic <= diastolic:
            raise ProtocolError(
                "bp", f"bp {systolic}/{diastolic}: systolic must be above diastolic"
            )
        out["bp"] = [systolic, diastolic]
    if "spo2" in body:
        out["spo2"] = _ranged("spo2", body["spo2"])
    if not out:
        raise ProtocolError("vitals", "a vitals event carries at least one of hr, bp, spo2")
    return out


def _flag(body: Mapping[str, Any], key: str) -> bool:
    value = body[key]
    if not isinstance(value, bool):
        raise ProtocolError(key, f"{key} must be true or false, not {_shown(value)}")
    return value


def _status(body: Mapping[str, Any]) -> dict[str, Any]:
    """A wristband's or badge's (battery, strap) or a camera's (recording, audio,
    command, fault). A camera status always says whether it records: a status
    without ``recording`` would read as "stopped". A camera that cannot record
    says why in ``fault`` (with ``recording: false``)."""
    out: dict[str, Any] = {}
    if "battery" in body:
        out["battery"] = _ranged("battery", body["battery"])
    if "strap" in body:
        out["strap"] = _choice(body, "strap", STRAP)
    camera = any(key in body for key in ("recording", "audio", "command", "fault"))
    if camera and "recording" not in body:
        raise ProtocolError("recording", "a camera status must say recording: true or false")
    if "recording" in body:
        out["recording"] = _flag(body, "recording")
        out["audio"] = _flag(body, "audio") if "audio" in body else False
    if "command" in body:
        out["command"] = _text(body, "command", COMMAND_ID_RE, "the id of a command")
    if "fault" in body and body["fault"] is not None:
        out["fault"] = _text(body, "fault", FAULT_RE, "a fault code (1-40 of a-z 0-9 _ . -)")
        if out["recording"]:
            raise ProtocolError(
                "fault", "a camera with a fault does not record: send recording: false"
            )
    if not out:
        raise ProtocolError(
            "status", "a status event carries battery and/or strap, or a camera's recording"
        )
    return out


def encode(event: Event) -> bytes:
    """What a device publishes for ``event`` on ``topic_for(center, kind, device)``."""
    body = {"seq": event.seq, "ts": event.device_time.isoformat(), **event.payload}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def command_payload(command_id: str, action: str, audio: bool, at: datetime) -> bytes:
    """A camera command as casecenter publishes it (see ``docs/device-protocol.md``)."""
    body = {"id": command_id, "action": action, "audio": audio, "ts": at.isoformat()}
    return json.dumps(body, separators=(",", ":")).encode()


def parse_command(payload: bytes) -> dict[str, Any]:
    """A command as a camera reads it (the simulator's cameras, the tests)."""
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError("json", f"command is not UTF-8 JSON: {str(exc)[:120]}") from None
    if not isinstance(body, dict):
        raise ProtocolError("payload", "command must be a JSON object")
    return {
        "id": _text(body, "id", COMMAND_ID_RE, "a command id"),
        "action": _choice(body, "action", ("record", "stop")),
        "audio": _flag(body, "audio"),
        "ts": _ts(body),
    }
