"""Demo custody area: the center's floor plan (25 zones, 52 cameras), 32 wristbands,
a badge for every officer, and people in the area.

People are registered in through ``custody.services.register_entry`` (identity,
same-sex safety check, belongings, wristband) and walk through the zones as
their wristbands report it, through ``custody.tracking.apply_events`` — the
path the ingesters take; the cameras confirm their commands the same way. Two
co-suspects of one case are left in one waiting room, so the map opens with a
separation alert; the simulator (``casecenter simulate``) keeps everyone moving
once the demo serves.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from itertools import count

from django.utils import timezone

from casecenter.accounts.models import Organisation, User
from casecenter.cases.models import Case, CaseState, PartyRole
from casecenter.custody import services, tracking
from casecenter.custody.models import Camera, Device, Stay, Zone
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
    """Sends device events for the demo's people, numbered per device."""

    def __init__(self, center: Organisation):
        self.center = center
        self.seqs: dict[str, count] = {}

    def send(self, device: str, kind: str, at: datetime, **payload) -> tracking.Applied:
        seq = next(self.seqs.setdefault(device, count(1)))
        event = tracking.Event(self.center.code, kind, device, seq, at, payload)
        # the past is played as it happened: each event arrives a moment after it
        applied = tracking.apply_events([event], received_at=at + timedelta(milliseconds=300))
        for command in applied.commands:  # the camera answers two seconds later
            self.send(
                command.camera.code,
                "status",
                at + timedelta(seconds=2),
                recording=command.action == "record",
                audio=command.audio,
                command=command.command_id,
            )
        return applied

    def walk(self, device: str, zones: list[str], start: datetime, minutes: int) -> None:
        at = start
        for zone in zones:
            self.send(device, "presence", at, zone=zone, event="enter")
            at += timedelta(minutes=minutes)


def build_stays(rng: random.Random, users: dict[str, User], center: Organisation) -> int:
    """Suspects of open cases with an active summons or detention, registered in."""
    walker = Walker(center)
    now = timezone.now()
    bands = iter(Device.objects.filter(center=center, kind=Device.Kind.WRISTBAND).order_by("code"))
    measures = (
        Measure.objects.filter(
            state=Measure.State.IN_FORCE,
            kind__in=["summons", "compelled", "criminal_detention"],
            case__secret=False,
        )
        .exclude(case__state=CaseState.CLOSED)
        .select_related("case", "party__person")
        .order_by("-started_at")
    )
    taken, placed = set(), 0
    waiting = iter(["HH-1", "HH-2", "HH-3", "HH-4", "HH-5"])
    for measure in measures:
        party = measure.party
        if party.person_id in taken or placed >= 8:
            continue
        taken.add(party.person_id)
        desk = users[DESK_F] if party.person.sex == "F" else users[DESK]
        entered = now - timedelta(minutes=rng.randint(40, 200))
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
        room = f"XW-{placed + 1}" if placed < 4 else next(waiting, "HH-6")
        walker.walk(band.code, ["DJ", "YW", "SW", "ZL", room], entered, rng.randint(3, 8))
        walker.send(
            band.code,
            "vitals",
            now - timedelta(minutes=1),
            hr=rng.randint(62, 96),
            bp=[rng.randint(110, 138), rng.randint(70, 88)],
            spo2=rng.randint(95, 99),
        )
        if room.startswith("XW"):
            lead = measure.case.assignments.filter(ended_at__isnull=True).select_related("user")
            for assignment in lead[:2]:
                walker.send(
                    f"ZX-BG-{assignment.user.username}",
                    "presence",
                    entered + timedelta(minutes=25),
                    zone=room,
                    event="enter",
                )
        placed += 1
    _co_suspects(rng, users, center, walker, bands, now)
    return Stay.objects.filter(center=center, exited_at__isnull=True).count()


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
    for party in case.parties.filter(role=PartyRole.SUSPECT).select_related("person")[:2]:
        if Stay.objects.filter(party__person=party.person, exited_at__isnull=True).exists():
            continue
        desk = users[DESK_F] if party.person.sex == "F" else users[DESK]
        band = next(bands)
        entered = now - timedelta(minutes=30)
        services.register_entry(
            desk,
            center=center,
            party=party,
            wristband=band,
            searched_by=desk,
            identity_checked=True,
            at=entered,
        )
        walker.walk(band.code, ["DJ", "ZL", "HH-6"], entered, 4)
