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
published after commit by the ingester); the last one leaving stops them. The
cameras' answers make the recording segments. The live rules
(``custody.rules``) then look again at what the batch changed, in device time,
and alert once per episode.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from casecenter.accounts.models import Organisation, OrganisationKind
from casecenter.audit.services import record
from casecenter.bulk import insert_rows, update_rows
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
    ZoneKind,
)
from casecenter.errors import InvalidInput
from casecenter.outbox.services import emit
from casecenter.supervision.models import Rule

log = logging.getLogger(__name__)
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
    #: refused: (event, code, message) — an unknown center, device or zone, or a
    #: kind its device does not send; the caller keeps them as dead letters
    rejected: list[tuple[Event, str, str]] = field(default_factory=list)
    unknown: int = 0  # how many were refused (the count the answers have always had)
    clock_ahead: int = 0  # placed at their arrival: the device's clock was too far ahead
    commands: list[CameraCommand] = field(default_factory=list)
    zones: set[int] = field(default_factory=set)
    #: with ``defer_looks``: what the live rules are to look at (``look_again``)
    looks: _Looks | None = None


def grace() -> timedelta:
    return rules.recording_grace()


def clock_tolerance() -> timedelta:
    """How far ahead of casecenter's clock a device's may be before its time is
    not believed (``CASECENTER_DEVICE_CLOCK_TOLERANCE_SECONDS``, 30 s)."""
    return timedelta(seconds=getattr(settings, "CASECENTER_DEVICE_CLOCK_TOLERANCE_SECONDS", 30))


def apply_events(
    events: Sequence[Event],
    *,
    received_at: datetime | None = None,
    defer_looks: bool = False,
    replay_duplicates: bool = False,
) -> Applied:
    """Store and apply a batch of device events in one transaction (see module doc).

    ``defer_looks`` leaves the live rules' look out of the transaction: it comes
    back in ``Applied.looks`` for ``look_again`` in a transaction of its own
    after the caller published the batch's camera commands. A caller that
    defers them passes ``replay_duplicates`` too and acknowledges the batch only
    after ``look_again``: presence events it gets again (after a crash between
    the two) are replayed — the same presences, no new command — and looked at.

    An event that names what casecenter does not know — a center, a device, a
    zone of the device's center — or that its device cannot send (a camera's
    presence, a wristband's recording) is refused: it comes back in
    ``Applied.rejected`` with a code for the caller's dead letters, and is not
    stored. An event stamped further in the future than ``clock_tolerance()``
    is placed at its arrival: a device's wrong clock never pins a person in a
    zone nor hides later events behind it (its own time is kept as
    ``device_ts``).
    """
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
        known = _stored(unique)
        fresh = [e for key, e in unique.items() if key not in known]
        applied.duplicates += len(unique) - len(fresh)
        again = (
            [e for key, e in unique.items() if key in known and e.kind == "presence"]
            if replay_duplicates
            else []
        )
        senders = _Senders(fresh + again)
        stored: list[Event] = []
        for event in fresh:
            refusal = senders.refusal(event)
            if refusal:
                applied.rejected.append((event, *refusal))
            else:
                stored.append(_placed(event, received_at, applied))
        applied.unknown = len(applied.rejected)
        insert_rows(
            DeviceEvent,
            ["center", "device", "seq", "kind", "device_time", "received_at", "payload"],
            (
                (
                    senders.centers[e.center].pk,
                    e.device,
                    e.seq,
                    e.kind,
                    e.device_time,
                    received_at,
                    dict(e.payload),
                )
                for e in stored
            ),
        )
        applied.new = len(stored)
        again = [e for e in again if senders.refusal(e) is None]
        if stored or again:
            _apply(stored + again, senders, received_at, applied, defer_looks)
        if stored:
            record(
                None,
                "custody.events_applied",
                None,
                data={
                    "new": applied.new,
                    "duplicates": applied.duplicates,
                    "rejected": len(applied.rejected),
                    "clock_ahead": applied.clock_ahead,
                    "first": min(e.device_time for e in stored).isoformat(),
                    "last": max(e.device_time for e in stored).isoformat(),
                },
            )
            emit("custody.changed", zones=sorted(applied.zones))
    return applied


def _placed(event: Event, received_at: datetime, applied: Applied) -> Event:
    """The event at its own time, or at its arrival when its clock is too far ahead."""
    if event.device_time <= received_at + clock_tolerance():
        return event
    applied.clock_ahead += 1
    ahead = (event.device_time - received_at).total_seconds()
    log.warning(
        "device %s/%s: clock %.0f s ahead; event %s placed at its arrival",
        event.center,
        event.device,
        ahead,
        event.seq,
    )
    payload = {**event.payload, "device_ts": event.device_time.isoformat()}
    return replace(event, device_time=received_at, payload=payload)


class _Senders:
    """The centers, devices, cameras and zones a batch names, read once, and the
    check of each event against them."""

    #: what only a camera's status carries
    CAMERA_FIELDS = frozenset({"recording", "audio", "command", "fault"})

    def __init__(self, events: Sequence[Event]) -> None:
        self.centers = {
            o.code: o
            for o in Organisation.objects.filter(
                code__in={e.center for e in events}, kind=OrganisationKind.CASE_CENTER
            )
        }
        codes = {e.device for e in events}
        self.devices = {d.code: d for d in Device.objects.filter(code__in=codes)}
        self.cameras = {
            c.code: c for c in Camera.objects.filter(code__in=codes).select_related("zone")
        }
        zone_codes = {str(e.payload.get("zone", "")) for e in events if e.kind == "presence"}
        self.zones = {(z.center_id, z.code): z for z in Zone.objects.filter(code__in=zone_codes)}

    def refusal(self, event: Event) -> tuple[str, str] | None:
        center = self.centers.get(event.center)
        if center is None:
            return ("unknown_center", f"no case-handling center has the code {event.center!r}")
        camera = self.cameras.get(event.device)
        if camera is not None:
            if camera.zone.center_id != center.pk:
                return ("other_center", f"camera {event.device!r} belongs to another center")
            if event.kind != "status" or not self.CAMERA_FIELDS & set(event.payload):
                return (
                    "wrong_kind",
                    f"camera {event.device!r} sends only status events with recording",
                )
            return None
        device = self.devices.get(event.device)
        if device is None:
            return (
                "unknown_device",
                f"device {event.device!r} is not registered (custody admin: devices, cameras)",
            )
        if device.center_id != center.pk:
            return ("other_center", f"device {event.device!r} belongs to another center")
        if self.CAMERA_FIELDS & set(event.payload):
            return ("wrong_kind", f"{device.kind} {event.device!r} is not a camera: no recording")
        if event.kind == "presence" and (center.pk, event.payload.get("zone")) not in self.zones:
            return (
                "unknown_zone",
                f"center {event.center!r} has no zone {event.payload.get('zone')!r}",
            )
        return None


def _stored(unique: Mapping[tuple[str, int], Event]) -> set[tuple[str, int]]:
    devices = {device for device, _ in unique}
    seqs = {seq for _, seq in unique}
    rows = DeviceEvent.objects.filter(device__in=devices, seq__in=seqs).values_list("device", "seq")
    return {row for row in rows if row in unique}


def look_again(applied: Applied, now: datetime | None = None) -> None:
    """The live rules' look that ``apply_events(defer_looks=True)`` left out, in a
    transaction of its own."""
    if applied.looks is not None:
        with transaction.atomic():
            applied.looks.run(now)


def _apply(
    events: list[Event],
    senders: _Senders,
    received_at: datetime,
    applied: Applied,
    defer_looks: bool = False,
) -> None:
    by_device: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_device[event.device].append(event)
    # The devices whose status a batch writes are locked, in one order (by id), so
    # two ingesters (MQTT and HTTP) never deadlock on them. A device's presence
    # events take a lock of their own (``_take_turns``): a room entry never waits
    # for a batch of readings and status reports that holds the device's row.
    reporting = {e.device for e in events if e.kind == "status"}
    devices = (
        {
            d.code: d
            for d in Device.objects.select_for_update(of=("self",))
            .filter(code__in=reporting)
            .order_by("pk")
        }
        if reporting
        else {}
    )
    devices |= {
        code: device
        for code, device in senders.devices.items()
        if code in by_device and code not in devices
    }
    _take_turns(
        sorted(devices[e.device].pk for e in events if e.kind == "presence" and e.device in devices)
    )
    straps = [e for e in events if e.device in devices and _strap_matters(devices[e.device], e)]
    stays = _StaysOf(
        [d for d in devices.values() if d.kind == Device.Kind.WRISTBAND],
        [e for e in events if e.kind == "vitals"] + straps,
    )
    readings: list[tuple[Stay, _Reading]] = []
    changed: list[Device] = []
    zones: dict[int, dict[str, Zone]] = {}
    looks = _Looks()  # what the live rules look at again after the batch
    for code, batch in by_device.items():
        batch.sort(key=lambda e: (e.device_time, e.seq))
        if code in senders.cameras:
            camera = (
                Camera.objects.select_for_update(of=("self",))
                .select_related("zone")
                .get(pk=senders.cameras[code].pk)
            )
            for event in batch:
                _camera_status(camera, event, received_at, applied)
            looks.zone(camera.zone_id, batch[0].device_time)
            continue
        device = devices[code]
        presence = [e for e in batch if e.kind == "presence"]
        if presence:
            if device.center_id not in zones:
                zones[device.center_id] = {
                    z.code: z for z in Zone.objects.filter(center_id=device.center_id)
                }
            since = presence[0].device_time
            touched, stay = _replay(device, since, zones[device.center_id])
            applied.zones |= touched
            for zone_id in touched:
                looks.zone(zone_id, since)
            if stay is not None:
                looks.stay(stay, since)
        vitals = [e for e in batch if e.kind == "vitals"]
        readings += _readings(device, vitals, received_at, stays)
        status = [e for e in batch if e.kind == "status"]
        if status and _device_status(device, status):
            changed.append(device)
        for event in straps:
            if event.device == code and (stay := stays.at(device, event.device_time)):
                looks.strap(stay, event.device_time)
    if changed:
        update_rows(changed, ["battery", "strap_closed", "last_seen_at"])
    if readings:
        _store_vitals(readings, received_at, looks)
    applied.zones |= set(looks.zones)
    touched = list(
        Zone.objects.filter(pk__in=looks.zones).prefetch_related("cameras").order_by("pk")
    )
    for zone in touched:
        applied.commands += reconcile_cameras(zone, now=received_at)
    if defer_looks:
        applied.looks = looks
    else:
        looks.run(received_at)


#: the class of the advisory locks of ``_take_turns`` ("cc")
PRESENCE_LOCKS = 0x6363


def _take_turns(device_ids: Sequence[int]) -> None:
    """Serialise the presence of these devices with every other transaction applying
    theirs (until commit): the second replays after the first committed, from the
    stored events. A PostgreSQL advisory lock per device, taken in id order; SQLite
    runs one writer at a time anyway."""
    if not device_ids or connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, d.id) FROM"
            " (SELECT DISTINCT unnest(%s::int[]) AS id ORDER BY 1) AS d",
            [PRESENCE_LOCKS, list(device_ids)],
        )


class _Looks:
    """What the live rules look at again after a batch, each from the earliest
    moment the batch changed: the stays whose presences changed (or who were in a
    zone whose cameras or officers changed), the waiting rooms, the readings and
    the strap reports."""

    def __init__(self) -> None:
        self.zones: dict[int, datetime] = {}
        self.stays: dict[int, tuple[Stay, datetime]] = {}
        self.vitals: dict[int, tuple[Stay, datetime]] = {}
        self.straps: dict[int, tuple[Stay, datetime]] = {}

    @staticmethod
    def _earliest(found: dict, stay: Stay, at: datetime) -> None:
        if stay.pk not in found or at < found[stay.pk][1]:
            found[stay.pk] = (stay, at)

    def zone(self, zone_id: int, at: datetime) -> None:
        self.zones[zone_id] = min(at, self.zones.get(zone_id, at))

    def stay(self, stay: Stay, at: datetime) -> None:
        self._earliest(self.stays, stay, at)

    def vital(self, stay: Stay, at: datetime) -> None:
        self._earliest(self.vitals, stay, at)

    def strap(self, stay: Stay, at: datetime) -> None:
        self._earliest(self.straps, stay, at)

    def run(self, now: datetime | None = None) -> None:
        """Let the rules look, as of ``now`` (the batch's arrival)."""
        with rules.one_look():
            self._run(now or timezone.now())

    def _run(self, now: datetime) -> None:
        for zone_id, since in self.zones.items():
            for stay in rules.stays_in([zone_id], since):
                self.stay(stay, since)
        for stay, since in self.stays.values():
            rules.check_stay(stay, since, now)
        for zone in Zone.objects.filter(pk__in=self.zones, kind=ZoneKind.WAITING):
            rules.check_separation(zone, self.zones[zone.pk], now)
        for stay, since in self.vitals.values():
            rules.check_vitals(stay, since, now)
        for stay, since in self.straps.values():
            rules.check_strap(stay, since, now)


# --- presence -------------------------------------------------------------------------


def _subject(device: Device, at: datetime) -> tuple[dict[str, Any], Stay | None]:
    """Whose presence a device's events make at ``at``: a badge's own, or the
    wristband's stay open at that moment (events outside any stay make none)."""
    if device.kind == Device.Kind.BADGE:
        return {"badge": device}, None
    stay = (
        Stay.objects.filter(wristband=device, entered_at__lte=at)
        .filter(Q(exited_at__isnull=True) | Q(exited_at__gte=at))
        .select_related("case", "party__person", "center", "wristband")
        .order_by("-entered_at")
        .first()
    )
    return ({"stay": stay}, stay) if stay else ({}, None)


def _replay(
    device: Device, since: datetime, zones: Mapping[str, Zone]
) -> tuple[set[int], Stay | None]:
    """Rewind the wearer's presences to ``since`` and replay the stored events from
    there, in device-time order. Returns the zones whose occupancy changed and the
    stay replayed (None for a badge)."""
    owner, stay = _subject(device, since)
    if not owner:  # the event falls outside any stay: replay the current one, if any
        owner, stay = _subject(device, timezone.now())
        if not owner:
            return set(), None
    if stay is not None:
        since = max(since, stay.entered_at)
    rows = Presence.objects.filter(**owner)
    touched: set[int] = set()
    dropped = list(rows.filter(entered_at__gte=since).values_list("pk", "zone_id"))
    touched |= {zone_id for _, zone_id in dropped}
    rows.filter(pk__in=[pk for pk, _ in dropped]).delete()
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
            current = Presence.objects.create(
                **owner,
                zone=zone,
                entered_at=at,
                enter_seq=event.seq,
                received_at=event.received_at,
            )
            touched.add(zone.pk)
        elif current is not None and current.zone_id == zone.pk and current.left_at is None:
            current.left_at = at
            current.save()
            touched.add(zone.pk)
    if current is not None and current.pk and current.left_at is None:
        current.save()
    if stay is not None and stay.exited_at is not None:
        Presence.objects.filter(stay=stay, left_at__isnull=True).update(left_at=stay.exited_at)
    return touched, stay


# --- recording: cameras follow the tracked people -------------------------------------


def reconcile_cameras(zone: Zone, *, now: datetime | None = None) -> list[CameraCommand]:
    """Ask every camera of ``zone`` to record while a tracked person is there, and
    to stop when the last one has left. A camera that stopped by itself while it
    is wanted is asked again; one that records with nobody tracked here (told
    nothing, or not listening) is told to stop. Returns the new commands; a
    "record" names the entry that made it necessary (``cause_at``, for the
    latency figures).

    The cameras are locked before the zone's presences are read: two ingesters
    reconciling one zone take turns, and the second sees the first's committed
    presences (PostgreSQL reads committed rows afresh at each statement)."""
    cameras = list(Camera.objects.select_for_update(of=("self",)).filter(zone=zone))
    if not cameras:
        return []
    entry = (
        Presence.objects.filter(zone=zone, left_at__isnull=True, stay__isnull=False)
        .order_by("-entered_at")
        .first()
    )
    wanted = entry is not None
    now = now or timezone.now()  # when casecenter decided: the batch's arrival
    commands = []
    for camera in cameras:
        camera.zone = zone  # the zone in hand: no query per camera
        waiting = (
            CameraCommand.objects.filter(camera=camera)
            .order_by("-pk")
            .values_list("action", "confirmed_at")
            .first()
        )
        pending = waiting[0] if waiting and waiting[1] is None else None
        if wanted:
            ask = not camera.wanted or (not camera.recording and pending is None)
        else:
            ask = camera.wanted or (camera.recording and pending != "stop")
        if ask:
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
    """A camera's status, in device-time order.

    Only a status from the commanded camera answers its command. A "record" is
    confirmed by "recording": its segment starts at the status's time, never
    before the command was sent. Answering a "record" without recording — or
    with a ``fault`` — is a failed start: the command stays open (it is sent
    again) and the camera's fault is kept, which the recording rule alerts on at
    once. A "stop" is confirmed by "not recording", and is never a fault, even if
    a newer "record" waits. A camera that says, unasked, that it stopped while it
    was recording for someone has a fault too (it is asked again). Whatever it
    answers, a camera that does not record ends its running segment; one that
    does while it is not wanted is told to stop (``reconcile_cameras``).

    An answer is no older than the command it answers: its time, for the camera's
    state as for the segment, is never before the command was sent (a camera
    whose clock is behind, or reset by a reboot)."""
    payload = event.payload
    fault = str(payload.get("fault") or "")
    recording = bool(payload.get("recording")) and not fault
    at = event.device_time
    command_id = str(payload.get("command", ""))
    command = (
        CameraCommand.objects.filter(camera=camera, command_id=command_id).first()
        if command_id
        else None
    )
    if command is not None:
        at = max(at, command.created_at)
        if command.action == "record" and recording:
            _confirm(command, received_at)
            for segment in Recording.objects.filter(
                camera=camera, command=command_id, started_at__isnull=True
            ):
                segment.started_at = max(at, segment.asked_at)
                segment.confirmed_received_at = received_at
                segment.save(update_fields=["started_at", "confirmed_received_at"])
        elif command.action == "record" and not fault:
            fault = NOT_RECORDING  # asked to record, says it does not: a failed start
        elif command.action == "stop" and not recording:
            _confirm(command, received_at)
    elif not recording and not fault and camera.wanted:
        if camera.fault:  # still failing, as it said before
            fault = camera.fault
        elif _was_recording(camera):  # it stopped by itself while someone is tracked here
            fault = NOT_RECORDING
    if not recording:
        for segment in Recording.objects.filter(
            camera=camera, started_at__isnull=False, started_at__lte=at, stopped_at__isnull=True
        ):
            segment.stopped_at = at
            segment.save(update_fields=["stopped_at"])
    # the answer to its newest command is what it does now, whatever its clock says
    # (a camera whose clock was reset would otherwise be asked again and again)
    answers_newest = command is not None and not (
        CameraCommand.objects.filter(camera=camera, pk__gt=command.pk).exists()
    )
    if camera.confirmed_at is None or at >= camera.confirmed_at or answers_newest:
        camera.recording = recording
        camera.confirmed_at = max(at, camera.confirmed_at or at)
        camera.fault, camera.fault_at = fault, (at if fault else None)
        camera.save(update_fields=["recording", "confirmed_at", "fault", "fault_at"])
    if recording and payload.get("audio") and not camera.zone.monitored:
        rules.lawyer_audio(camera, at, event.seq)
    applied.zones.add(camera.zone_id)


def _was_recording(camera: Camera) -> bool:
    """Whether the camera's newest command is a "record" it confirmed (so a "not
    recording" from it now is a stop of its own, not a command not yet carried out)."""
    newest = CameraCommand.objects.filter(camera=camera).order_by("-pk").first()
    return newest is not None and newest.action == "record" and newest.confirmed_at is not None


#: the fault kept for a camera that says it does not record while it should
NOT_RECORDING = "not_recording"


def _confirm(command: CameraCommand, received_at: datetime) -> None:
    if command.confirmed_at is None:
        command.confirmed_at = received_at
        command.save(update_fields=["confirmed_at"])


def end_stay(stay: Stay) -> list[CameraCommand]:
    """Exit registration: the stay's open presence ends at the exit, the cameras of
    the rooms it leaves are reconciled and its live rules look again."""
    zones = set()
    for presence in Presence.objects.filter(stay=stay, left_at__isnull=True):
        presence.left_at = stay.exited_at
        presence.save(update_fields=["left_at"])
        zones.add(presence.zone_id)
    commands = [c for zone in Zone.objects.filter(pk__in=zones) for c in reconcile_cameras(zone)]
    looks = _Looks()
    looks.stay(stay, stay.exited_at)
    for zone_id in zones:
        looks.zone(zone_id, stay.exited_at)
    looks.run()
    return commands


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


class _Reading(NamedTuple):
    """A ``Vital`` row to insert (the fields ``rules.out_of_range`` reads)."""

    at: datetime
    heart_rate: int | None
    systolic: int | None
    diastolic: int | None
    spo2: int | None


def _readings(
    device: Device, events: Sequence[Event], received_at: datetime, stays: _StaysOf
) -> list[tuple[Stay, _Reading]]:
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
            (stay, _Reading(event.device_time, p.get("hr"), bp[0], bp[1], p.get("spo2")))
        )
    return readings


def _store_vitals(
    readings: Sequence[tuple[Stay, _Reading]], received_at: datetime, looks: _Looks
) -> None:
    """A batch's readings: inserted together, each stay's latest reading kept on the
    (locked) stay in one update. The vital-signs rule looks again at a stay when a
    reading is out of range, or late (it may split an episode)."""
    rule = Rule.objects.filter(code=rules.VITALS, enabled=True).first()
    insert_rows(
        Vital,
        ["stay", "at", "received_at", "heart_rate", "systolic", "diastolic", "spo2"],
        ((stay.pk, r.at, received_at, *r[1:]) for stay, r in readings),
    )
    latest: dict[int, tuple[Stay, _Reading]] = {}
    for stay, reading in readings:
        if stay.pk not in latest or reading.at >= latest[stay.pk][1].at:
            latest[stay.pk] = (stay, reading)
        late = stay.vitals_at is not None and reading.at < stay.vitals_at
        if rule is not None and (late or rules.out_of_range(rule.params or {}, reading)):
            looks.vital(stay, reading.at)
    newer = []
    for stay, reading in latest.values():
        if stay.vitals_at is None or stay.vitals_at <= reading.at:
            stay.heart_rate, stay.systolic = reading.heart_rate, reading.systolic
            stay.diastolic, stay.spo2 = reading.diastolic, reading.spo2
            stay.vitals_at = reading.at
            newer.append(stay)
    update_rows(newer, ["heart_rate", "systolic", "diastolic", "spo2", "vitals_at"])


def _strap_matters(device: Device, event: Event) -> bool:
    """Whether a status makes the strap rule look: a strap reported open, or a strap
    report older than the device's newest (it may end or split an episode). The
    every-few-minutes "closed" of a wristband in order — nearly all of them — does not."""
    strap = event.payload.get("strap") if event.kind == "status" else None
    if strap is None or device.kind != Device.Kind.WRISTBAND:
        return False
    late = device.last_seen_at is not None and event.device_time < device.last_seen_at
    return strap == "removed" or late


def _device_status(device: Device, events: Sequence[Event]) -> bool:
    """A device's status reports of one batch, in device-time order, applied to
    ``device`` (saved by the caller with the batch's others); True if it changed."""
    seen, changed = device.last_seen_at, False
    for event in events:
        if seen is not None and event.device_time < seen:
            continue  # an older status than the one we have: kept as an event, not applied
        changed = True
        p = event.payload
        if "battery" in p:
            device.battery = p["battery"]
        if "strap" in p:
            device.strap_closed = p["strap"] == "closed"
        seen = event.device_time
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
        # never sent: only once its ingester had the time to send it after its commit
        cutoff = timezone.now() - older_than
        rows = rows.filter(
            Q(published_at__isnull=True, created_at__lte=cutoff) | Q(published_at__lte=cutoff)
        )
    return rows.order_by("created_at", "id")


def mark_published(commands: Iterable[CameraCommand], at: datetime | None = None) -> None:
    CameraCommand.objects.filter(pk__in=[c.pk for c in commands]).update(
        published_at=at or timezone.now()
    )


def claim_resends(older_than: timedelta) -> list[CameraCommand]:
    """The commands due to be sent again (``open_commands(older_than=…)``), marked
    sent now in one short transaction before anything is sent. Of several ingesters
    sharing the devices only one sends each: a row another is claiming is skipped
    (PostgreSQL, ``SKIP LOCKED``) and one it claimed is no longer due (SQLite runs
    one writer at a time)."""
    now = timezone.now()
    with transaction.atomic():
        rows = open_commands(older_than=older_than)
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        due = list(rows)
        mark_published(due, now)
    return due
