"""The HTTP side of device ingestion: a gateway posts events, gets commands back.

The embedded default has no MQTT broker: a custody-area gateway (or the
simulator) posts the same events to ``POST /api/devices/events`` and reads
the camera commands from the answer or from ``GET /api/devices/commands``.
Each event is checked by ``devices.protocol`` exactly as an MQTT message is;
the events that fail are answered as ``rejected`` and kept as dead letters,
the others applied in one transaction by ``tracking.apply_events``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from casecenter.accounts.models import Organisation, OrganisationKind, Role, User
from casecenter.audit.services import record
from casecenter.custody import tracking
from casecenter.custody.models import CameraCommand
from casecenter.devices import protocol
from casecenter.devices.models import RejectedMessage
from casecenter.errors import NotFound, PermissionDenied

Source = RejectedMessage.Source

#: who may post device events: the gateway's account is custody staff of its center
GATEWAY_ROLES = frozenset({Role.CUSTODY_STAFF, Role.ADMIN})


@dataclass
class Rejected:
    message: Any  # the MQTT message (topic, payload), or None for HTTP
    code: str
    text: str
    event: tracking.Event | None = None


@dataclass
class Posted:
    new: int = 0
    duplicates: int = 0
    unknown: int = 0
    clock_ahead: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    commands: list[CameraCommand] = field(default_factory=list)


def gateway_center(actor: User, code: str) -> Organisation:
    """The center ``code`` if ``actor`` may act as its device gateway."""
    if actor.role not in GATEWAY_ROLES:
        raise PermissionDenied(
            "device.gateway_role",
            "只有办案区值班人员或管理员账号可以接入设备。",
            "Only a custody-staff or administrator account can act as a device gateway.",
        )
    center = Organisation.objects.filter(code=code, kind=OrganisationKind.CASE_CENTER).first()
    if center is None:
        raise NotFound(
            "device.center",
            f"没有编码为{code}的执法办案管理中心。",
            f"There is no case-handling center with the code {code!r}.",
        )
    if actor.role != Role.ADMIN and actor.organisation_id != center.pk:
        raise PermissionDenied(
            "device.other_center",
            "只能接入本中心的设备。",
            "A gateway account posts only for its own center.",
        )
    return center


def post_events(actor: User, center_code: str, events: Sequence[Any]) -> Posted:
    """Check each event, apply the good ones (one transaction), keep the bad ones
    as dead letters, and hand back the center's open camera commands."""
    center = gateway_center(actor, center_code)
    good: list[tracking.Event] = []
    good_index: list[int] = []
    bad: list[tuple[int, Rejected, Any]] = []
    for index, raw in enumerate(events):
        try:
            good.append(_event(center.code, raw))
            good_index.append(index)
        except protocol.ProtocolError as exc:
            bad.append((index, Rejected(None, exc.code, exc.message), raw))
    posted = Posted(rejected=[{"index": i, "code": r.code, "message": r.text} for i, r, _ in bad])
    received_at = timezone.now()
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                applied = tracking.apply_events(good, received_at=received_at) if good else None
                refused = [
                    dead_letter(Rejected(None, code, text, event), Source.HTTP, received_at)
                    for event, code, text in (applied.rejected if applied else [])
                ]
                RejectedMessage.objects.bulk_create(
                    [_dead_letter(center.code, r, raw, received_at) for _, r, raw in bad] + refused
                )
                if bad or (applied is not None and applied.new):
                    # who posted them: tracking's own entry is the system's
                    record(
                        actor,
                        "devices.events_posted",
                        center,
                        data={
                            "new": applied.new if applied else 0,
                            "duplicates": applied.duplicates if applied else 0,
                            "rejected": len(bad) + len(refused),
                        },
                    )
            break
        except IntegrityError:
            # the MQTT ingester stored one of these (device, seq) meanwhile: the
            # second attempt counts it as a duplicate
            if attempt == 2:
                raise
    if applied is not None:
        posted.new, posted.duplicates, posted.unknown = (
            applied.new,
            applied.duplicates,
            applied.unknown,
        )
        posted.clock_ahead = applied.clock_ahead
        index = {id(event): i for i, event in zip(good_index, good, strict=True)}
        posted.rejected += [
            {"index": index[id(event)], "code": code, "message": message}
            for event, code, message in applied.rejected
        ]
        posted.rejected.sort(key=lambda r: r["index"])
    posted.commands = open_commands(center)
    return posted


def open_commands(center: Organisation) -> list[CameraCommand]:
    """The center's commands still waiting for a camera's confirmation (the newest
    of each camera only), marked published: the caller hands them over now."""
    commands = list(tracking.open_commands(center))
    tracking.mark_published(commands)
    return commands


def _event(center: str, raw: Any) -> tracking.Event:
    if not isinstance(raw, Mapping):
        raise protocol.ProtocolError("payload", "each event must be a JSON object")
    kind, device = raw.get("kind"), raw.get("device")
    if not isinstance(kind, str):
        raise protocol.ProtocolError("kind", f"kind must be one of {', '.join(tracking.KINDS)}")
    if not isinstance(device, str):
        raise protocol.ProtocolError("device", "device must be the device's id (a string)")
    return protocol.parse_fields(center, kind, device, dict(raw))


def _dead_letter(center: str, item: Rejected, raw: Any, received_at) -> RejectedMessage:
    row = dead_letter(item, RejectedMessage.Source.HTTP, received_at)
    row.center = center
    if isinstance(raw, Mapping) and isinstance(raw.get("device"), str):
        row.device = raw["device"][:40]
    try:
        text = json.dumps(raw, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(raw)
    row.payload = text[: 64 * 1024].replace("\x00", "\\u0000")
    return row


def dead_letter(item: Rejected, source: str, received_at: datetime) -> RejectedMessage:
    """The (unsaved) dead-letter row of a rejected message or event."""
    center = device = topic = ""
    if item.message is not None:
        topic = item.message.topic[:255]
        payload = item.message.payload[: 64 * 1024].decode("utf-8", "backslashreplace")
        parts = topic.split("/")
        if len(parts) == 5:
            center, device = parts[2][:30], parts[4][:40]
    else:
        payload = protocol.encode(item.event).decode() if item.event else ""
    if item.event is not None:
        center, device = item.event.center, item.event.device
    return RejectedMessage(
        received_at=received_at,
        source=source,
        topic=topic,
        center=center,
        device=device,
        payload=payload.replace("\x00", "\\x00"),
        code=item.code[:30],
        message=item.text[:500],
    )
