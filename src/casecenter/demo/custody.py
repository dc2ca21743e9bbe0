"""Demo custody area: the center's floor plan (25 zones, 52 cameras), 32 wristbands,
a badge for every officer, and people in the area.

People are registered in through ``custody.services.register_entry`` (identity,
same-sex safety check, belongings, wristband) and walk through the zones as
their wristbands report it, through ``custody.tracking.apply_events`` — the
path the ingesters take; the cameras answer their commands the same way. The
past is played in time order, each event arriving a moment after it happened,
as a live center would have received it.

The demo shows the custody guarantees at their edges (issue 13): camera 2 of
候问室4 (HH-4) never answers (``BROKEN``) while someone waits there, so its
recording stays unconfirmed and is alerted after the grace; camera 1 of 候问室5
(HH-5) answers that its disk is full while someone waits there, alerted at
once; a person in 候问室1 (HH-1) has a heart rate of 135, alerted to the medical
desk; two co-suspects of one case are left in 候问室6 (HH-6), alerted once. The
simulator ``casecenter demo`` starts (``casecenter simulate``) keeps the same
cameras broken (``simulator_options``) and the people in their rooms there, and
everyone else moving. (Waiting rooms, not an interrogation room: a person held
in one would hold their case's two officers for as long as the demo runs.)
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from django.utils import timezone

from casecenter.accounts.models import Organisation, User
from casecenter.cases.models import AssignmentRole, Case, CaseState, PartyRole
from casecenter.custody import services, tracking
from casecenter.custody.models import Camera, Device, Stay, Zone
from casecenter.devices.simulator import Breakdown
from casecenter.measures.models import Measure

CENTER = "hd-zx"
DESK = "zhaogang"
DESK_F = "qianyu"

#: code, name, English name, kind, x, y, w, h (the plan is 100 × 50)
ZONES = [
    ("DJ", "登记大厅", "Registration", "registration", 0, 0, 20, 14),
    ("YW", "医务室", "Medical room", "medical", 20, 0, 12, 14),
    ("SW", "随身物品保管室", "Belongings", "property", 32, 0, 12, 14),
    ("CW", "涉案财物室", "Property room", "property", 44, 0, 12, 14),
    ("DP", "毒品库", "Drug store", "drug_store", 56, 0, 10, 14),
    ("WJ", "物价鉴定室", "Price appraisal", "appraisal_price", 66, 0, 10, 14),
    ("SJ", "伤情鉴定室", "Injury appraisal", "appraisal_injury", 76, 0, 10, 14),
    ("ZH", "指挥室", "Command room", "command", 86, 0, 14, 14),
    ("ZL", "走廊", "Corridor", "corridor", 0, 14, 100, 4),
    *[
        (f"HH-{n}", f"候问室{n}", f"Waiting room {n}", "waiting", 12 * (n - 1), 18, 12, 14)
        for n in range(1, 7)
    ],
    ("WCN", "未成年人询问室", "Juvenile room", "juvenile", 72, 18, 14, 14),
    ("LS", "律师会见室", "Lawyer's room", "lawyer", 86, 18, 14, 14),
    *[
        (f"XW-{n}", f"讯问室{n}", f"Interrogation {n}", "interrogation", 12 * (n - 1), 32, 12, 14)
        for n in range(1, 7)
    ],
    ("YC", "远程提讯室", "Remote arraignment", "interrogation", 72, 32, 14, 14),
    ("XU", "询问室", "Questioning room", "interrogation", 86, 32, 14, 14),
]
WRISTBANDS = 32

#: the demo's broken cameras, the same in the history built here and in the
#: simulator: one never answers, one answers that its disk is full
SILENT_CAMERA = "ZX-CAM-HH-4-2"
FAULTY_CAMERA, FAULT = "ZX-CAM-HH-5-1", "disk_full"
BROKEN = Breakdown(silent=frozenset({SILENT_CAMERA}), faults={FAULTY_CAMERA: FAULT})
#: where the demo's people are now, the edge cases first: the rooms of the broken
#: cameras, then the one whose heart rate is high
ROOMS = ["HH-4", "HH-5", "HH-1", "XW-1", "HH-2", "XW-2", "HH-3", "XW-3"]
HIGH_PULSE_ROOM, HIGH_PULSE = "HH-1", 135


def build_center(users: dict[str, User]) -> Organisation:
    center = Organisation.objects.get(code=CENTER)
    for code, name, name_en, kind, x, y, w, h in ZONES:
        zone = Zone.objects.create(
            center=center, code=code, name=name, name_en=name_en, kind=kind, x=x, y=y, w=w, h=h
        )
        for n in range(1, 4 if kind == "corridor" else 3):
            Camera.objects.create(
                zone=zone, code=f"ZX-CAM-{code}-{n}", name=f"{name} {n}号摄像机", audio=True
            )
    for n in range(1, WRISTBANDS + 1):
        Device.objects.create(
            center=center, code=f"ZX-WB-{n:03d}", kind=Device.Kind.WRISTBAND, battery=100
        )
    for user in users.values():
        if user.is_police:
            Device.objects.create(
                center=center, code=f"ZX-BG-{user.username}", kind=Device.Kind.BADGE, user=user
            )
    return center


class Walker:
    """Plays the demo's past in time order: device events (numbered per device),
    each arriving 300 ms after it happened, and the cameras' answers to the
    commands they make, two seconds later — except what ``breakdown`` breaks."""

    ARRIVAL = timedelta(milliseconds=300)
    ANSWER = timedelta(seconds=2)

    def __init__(self, center: Organisation, breakdown: Breakdown = BROKEN):
        self.center = center
        self.breakdown = breakdown
        self.seqs: dict[str, Iterator[int]] = {}
        self._queue: list[tuple[datetime, int, str, str, dict[str, Any]]] = []
        self._order = count()

    def send(self, device: str, kind: str, at: datetime, **payload) -> None:
        """Schedule an event (``play`` sends them)."""
        heapq.heappush(self._queue, (at, next(self._order), device, kind, payload))

    def walk(self, device: str, zones: list[str], start: datetime, step: timedelta) -> datetime:
        """Schedule a walk through ``zones``; returns when it entered the last one."""
        at = start
        for zone in zones:
            self.send(device, "presence", at, zone=zone, event="enter")
            at += step
        return at - step

    def play(self) -> None:
        while self._queue:
            at, _, device, kind, payload = heapq.heappop(self._queue)
            seq = next(self.seqs.setdefault(device, count(1)))
            event = tracking.Event(self.center.code, kind, device, seq, at, payload)
            applied = tracking.apply_events([event], received_at=at + self.ARRIVAL)
            for command in applied.commands:
                answer = self.breakdown.status(
                    command.camera.code,
                    recording=command.action == "record",
                    audio=command.audio,
                    command=command.command_id,
                )
                if answer is not None:
                    self.send(command.camera.code, "status", at + self.ANSWER, **answer)


def build_stays(rng: random.Random, users: dict[str, User], center: Organisation) -> int:
    """Suspects of open cases with an active summons or detention, registered in
    and walked to ``ROOMS`` (an interrogation room with their case's two officers)."""
    walker = Walker(center)
    now = timezone.now()
    bands = iter(Device.objects.filter(center=center, kind=Device.Kind.WRISTBAND).order_by("code"))
    badges = set(
        Device.objects.filter(center=center, kind=Device.Kind.BADGE).values_list("code", flat=True)
    )
    measures = list(
        Measure.objects.filter(
            state=Measure.State.IN_FORCE,
            kind__in=["summons", "compelled", "criminal_detention"],
            case__secret=False,
        )
        .exclude(case__state=CaseState.CLOSED)
        .select_related("case", "party__person")
        .order_by("-started_at")
    )
    taken: set[int] = set()
    busy: set[str] = set()  # badges already with someone
    for room in ROOMS:
        found = _person_for(room, measures, taken, badges - busy)
        if found is None:
            continue
        measure, escort = found
        party = measure.party
        taken.add(party.person_id)
        busy |= set(escort)
        desk = users[DESK_F] if party.person.sex == "F" else users[DESK]
        entered = now - timedelta(seconds=rng.randint(40 * 60, 200 * 60))
        band = next(bands)
        services.register_entry(
            desk,
            center=center,
            party=party,
            wristband=band,
            searched_by=desk,
            identity_checked=True,
            health="血压正常，自述无疾病。",
            belongings=[("手机", 1), ("钥匙", 1), ("钱包", 1)][: rng.randint(1, 3)],
            measure=measure,
            at=entered,
        )
        walker.send(band.code, "status", entered, battery=rng.randint(60, 100), strap="closed")
        step = timedelta(seconds=rng.randint(3 * 60, 8 * 60))
        there = walker.walk(band.code, ["DJ", "YW", "SW", "ZL", room], entered, step)
        for n, badge in enumerate(escort):  # the case's officers come in with them
            at = there + timedelta(seconds=5 + 3 * n)
            walker.send(badge, "presence", at, zone=room, event="enter")
        walker.send(
            band.code,
            "vitals",
            now - timedelta(minutes=1),
            hr=HIGH_PULSE if room == HIGH_PULSE_ROOM else rng.randint(62, 96),
            bp=[rng.randint(110, 138), rng.randint(70, 88)],
            spo2=rng.randint(95, 99),
        )
    _co_suspects(rng, users, center, walker, bands, now)
    walker.play()
    return Stay.objects.filter(center=center, exited_at__isnull=True).count()


def _person_for(
    room: str, measures: list[Measure], taken: set[int], free: set[str]
) -> tuple[Measure, list[str]] | None:
    """The next measure's person not in the area yet for ``room``, with the badges
    of the case's two officers when it is an interrogation room (both free)."""
    for measure in measures:
        if measure.party.person_id in taken:
            continue
        if not room.startswith("XW"):
            return measure, []
        officers = measure.case.assignments.filter(
            ended_at__isnull=True, role__in=[AssignmentRole.LEAD, AssignmentRole.ASSISTING]
        ).values_list("user__username", flat=True)
        escort = [f"ZX-BG-{name}" for name in officers if f"ZX-BG-{name}" in free]
        if len(escort) >= 2:
            return measure, escort[:2]
    return None


def _co_suspects(rng, users, center, walker: Walker, bands, now) -> None:
    """Two suspects of one case in one waiting room: the map opens with an alert."""
    case = (
        Case.objects.filter(secret=False, state=CaseState.INVESTIGATING)
        .filter(parties__role=PartyRole.SUSPECT)
        .exclude(parties__stays__isnull=False)
        .first()
    )
    if case is None:
        return
    from casecenter.cases import services as cases
    from casecenter.demo.data import DemoBuilder

    builder = DemoBuilder(seed=rng.randint(0, 10**6))
    lead = case.assignments.filter(ended_at__isnull=True).select_related("user").first().user
    if case.parties.filter(role=PartyRole.SUSPECT).count() < 2:
        cases.add_party(
            lead, case, role=PartyRole.SUSPECT, name=builder.name(), id_number=builder.id_number()
        )
    suspects = case.parties.filter(role=PartyRole.SUSPECT).select_related("person")[:2]
    for n, party in enumerate(suspects):
        if Stay.objects.filter(party__person=party.person, exited_at__isnull=True).exists():
            continue
        desk = users[DESK_F] if party.person.sex == "F" else users[DESK]
        band = next(bands)
        entered = now - timedelta(minutes=30) + timedelta(seconds=20 * n)  # one after the other
        services.register_entry(
            desk,
            center=center,
            party=party,
            wristband=band,
            searched_by=desk,
            identity_checked=True,
            at=entered,
        )
        walker.walk(band.code, ["DJ", "ZL", "HH-6"], entered, timedelta(minutes=4))


def simulator_options() -> list[str]:
    """``casecenter simulate``'s options that break the demo's cameras as ``BROKEN``."""
    options = [arg for camera in sorted(BROKEN.silent) for arg in ("--silent-camera", camera)]
    for camera, fault in sorted(BROKEN.faults.items()):
        options += ["--camera-fault", f"{camera}={fault}"]
    return options


def edge_cases() -> str | None:
    """Where a newcomer finds the custody guarantees at their edges (None when the
    demo's center is not there)."""
    rooms = dict(
        Camera.objects.filter(code__in=BROKEN.cameras, zone__center__code=CENTER).values_list(
            "code", "zone__code"
        )
    )
    if len(rooms) < len(BROKEN.cameras):
        return None
    return (
        f"Custody at its edges: log in as {DESK} for the live map (/custody/) and the alerts "
        f"(/alerts/) — camera {SILENT_CAMERA} in {rooms[SILENT_CAMERA]} never answers "
        f"(recording unconfirmed, alerted after 5 s), {FAULTY_CAMERA} in "
        f"{rooms[FAULTY_CAMERA]} reports {FAULT} (alerted at once); log in as wangyi for the "
        f"heart rate of {HIGH_PULSE} in {HIGH_PULSE_ROOM}, whose alert opens the person's stay."
    )
