"""A day of a custody area, as its wristbands and badges would report it.

``Simulation`` is a discrete-event model, pure and deterministic for a seed:
each person in the area (an open stay with a wristband) walks registration →
medical check → belongings → waiting room → interrogation room (the case's two
officers' badges entering and leaving alongside; while they question someone
else, the person waits) → waiting room → sometimes a
lawyer's meeting → another interrogation → … through the corridor between
rooms, never into a room another person is being questioned in, a minor only
into the juvenile room, and co-suspects of one case kept in different waiting
rooms. Each wristband reports vital signs every ~30 s (a rare abnormal reading)
and its status every 5 min (battery decaying; rarely the strap removed, closed
again at the next report). Times are simulated seconds from the start; the
player (``devices.gateway``) sends each step when its time comes.

A ``Breakdown`` names cameras broken on purpose (the demo's edge cases): the
player's cameras never answer, or answer with a fault, and the simulation's
staff take nobody new into their rooms — whoever is there when the day starts
stays, so the desk finds the failure on the map (the alert asks the desk to
move the person; only the desk does that).

``load_world`` reads the center, its zones, badges and open stays from the
database; the model itself never touches it.
"""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

VITALS_EVERY = 30.0  # simulated seconds between readings
STATUS_EVERY = 300.0
ABNORMAL = 1 / 1500  # chance a reading is outside the thresholds
STRAP_OFF = 1 / 400  # chance a status report finds the strap removed
CORRIDOR = (30, 90)  # seconds walking between rooms
#: how long a person stays in each kind of room (minutes, low-high)
DWELL = {
    "registration": (8, 15),
    "medical": (5, 12),
    "property": (3, 6),
    "waiting": (20, 60),
    "interrogation": (45, 120),
    "juvenile": (45, 90),
    "lawyer": (20, 40),
}


@dataclass(frozen=True)
class Person:
    """An open stay as the simulation needs it."""

    stay: int
    wristband: str
    case: int
    minor: bool = False
    officers: tuple[str, ...] = ()  # badge codes of the case's officers (lead, assisting)
    zone: str | None = None  # where the wristband last said it was
    escort: tuple[str, ...] = ()  # the badges in that room with them now


@dataclass
class World:
    center: str
    zones: dict[str, list[str]]  # kind → zone codes
    badges: list[str]
    people: list[Person]
    cameras: dict[str, str] = field(default_factory=dict)  # camera code → zone code

    def kind_of(self, zone: str) -> str | None:
        return next((k for k, codes in self.zones.items() if zone in codes), None)


@dataclass(frozen=True)
class Breakdown:
    """Cameras broken on purpose, to show the recording guarantee at its edges
    (docs/device-protocol.md): a *silent* camera never answers a command, so its
    room stays unconfirmed and casecenter alerts after the grace; a *faulty* one
    answers every command that it does not record, with its fault code
    ("disk_full"), a failed start alerted at once. Neither is ever repaired by a
    later answer."""

    silent: frozenset[str] = frozenset()
    faults: Mapping[str, str] = field(default_factory=dict)  # camera → fault code

    @property
    def cameras(self) -> frozenset[str]:
        return self.silent | frozenset(self.faults)

    def rooms(self, world: World) -> frozenset[str]:
        """The zones of ``world`` with a broken camera."""
        return frozenset(world.cameras[c] for c in self.cameras if c in world.cameras)

    def status(
        self, camera: str, *, recording: bool, audio: bool, command: str
    ) -> dict[str, Any] | None:
        """The status fields ``camera`` answers ``command`` with, when it would
        say ``recording`` and ``audio`` if it worked (None: it does not answer)."""
        if camera in self.silent:
            return None
        if camera in self.faults:
            fault = self.faults[camera]
            return {"recording": False, "audio": False, "command": command, "fault": fault}
        return {"recording": recording, "audio": recording and audio, "command": command}


@dataclass(frozen=True, order=True)
class Step:
    at: float  # simulated seconds from the start
    device: str
    kind: str  # presence | vitals | status
    payload: dict[str, Any] = field(compare=False)


@dataclass
class _Walker:
    person: Person
    rng: random.Random
    plan: list[str]  # the kinds of room still to visit, next first
    zone: str | None = None
    battery: float = 100.0
    strap_off: bool = False
    badges: tuple[str, ...] = ()
    interrogations: int = 0


class Simulation:
    """The area's people and badges, advanced in simulated time (see module doc)."""

    def __init__(
        self,
        world: World,
        *,
        seed: int = 0,
        start: float = 0.0,
        breakdown: Breakdown | None = None,
    ) -> None:
        self.world = world
        self.seed = seed
        #: rooms with a broken camera: nobody new is taken there, nobody there moves
        self.out_of_service = (breakdown or Breakdown()).rooms(world)
        self.now = start
        self._queue: list[tuple[float, int, str, int]] = []  # (at, order, action, stay)
        self._order = 0
        self.walkers: dict[int, _Walker] = {}
        self.occupants: dict[str, set[int]] = defaultdict(set)  # zone → stays in it
        self.busy_badges: set[str] = set()
        for person in world.people:
            self.add(person, at=start)

    # --- people come and go -------------------------------------------------------------

    def add(self, person: Person, *, at: float | None = None) -> None:
        if person.stay in self.walkers:
            return
        at = self.now if at is None else at
        rng = random.Random(f"{self.seed}:{person.stay}")
        kind = self.world.kind_of(person.zone) if person.zone else None
        walker = _Walker(person, rng, self._first_plan(kind), zone=person.zone)
        walker.battery = rng.uniform(70, 100)
        if person.zone:
            self.occupants[person.zone].add(person.stay)
        if kind in ("interrogation", "juvenile"):  # their officers stay with them
            walker.badges = tuple(b for b in person.escort if b not in self.busy_badges)
            self.busy_badges |= set(walker.badges)
        self.walkers[person.stay] = walker
        first = rng.uniform(0, 60) if kind else 0.0  # someone new starts at once
        if person.zone not in self.out_of_service:  # held where the camera failed
            self._at(at + first, "move", person.stay)
        self._at(at + rng.uniform(1, VITALS_EVERY), "vitals", person.stay)
        self._at(at + rng.uniform(1, 60), "status", person.stay)

    def drop(self, stay: int) -> None:
        """The person left the area (exit registered): no more events from them."""
        walker = self.walkers.pop(stay, None)
        if walker is not None:
            if walker.zone:
                self.occupants[walker.zone].discard(stay)
            self.busy_badges -= set(walker.badges)

    def _first_plan(self, kind: str | None) -> list[str]:
        if kind is None:
            return ["registration", "medical", "property", "waiting"]
        if kind in ("waiting", "lawyer"):
            return ["interrogation"]
        return ["waiting"]

    # --- time -------------------------------------------------------------------------

    def advance(self, until: float) -> list[Step]:
        """Every step up to simulated second ``until``, in time order."""
        steps: list[Step] = []
        while self._queue and self._queue[0][0] <= until:
            at, _, action, stay = heapq.heappop(self._queue)
            walker = self.walkers.get(stay)
            if walker is None:
                continue
            self.now = at
            getattr(self, f"_{action}")(walker, at, steps)
        self.now = max(self.now, until)
        steps.sort()
        return steps

    def _at(self, at: float, action: str, stay: int) -> None:
        self._order += 1
        heapq.heappush(self._queue, (at, self._order, action, stay))

    # --- actions ----------------------------------------------------------------------

    def _move(self, w: _Walker, at: float, steps: list[Step]) -> None:
        while w.plan and not set(self._rooms_of(w, w.plan[0])) - {w.zone}:
            w.plan.pop(0)  # the center has no (other) such room: skip that step
        if not w.plan:
            w.plan = self._next_round(w)
        kind = w.plan[0]
        target = self._choose(w, kind)
        escort = self._officers(w) if kind in ("interrogation", "juvenile") else ()
        if target is None or escort is None:  # no room free, or the officers are busy:
            self._at(at + w.rng.uniform(120, 300), "move", w.person.stay)  # wait, try again
            return
        w.plan.pop(0)
        band = w.person.wristband
        corridor = self.world.zones.get("corridor", [])
        t = at
        self._leave(w, t, steps)
        if corridor:
            hall = corridor[0]
            steps.append(Step(t, band, "presence", {"zone": hall, "event": "enter"}))
            t += w.rng.uniform(*CORRIDOR)
            steps.append(Step(t, band, "presence", {"zone": hall, "event": "leave"}))
        steps.append(Step(t, band, "presence", {"zone": target, "event": "enter"}))
        w.zone = target
        self.occupants[target].add(w.person.stay)
        if kind in ("interrogation", "juvenile"):
            w.interrogations += 1
            w.badges = escort
            self.busy_badges |= set(w.badges)
            for n, badge in enumerate(w.badges):
                steps.append(
                    Step(t + 5 + n * 3, badge, "presence", {"zone": target, "event": "enter"})
                )
        low, high = DWELL.get(kind, (10, 30))
        self._at(t + w.rng.uniform(low, high) * 60, "move", w.person.stay)

    def _leave(self, w: _Walker, at: float, steps: list[Step]) -> None:
        if w.zone is None:
            return
        for n, badge in enumerate(w.badges):
            steps.append(Step(at + 1 + n, badge, "presence", {"zone": w.zone, "event": "leave"}))
        self.busy_badges -= set(w.badges)
        w.badges = ()
        steps.append(Step(at, w.person.wristband, "presence", {"zone": w.zone, "event": "leave"}))
        self.occupants[w.zone].discard(w.person.stay)
        w.zone = None

    def _next_round(self, w: _Walker) -> list[str]:
        if not any(self._rooms_of(w, k) for k in ("waiting", "interrogation")):
            return ["medical", "registration"]  # a center without them: wander
        plan = ["waiting"]
        if w.rng.random() < 0.3 and self.world.zones.get("lawyer"):
            plan += ["lawyer", "waiting"]
        if w.rng.random() < 0.2:
            plan += ["medical", "waiting"]
        return [*plan, "interrogation"]

    def _rooms_of(self, w: _Walker, kind: str) -> list[str]:
        if kind == "interrogation" and w.person.minor and self.world.zones.get("juvenile"):
            kind = "juvenile"
        return self.world.zones.get(kind, [])

    def _choose(self, w: _Walker, kind: str) -> str | None:
        """A room of ``kind``: an interrogation room nobody is questioned in (the
        juvenile room for a minor), a waiting room without a co-suspect."""
        if kind == "interrogation" and w.person.minor and self.world.zones.get("juvenile"):
            kind = "juvenile"
        rooms = [
            z
            for z in self.world.zones.get(kind, [])
            if z != w.zone and z not in self.out_of_service
        ]
        if kind in ("interrogation", "juvenile", "lawyer"):
            rooms = [z for z in rooms if not self.occupants[z]]
        elif kind == "waiting":
            case = w.person.case
            rooms = [
                z
                for z in rooms
                if all(self.walkers[s].person.case != case for s in self.occupants[z])
            ]
            rooms.sort(key=lambda z: len(self.occupants[z]))
            rooms = rooms[:2]
        return w.rng.choice(rooms) if rooms else None

    def _officers(self, w: _Walker) -> tuple[str, ...] | None:
        """The two officers who question the person: the case's own (CPL Art. 118,
        and the live rule counts only them), None while they are busy elsewhere. A
        case with fewer than two officers wearing a badge borrows free colleagues."""
        own = list(dict.fromkeys(w.person.officers))
        free = [b for b in own if b not in self.busy_badges]
        if len(own) >= 2:
            return tuple(free[:2]) if len(free) >= 2 else None
        others = [b for b in self.world.badges if b not in self.busy_badges and b not in free]
        w.rng.shuffle(others)
        return tuple((free + others)[:2])

    def _vitals(self, w: _Walker, at: float, steps: list[Step]) -> None:
        rng = w.rng
        hr, sys_, dia, spo2 = (
            round(rng.gauss(78, 7)),
            round(rng.gauss(122, 8)),
            round(rng.gauss(78, 5)),
            rng.choice([96, 97, 97, 98, 98, 99]),
        )
        if rng.random() < ABNORMAL:
            hr, sys_, spo2 = rng.choice(
                [
                    (rng.randint(125, 150), sys_, spo2),
                    (hr, rng.randint(165, 190), spo2),
                    (hr, sys_, rng.randint(86, 90)),
                    (rng.randint(38, 46), sys_, spo2),
                ]
            )
        hr = min(max(hr, 30), 220)
        sys_ = min(max(sys_, dia + 10), 250)
        steps.append(
            Step(at, w.person.wristband, "vitals", {"hr": hr, "bp": [sys_, dia], "spo2": spo2})
        )
        self._at(at + rng.uniform(VITALS_EVERY - 5, VITALS_EVERY + 5), "vitals", w.person.stay)

    def _status(self, w: _Walker, at: float, steps: list[Step]) -> None:
        rng = w.rng
        w.battery = max(5.0, w.battery - rng.uniform(0.1, 0.35))  # about 3 % an hour
        if w.strap_off:
            w.strap_off = False
        elif rng.random() < STRAP_OFF:
            w.strap_off = True
        steps.append(
            Step(
                at,
                w.person.wristband,
                "status",
                {"battery": int(w.battery), "strap": "removed" if w.strap_off else "closed"},
            )
        )
        self._at(at + STATUS_EVERY, "status", w.person.stay)


# --- the world from the database -------------------------------------------------------


def load_world(center: str) -> World:
    """The center's zones, cameras and badges, and the people in its area now."""
    from casecenter.custody.models import Camera, Device, Zone

    zones: dict[str, list[str]] = defaultdict(list)
    for code, kind in Zone.objects.filter(center__code=center).values_list("code", "kind"):
        zones[kind].append(code)
    return World(
        center=center,
        zones=dict(zones),
        badges=list(
            Device.objects.filter(center__code=center, kind="badge", active=True)
            .order_by("code")
            .values_list("code", flat=True)
        ),
        people=open_people(center),
        cameras=dict(
            Camera.objects.filter(zone__center__code=center).values_list("code", "zone__code")
        ),
    )


def open_people(center: str) -> list[Person]:
    from casecenter.cases.models import Assignment, AssignmentRole
    from casecenter.custody.models import Device, Presence, Stay

    stays = list(
        Stay.objects.filter(center__code=center, exited_at__isnull=True, wristband__isnull=False)
        .select_related("wristband", "party")
        .order_by("id")
    )
    badges: dict[int, list[str]] = defaultdict(list)
    for user, code in Device.objects.filter(
        center__code=center, kind="badge", active=True, user__isnull=False
    ).values_list("user_id", "code"):
        badges[user].append(code)
    officers: dict[int, list[str]] = defaultdict(list)
    for case, user in (
        Assignment.objects.filter(
            case__in={s.case_id for s in stays},
            ended_at__isnull=True,
            role__in=[AssignmentRole.LEAD, AssignmentRole.ASSISTING],
        )
        .order_by("id")
        .values_list("case_id", "user_id")
    ):
        officers[case] += badges.get(user, [])
    where = dict(
        Presence.objects.filter(stay__in=stays, left_at__isnull=True).values_list(
            "stay_id", "zone__code"
        )
    )
    badges_in: dict[str, list[str]] = defaultdict(list)  # zone → the badges there now
    for code, zone in (
        Presence.objects.filter(
            badge__center__code=center, badge__isnull=False, left_at__isnull=True
        )
        .order_by("badge__code")
        .values_list("badge__code", "zone__code")
    ):
        badges_in[zone].append(code)
    return [
        Person(
            stay=s.pk,
            wristband=s.wristband.code,
            case=s.case_id,
            minor=s.party.minor_at_act,
            officers=tuple(officers.get(s.case_id, [])),
            zone=where.get(s.pk),
            escort=tuple(badges_in.get(where.get(s.pk, ""), ())),
        )
        for s in stays
    ]
