"""Device events into custody state: presence, cameras, vital signs, device status.

``apply_events`` is the one entry point of the ingesters (MQTT and HTTP). It is
one transaction per batch and idempotent by (device, seq): an event already
stored is counted as a duplicate and changes nothing. Presence is *derived*
from the stored events ordered by the device's own time, so the state after a
batch depends only on the set of events received, not on their order: a late
event (a wristband that buffered while out of reach) rewinds the presences of
its wearer to its own time and replays them.

Every zone whose occupancy changed is reconciled with its cameras: a tracked
person present makes every camera of the zone record (a ``CameraCommand`` row,
published after commit by the ingester); the last one leaving stops them. A
tracked person in a zone without a confirmed recording beyond the grace
(``CASECENTER_RECORDING_GRACE_SECONDS``) breaches the ``custody.recording``
clock: a critical alert.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from casecenter.accounts.models import Organisation
from casecenter.audit.services import record
from casecenter.bulk import update_rows
from casecenter.custody import rules
from casecenter.custody.models import (
    Camera,
    CameraCommand,
    Device,
    DeviceEvent,
    Presence,
    Recording,
    Stay,
    Vital,
    Zone,
)
from casecenter.errors import InvalidInput
from casecenter.outbox.services import emit
from casecenter.supervision import services as clocks
from casecenter.supervision.models import Rule

RECORDING_RULE = "custody.recording"
KINDS = ("presence", "vitals", "status")


@dataclass(frozen=True)
class Event:
    """One device event, parsed and checked (``devices.protocol`` makes these)."""

    center: str  # the center's organisation code
    kind: str  # presence | vitals | status
    device: str
    seq: int
    device_time: datetime  # aware
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Applied:
    """What a batch did: new events, repeated ones, and commands to publish."""

    new: int = 0
    duplicates: int = 0
    unknown: int = 0  # stored, but from a device or center casecenter does not know
    commands: list[CameraCommand] = field(default_factory=list)
    zones: set[int] = field(default_factory=set)


def grace() -> timedelta:
    return timedelta(seconds=getattr(settings, "CASECENTER_RECORDING_GRACE_SECONDS", 5))


def apply_events(events: Sequence[Event], *, received_at: datetime | None = None) -> Applied:
    """Store and apply a batch of device events in one transaction (see module doc)."""
    received_at = received_at or timezone.now()
    applied = Applied()
    unique: dict[tuple[str, int], Event] = {}
    for event in events:
        if event.kind not in KINDS:
            raise InvalidInput(
                "device.kind",
                f"未知的设备事件类型：{event.kind}",
                f"Unknown event kind {event.kind!r}.",
            )
        unique.setdefault((event.device, event.seq), event)
    applied.duplicates = len(events) - len(unique)
    with transaction.atomic():
        centers = {
            o.code: o
            for o in Organisation.objects.filter(code__in={e.center for e in unique.values()})
        }
        known = _stored(unique)
        fresh = [e for key, e in unique.items() if key not in known]
        applied.duplicates += len(unique) - len(fresh)
        stored = [e for e in fresh if e.center in centers]
        applied.unknown = len(fresh) - len(stored)
        DeviceEvent.objects.bulk_create(
            [
                DeviceEvent(
                    center=centers[e.center],
                    device=e.device,
                    seq=e.seq,
                    kind=e.kind,
                    device_time=e.device_time,
                    received_at=received_at,
                    payload=dict(e.payload),
                )
                for e in stored
            ]
        )
        applied.new = len(stored)
        if stored:
            _apply(stored, centers, received_at, applied)
            record(
                None,
                "custody.events_applied",
                None,
                data={
                    "new": applied.new,
                    "duplicates": applied.duplicates,
                    "unknown": applied.unknown,
                    "first": min(e.device_time for e in stored).isoformat(),
                    "last": max(e.device_time for e in stored).isoformat(),
                },
            )
            emit("custody.changed", zones=sorted(applied.zones))
    return applied


def _stored(unique: Mapping[tuple[str, int], Event]) -> set[tuple[str, int]]:
    devices = {device for device, _ in unique}
    seqs = {seq for _, seq in unique}
    rows = DeviceEvent.objects.filter(device__in=devices, seq__in=seqs).values_list("device", "seq")
    return {row for row in rows if row in unique}


def _apply(
    events: list[Event], centers: Mapping[str, Organisation], received_at: datetime, applied
) -> None:
    by_device: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_device[event.device].append(event)
    # Rows written for many devices at once are locked in one order (by id), so
    # two ingesters (MQTT and HTTP) never deadlock on them.
    devices = {
        d.code: d
        for d in Device.objects.select_for_update(of=("self",))
        .filter(code__in=by_device)
        .order_by("pk")
    }
    cameras = {c.code: c for c in Camera.objects.filter(code__in=by_device).select_related("zone")}
    vitals_rule = Rule.objects.filter(code="custody.vitals", enabled=True).first()
    stays = _StaysOf(
        [d for d in devices.values() if d.kind == Device.Kind.WRISTBAND],
        [e for e in events if e.kind == "vitals"],
    )
    readings: list[tuple[Stay, Vital]] = []
    changed: list[Device] = []
    zones: dict[int, dict[str, Zone]] = {}
    for code, batch in by_device.items():
        batch.sort(key=lambda e: (e.device_time, e.seq))
        if code in cameras:
            if cameras[code].zone.center_id != centers[batch[0].center].pk:
                applied.unknown += len(batch)  # a camera of another center
                continue
            for event in batch:
                if event.kind == "status":
                    _camera_status(cameras[code], event, received_at, applied)
            continue
        device = devices.get(code)
        if device is None or centers[batch[0].center].pk != device.center_id:
            applied.unknown += len(batch)
            continue
        presence = [e for e in batch if e.kind == "presence"]
        if presence:
            if device.center_id not in zones:
                zones[device.center_id] = {
                    z.code: z for z in Zone.objects.filter(center_id=device.center_id)
                }
            applied.zones |= _replay(device, presence[0].device_time, zones[device.center_id])
        readings += _readings(device, [e for e in batch if e.kind == "vitals"], received_at, stays)
        status = [e for e in batch if e.kind == "status"]
        if status and _device_status(device, status):
            changed.append(device)
    if changed:
        update_rows(changed, ["battery", "strap_closed", "last_seen_at"])
    if readings:
        _store_vitals(readings, vitals_rule)
    touched = list(Zone.objects.filter(pk__in=applied.zones).prefetch_related("cameras"))
    for zone in touched:
        applied.commands += reconcile_cameras(zone)
        rules.check_zone(zone)


# --- presence -------------------------------------------------------------------------


def _subject(device: Device, at: datetime) -> tuple[dict[str, Any], Stay | None]:
    """Whose presence a device's events make at ``at``: a badge's own, or the
    wristband's stay open at that moment (events outside any stay make none)."""
    if device.kind == Device.Kind.BADGE:
        return {"badge": device}, None
    stay = (
        Stay.objects.filter(wristband=device, entered_at__lte=at)
        .filter(Q(exited_at__isnull=True) | Q(exited_at__gte=at))
        .select_related("case", "party")
        .order_by("-entered_at")
        .first()
    )
    return ({"stay": stay}, stay) if stay else ({}, None)


def _replay(device: Device, since: datetime, zones: Mapping[str, Zone]) -> set[int]:
    """Rewind the wearer's presences to ``since`` and replay the stored events from
    there, in device-time order. Returns the zones whose occupancy changed."""
    owner, stay = _subject(device, since)
    if not owner:  # the event falls outside any stay: replay the current one, if any
        owner, stay = _subject(device, timezone.now())
        if not owner:
            return set()
    if stay is not None:
        since = max(since, stay.entered_at)
    rows = Presence.objects.filter(**owner)
    touched: set[int] = set()
    dropped = list(rows.filter(entered_at__gte=since))
    for p in dropped:
        touched.add(p.zone_id)
        _cancel_recording_clock(p, stay)
    rows.filter(pk__in=[p.pk for p in dropped]).delete()
    current = (
        rows.filter(Q(left_at__isnull=True) | Q(left_at__gte=since)).order_by("-entered_at").first()
    )
    if current is not None and current.left_at is not None:
        current.left_at = None
        touched.add(current.zone_id)
    window = DeviceEvent.objects.filter(device=device.code, kind="presence", device_time__gte=since)
    if stay is not None and stay.exited_at is not None:
        window = window.filter(device_time__lte=stay.exited_at)
    for event in window.order_by("device_time", "seq"):
        zone = zones.get(str(event.payload.get("zone", "")))
        if zone is None:
            continue
        at = event.device_time
        if event.payload.get("event") == "enter":
            if current is not None and current.zone_id == zone.pk and current.left_at is None:
                continue
            if current is not None and current.left_at is None:
                current.left_at = at
                current.save()
                touched.add(current.zone_id)
                _close_recording_clock(current, stay)
            current = Presence.objects.create(
                **owner,
                zone=zone,
                entered_at=at,
                enter_seq=event.seq,
                received_at=event.received_at,
            )
            touched.add(zone.pk)
            if stay is not None:
                _open_recording_clock(current, stay)
        elif current is not None and current.zone_id == zone.pk and current.left_at is None:
            current.left_at = at
            current.save()
            touched.add(zone.pk)
            _close_recording_clock(current, stay)
    if current is not None and current.pk and current.left_at is None:
        current.save()
    if stay is not None and stay.exited_at is not None:
        Presence.objects.filter(stay=stay, left_at__isnull=True).update(left_at=stay.exited_at)
    return touched


# --- recording: cameras follow the tracked people -------------------------------------


def reconcile_cameras(zone: Zone) -> list[CameraCommand]:
    """Ask every camera of ``zone`` to record while a tracked person is there, and
    to stop when the last one has left. Returns the new commands; a "record"
    names the entry that made it necessary (``cause_at``, for the latency figures)."""
    entry = (
        Presence.objects.filter(zone=zone, left_at__isnull=True, stay__isnull=False)
        .order_by("-entered_at")
        .first()
    )
    wanted = entry is not None
    now = timezone.now()
    commands = []
    for camera in Camera.objects.select_for_update(of=("self",)).filter(zone=zone):
        if camera.wanted != wanted:
            commands.append(
                command_camera(
                    camera,
                    "record" if wanted else "stop",
                    now=now,
                    cause_at=entry.entered_at if entry else None,
                )
            )
    return commands


def command_camera(
    camera: Camera,
    action: str,
    *,
    audio: bool | None = None,
    now: datetime | None = None,
    cause_at: datetime | None = None,
) -> CameraCommand:
    """One command for a camera (inside the caller's transaction). ``audio`` defaults
    to what the law allows; asking for sound in a lawyer's meeting room is refused
    (CPL Art. 39)."""
    if audio is None:
        audio = camera.audio and camera.zone.monitored
    check_audio(camera, audio)
    now = now or timezone.now()
    command = CameraCommand.objects.create(
        camera=camera,
        command_id=secrets.token_hex(8),
        action=action,
        audio=audio if action == "record" else False,
        created_at=now,
        cause_at=cause_at if action == "record" else None,
    )
    if action == "record":
        Recording.objects.create(
            camera=camera, zone=camera.zone, command=command.command_id, audio=audio, asked_at=now
        )
    else:
        Recording.objects.filter(camera=camera, stop_command="").update(
            stop_command=command.command_id, stop_asked_at=now
        )
    camera.wanted = action == "record"
    camera.save(update_fields=["wanted"])
    return command


def check_audio(camera: Camera, audio: bool) -> None:
    """Refuse a command that would record audio where the law forbids it."""
    if audio and not camera.zone.monitored:
        raise InvalidInput(
            "camera.audio_forbidden",
            "律师会见室不得录音（《刑事诉讼法》第39条）。",
            "A lawyer's meeting room is never recorded with sound (CPL Art. 39).",
        )


def _camera_status(camera: Camera, event: Event, received_at: datetime, applied) -> None:
    recording = bool(event.payload.get("recording"))
    command_id = str(event.payload.get("command", ""))
    if camera.confirmed_at is None or event.device_time >= camera.confirmed_at:
        camera.recording, camera.confirmed_at = recording, event.device_time
        camera.save(update_fields=["recording", "confirmed_at"])
    if command_id:
        CameraCommand.objects.filter(
            camera=camera, command_id=command_id, confirmed_at__isnull=True
        ).update(confirmed_at=received_at)
        if recording:
            Recording.objects.filter(command=command_id, started_at__isnull=True).update(
                started_at=event.device_time, confirmed_received_at=received_at
            )
        else:
            Recording.objects.filter(stop_command=command_id, stopped_at__isnull=True).update(
                stopped_at=event.device_time
            )
    if recording and event.payload.get("audio") and not camera.zone.monitored:
        rules.lawyer_audio(camera, event.device_time, event.seq)
    if recording:
        _meet_recording_clocks(camera.zone, event.device_time)
    applied.zones.add(camera.zone_id)


def covered(zone: Zone, at: datetime) -> bool:
    """Whether a confirmed recording of ``zone`` was running at ``at``."""
    return (
        Recording.objects.filter(zone=zone, started_at__lte=at)
        .filter(Q(stopped_at__isnull=True) | Q(stopped_at__gt=at))
        .exists()
    )


def _subject_key(presence: Presence) -> str:
    return f"presence:{presence.pk}"


def _open_recording_clock(presence: Presence, stay: Stay) -> None:
    zone = presence.zone
    if not zone.cameras.exists() or covered(zone, presence.entered_at + grace()):
        return
    clocks.open_deadline(
        None,
        RECORDING_RULE,
        stay.case,
        trigger_at=presence.entered_at,
        due_at=presence.entered_at + grace(),
        party=stay.party,
        subject=_subject_key(presence),
    )


def end_stay(stay: Stay) -> list[CameraCommand]:
    """Exit registration: the stay's open presence ends at the exit, its clocks
    close, and the cameras of the rooms it leaves are reconciled."""
    zones = set()
    for presence in Presence.objects.filter(stay=stay, left_at__isnull=True):
        presence.left_at = stay.exited_at
        presence.save(update_fields=["left_at"])
        zones.add(presence.zone_id)
        _close_recording_clock(presence, stay)
    return [c for zone in Zone.objects.filter(pk__in=zones) for c in reconcile_cameras(zone)]


def _close_recording_clock(presence: Presence, stay: Stay | None) -> None:
    """The person left: the recording clock is met at the leaving (a breach stays
    a breach); the two-officers clock no longer applies."""
    if stay is not None:
        clocks.meet_deadlines(
            None, stay.case, [RECORDING_RULE], at=presence.left_at, subject=_subject_key(presence)
        )
        rules.left_zone(presence, stay)


def _cancel_recording_clock(presence: Presence, stay: Stay | None) -> None:
    if stay is not None:
        clocks.cancel_deadlines(
            None,
            stay.case,
            [RECORDING_RULE],
            reason="presence replayed (late event)",
            subject=_subject_key(presence),
        )
        rules.left_zone(presence, stay)


def _meet_recording_clocks(zone: Zone, at: datetime) -> None:
    for presence in Presence.objects.filter(
        zone=zone, stay__isnull=False, left_at__isnull=True
    ).select_related("stay__case"):
        clocks.meet_deadlines(
            None, presence.stay.case, [RECORDING_RULE], at=at, subject=_subject_key(presence)
        )


# --- vital signs and device status ----------------------------------------------------


class _StaysOf:
    """The wristbands' stays over a batch's readings, read (and locked, for the
    latest-vitals update) in one query; ``at`` finds the stay open at a moment,
    as ``_subject`` does."""

    def __init__(self, bands: Sequence[Device], readings: Sequence[Event]) -> None:
        self.by_band: dict[int, list[Stay]] = defaultdict(list)
        if not bands or not readings:
            return
        first = min(e.device_time for e in readings)
        last = max(e.device_time for e in readings)
        rows = (
            Stay.objects.select_for_update(of=("self",))
            .filter(wristband__in=bands, entered_at__lte=last)
            .filter(Q(exited_at__isnull=True) | Q(exited_at__gte=first))
            .select_related("case", "party")
            .order_by("pk")
        )
        for stay in rows:
            self.by_band[stay.wristband_id].append(stay)
        for stays in self.by_band.values():
            stays.sort(key=lambda s: s.entered_at, reverse=True)

    def at(self, device: Device, moment: datetime) -> Stay | None:
        return next(
            (
                s
                for s in self.by_band.get(device.pk, ())
                if s.entered_at <= moment and (s.exited_at is None or s.exited_at >= moment)
            ),
            None,
        )


def _readings(
    device: Device, events: Sequence[Event], received_at: datetime, stays: _StaysOf
) -> list[tuple[Stay, Vital]]:
    """A device's vital-sign events as readings of the stay open at each (none
    outside a stay)."""
    readings = []
    for event in events:
        stay = stays.at(device, event.device_time)
        if stay is None:
            continue
        p = event.payload
        bp = p.get("bp") or (None, None)
        readings.append(
            (
                stay,
                Vital(
                    stay=stay,
                    at=event.device_time,
                    received_at=received_at,
                    heart_rate=p.get("hr"),
                    systolic=bp[0],
                    diastolic=bp[1],
                    spo2=p.get("spo2"),
                ),
            )
        )
    return readings


def _store_vitals(readings: Sequence[tuple[Stay, Vital]], rule: Rule | None) -> None:
    """A batch's readings: inserted together, each stay's latest reading kept on the
    (locked) stay in one update, the thresholds checked in device-time order."""
    Vital.objects.bulk_create([reading for _, reading in readings])
    latest: dict[int, tuple[Stay, Vital]] = {}
    for stay, reading in readings:
        if stay.pk not in latest or reading.at >= latest[stay.pk][1].at:
            latest[stay.pk] = (stay, reading)
    newer = []
    for stay, reading in latest.values():
        if stay.vitals_at is None or stay.vitals_at <= reading.at:
            stay.heart_rate, stay.systolic = reading.heart_rate, reading.systolic
            stay.diastolic, stay.spo2 = reading.diastolic, reading.spo2
            stay.vitals_at = reading.at
            newer.append(stay)
    update_rows(newer, ["heart_rate", "systolic", "diastolic", "spo2", "vitals_at"])
    if rule is None:
        return
    for stay, reading in sorted(readings, key=lambda r: r[1].at):
        if rules.out_of_range(rule.params or {}, reading):
            rules.check_vitals(stay, reading)


def _device_status(device: Device, events: Sequence[Event]) -> bool:
    """A device's status reports of one batch, in device-time order, applied to
    ``device`` (saved by the caller with the batch's others); True if it changed."""
    seen, changed = device.last_seen_at, False
    for event in events:
        if seen is not None and event.device_time < seen:
            continue  # an older status than the one we have: kept as an event, not applied
        changed = True
        p = event.payload
        was_closed = device.strap_closed
        if "battery" in p:
            device.battery = p["battery"]
        if "strap" in p:
            device.strap_closed = p["strap"] == "closed"
        seen = event.device_time
        if was_closed and not device.strap_closed:
            _, stay = _subject(device, event.device_time)
            if stay is not None:
                rules.strap_removed(stay, device, event.device_time, event.seq)
    device.last_seen_at = seen
    return changed


def open_commands(center: Organisation | None = None, *, older_than: timedelta | None = None):
    """Commands not yet confirmed (to publish, or publish again), the newest of each
    camera only: resending an old "record" after a "stop" would start it again."""
    newer = CameraCommand.objects.filter(camera=OuterRef("camera"), pk__gt=OuterRef("pk"))
    rows = (
        CameraCommand.objects.filter(confirmed_at__isnull=True)
        .exclude(Exists(newer))
        .select_related("camera__zone__center")
    )
    if center is not None:
        rows = rows.filter(camera__zone__center=center)
    if older_than is not None:
        rows = rows.filter(
            Q(published_at__isnull=True) | Q(published_at__lte=timezone.now() - older_than)
        )
    return rows.order_by("created_at", "id")


def mark_published(commands: Iterable[CameraCommand], at: datetime | None = None) -> None:
    CameraCommand.objects.filter(pk__in=[c.pk for c in commands]).update(
        published_at=at or timezone.now()
    )
