"""``casecenter simulate``: the day it plays, and the two ways it plays it."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from casecenter.accounts.models import Role
from casecenter.accounts.services import issue_api_token
from casecenter.custody import tracking
from casecenter.custody.models import (
    Camera,
    CameraCommand,
    DeviceEvent,
    Presence,
    Recording,
    Vital,
)
from casecenter.custody.tracking import Event
from casecenter.devices import protocol
from casecenter.devices.gateway import Cameras
from casecenter.devices.simulator import Breakdown, Person, Simulation, World
from casecenter.supervision.models import Alert
from tests.devices.conftest import CENTER, build_world, wait_for

DAY = 24 * 3600
WORLD = World(
    center=CENTER,
    zones={
        "registration": ["reg"],
        "medical": ["med"],
        "property": ["sw"],
        "waiting": ["wait1", "wait2", "wait3"],
        "interrogation": ["int1", "int2", "int3"],
        "juvenile": ["juv"],
        "lawyer": ["law1"],
        "corridor": ["hall"],
    },
    badges=[f"bd-{n:02d}" for n in range(1, 9)],
    people=[
        Person(1, "wb-01", case=10, officers=("bd-01", "bd-02")),
        Person(2, "wb-02", case=10, officers=("bd-01", "bd-02")),  # co-suspect of 1
        Person(3, "wb-03", case=11, minor=True),
        Person(4, "wb-04", case=12, zone="wait2"),
        Person(5, "wb-05", case=13, zone="int1"),
        Person(6, "wb-06", case=14),
    ],
)


def day(seed: int, chunks: int = 1):
    sim = Simulation(WORLD, seed=seed)
    steps = []
    for k in range(1, chunks + 1):
        steps += sim.advance(DAY * k / chunks)
    return sorted(steps)


def test_the_same_seed_plays_the_same_day_however_it_is_advanced():
    one = day(7)
    assert one == day(7, chunks=97)
    assert [s.payload for s in one] == [s.payload for s in day(7, chunks=97)]
    assert one != day(8)


def test_the_day_keeps_the_custody_rules_and_the_protocol():
    steps = day(4)  # a day with a strap opened
    kind_of = {z: k for k, zones in WORLD.zones.items() for z in zones}
    person = {p.wristband: p for p in WORLD.people}
    where = {p.wristband: p.zone for p in WORLD.people if p.zone}
    interrogations, escorted = [], 0
    presence = [s for s in steps if s.kind == "presence"]
    # leaves first at one instant: a room handed over is free again
    for step in sorted(presence, key=lambda s: (s.at, s.payload["event"] == "enter")):
        zone, event = step.payload["zone"], step.payload["event"]
        if event == "leave":
            assert where.pop(step.device) == zone, "left a room it was not in"
            continue
        assert step.device not in where, f"{step.device} entered {zone} without leaving"
        where[step.device] = zone
        if step.device not in person:
            continue
        me = person[step.device]
        others = [
            person[d] for d, z in where.items() if z == zone and d in person and d != step.device
        ]
        if kind_of[zone] in ("interrogation", "juvenile"):
            assert not others, "two people questioned in one room"
            assert kind_of[zone] == ("juvenile" if me.minor else "interrogation")
            interrogations.append(step)
            badges = {
                s.device
                for s in presence
                if s.payload == {"zone": zone, "event": "enter"}
                and s.device.startswith("bd-")
                and step.at <= s.at <= step.at + 10
            }
            escorted += len(badges) == 2
        if kind_of[zone] == "waiting":
            assert all(o.case != me.case for o in others), "co-suspects in one waiting room"
    assert len(interrogations) >= 12
    assert escorted == len(interrogations)

    readings = defaultdict(list)
    for step in steps:
        if step.kind == "vitals":
            readings[step.device].append(step.at)
        at = datetime(2026, 11, 26, tzinfo=UTC)
        event = Event(CENTER, step.kind, step.device, 1, at, step.payload)
        assert (
            protocol.parse(
                protocol.topic_for(CENTER, step.kind, step.device), protocol.encode(event)
            )
            == event
        )
    for times in readings.values():
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert min(gaps) >= 25 and max(gaps) <= 35
        assert len(times) > DAY / 36
    statuses = [s for s in steps if s.kind == "status"]
    assert {s.payload["strap"] for s in statuses} == {"closed", "removed"}
    assert all(s.payload["battery"] < 100 for s in statuses)


def test_only_the_case_s_own_officers_question_its_people_one_at_a_time():
    steps = day(3)
    rooms = set(WORLD.zones["interrogation"])
    # wb-01 and wb-02 are co-suspects of case 10, whose officers wear bd-01 and bd-02
    spans, escorts = [], []
    where: dict[str, tuple[str, float]] = {}
    for step in steps:
        if step.device not in ("wb-01", "wb-02") or step.kind != "presence":
            continue
        zone = step.payload["zone"]
        if step.payload["event"] == "enter" and zone in rooms:
            where[step.device] = (zone, step.at)
            escorts.append(
                {
                    s.device
                    for s in steps
                    if s.payload == {"zone": zone, "event": "enter"}
                    and step.at <= s.at <= step.at + 10
                    and s.device.startswith("bd-")
                }
            )
        elif step.payload["event"] == "leave" and step.device in where:
            zone, start = where.pop(step.device)
            if zone == step.payload["zone"]:
                spans.append((start, step.at))
    assert len(escorts) >= 4 and all(e == {"bd-01", "bd-02"} for e in escorts)
    spans.sort()
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False)), "questioned at once"


def test_people_who_leave_stop_and_new_people_start_at_registration():
    sim = Simulation(WORLD, seed=1)
    sim.advance(3600)
    sim.drop(1)
    sim.add(Person(9, "wb-09", case=20), at=3600)
    later = sim.advance(7200)
    assert not [s for s in later if s.device == "wb-01"]
    first = next(s for s in later if s.device == "wb-09" and s.kind == "presence")
    assert first.payload == {"zone": "hall", "event": "enter"} or first.payload["zone"] == "reg"
    entered = [
        s.payload["zone"]
        for s in later
        if s.device == "wb-09" and s.payload.get("event") == "enter"
    ]
    assert [z for z in entered if z != "hall"][:2] == ["reg", "med"]


# --- broken cameras ---------------------------------------------------------------------

BROKEN = Breakdown(silent=frozenset({"int1-c2"}), faults={"wait2-c1": "disk_full"})


def test_broken_cameras_never_answer_or_answer_with_their_fault_and_the_others_answer():
    cameras = Cameras(random.Random(1), breakdown=BROKEN)
    ts = datetime(2026, 11, 26, 9, tzinfo=UTC)
    commands = [
        {"camera": code, "id": f"cmd-{code}", "action": "record", "audio": True, "ts": ts}
        for code in ("int1-c1", "int1-c2", "wait2-c1")
    ]
    answers = []
    for second in range(0, 61, 3):  # casecenter sends an open command again every 3 s
        cameras.receive(commands, float(second))
        answers += cameras.answers(second + 2.0)
    by_camera = defaultdict(list)
    for code, fields in answers:
        by_camera[code].append(fields)
    assert "int1-c2" not in by_camera  # never, however often it is asked
    # the faulty camera answers every resend (a few seconds apart), never recording
    assert len(by_camera["wait2-c1"]) >= 10
    assert all(
        f == {"recording": False, "audio": False, "command": "cmd-wait2-c1", "fault": "disk_full"}
        for f in by_camera["wait2-c1"]
    )
    assert by_camera["int1-c1"][0] == {"recording": True, "audio": True, "command": "cmd-int1-c1"}
    # asked to stop, the faulty one still says why it does not record; the silent one says nothing
    stop = [{**c, "id": f"stop-{c['camera']}", "action": "stop"} for c in commands]
    cameras.receive(stop, 100.0)
    later = dict(cameras.answers(102.0))
    assert later["int1-c1"] == {"recording": False, "audio": False, "command": "stop-int1-c1"}
    assert later["wait2-c1"]["fault"] == "disk_full" and "int1-c2" not in later


BROKEN_WORLD = replace(
    WORLD,
    cameras={"int1-c1": "int1", "int1-c2": "int1", "wait2-c1": "wait2", "wait1-c1": "wait1"},
)


def test_whoever_is_in_a_room_with_a_broken_camera_stays_and_nobody_new_is_taken_there():
    steps = Simulation(BROKEN_WORLD, seed=3, breakdown=BROKEN).advance(DAY)
    # wb-05 is in int1, wb-04 in wait2: they stay (the desk has to move them)
    held = [s for s in steps if s.kind == "presence" and s.device in ("wb-04", "wb-05")]
    assert held == []
    assert {s.device for s in steps if s.kind == "vitals"} >= {"wb-04", "wb-05"}
    entered = {s.payload["zone"] for s in steps if s.payload.get("event") == "enter"}
    assert not entered & {"int1", "wait2"}
    assert {"int2", "int3", "wait1", "wait3"} <= entered
    # without the breakdown the same day moves them on
    moved = Simulation(BROKEN_WORLD, seed=3).advance(DAY)
    assert {s.device for s in moved if s.kind == "presence"} >= {"wb-04", "wb-05"}


def test_officers_found_with_a_person_in_an_interrogation_room_stay_with_them():
    badges = ("bd-01", "bd-02")
    person = Person(1, "wb-01", case=10, officers=badges, zone="int1", escort=badges)
    world = replace(WORLD, people=[person], cameras={"int1-c2": "int1"})
    steps = Simulation(world, seed=4, breakdown=BROKEN).advance(DAY)
    # held there with the person: never taken to another interrogation
    assert not [s for s in steps if s.device in ("bd-01", "bd-02")]
    freed = Simulation(world, seed=4).advance(DAY)
    first = [s for s in freed if s.kind == "presence"][:4]
    assert {(s.device, s.payload["event"]) for s in first if s.device.startswith("bd")} == {
        ("bd-01", "leave"),
        ("bd-02", "leave"),
    }


# --- through casecenter -----------------------------------------------------------------


@pytest.fixture
def gateway_token(world, make_user):
    user = make_user("gateway", Role.CUSTODY_STAFF)
    user.organisation = world.center
    user.save()
    return issue_api_token(user, name="simulator")[1]


def assert_a_day_arrived(world, *, all_confirmed: bool):
    stay = world.stays[0]
    rooms = list(Presence.objects.filter(stay=stay).values_list("zone__code", flat=True))
    assert rooms[:3] == ["hall", "reg", "hall"], rooms
    assert Vital.objects.filter(stay=stay).count() > 45 * 60 / 40
    # the cameras answered: recordings confirmed (started) in the rooms the person went to
    confirmed = set(
        Recording.objects.filter(started_at__isnull=False).values_list("zone__code", flat=True)
    )
    filmed = set(rooms) - {"hall"}  # the test center's corridor has no camera
    if not all_confirmed:  # over MQTT the last room's command may be answered after the end
        filmed -= {rooms[-1]}
    assert len(filmed) >= 2
    assert filmed <= confirmed
    if all_confirmed:
        assert not CameraCommand.objects.filter(confirmed_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_simulate_over_http_plays_the_people_and_the_cameras(world, gateway_token, live_server):
    call_command(
        "simulate",
        via="http",
        url=live_server.url,
        token=gateway_token,
        speed=600,
        minutes=45,
        seed=5,
        tick=0.1,
        verbosity=0,
    )
    assert_a_day_arrived(world, all_confirmed=True)


@pytest.mark.django_db(transaction=True)
def test_simulate_over_mqtt_plays_the_people_and_the_cameras(world, broker, ingest):
    ingest.prime()
    ingest.start()
    ingest.wait_connected()
    call_command(
        "simulate",
        via="mqtt",
        url=broker.url,
        speed=600,
        minutes=45,
        seed=5,
        tick=0.1,
        verbosity=0,
        client_id=f"sim-{ingest.client_id}"[:60],
    )
    count = DeviceEvent.objects.count()
    wait_for(lambda: DeviceEvent.objects.count() == count, 10, every=1.0)
    assert_a_day_arrived(world, all_confirmed=False)


@pytest.mark.django_db(transaction=True)
def test_simulate_keeps_the_broken_cameras_broken(
    make_case, officers, live_server, make_user, settings
):
    settings.CASECENTER_RECORDING_GRACE_SECONDS = 60  # the fault, not the silence, alerts
    world = build_world(make_case(), officers, stays=2)
    user = make_user("gateway", Role.CUSTODY_STAFF)
    user.organisation = world.center
    user.save()
    token = issue_api_token(user, name="simulator")[1]
    t = timezone.now()  # they come in now: the cameras are asked as they would be live
    for band, zone in [("wb-01", "int1"), ("wb-02", "wait2")]:
        where = {"zone": zone, "event": "enter"}
        tracking.apply_events([Event(CENTER, "presence", band, 1, t, where)], received_at=t)
    call_command(
        "simulate",
        via="http",
        url=live_server.url,
        token=token,
        speed=600,
        minutes=2,
        seed=5,
        tick=0.1,
        verbosity=0,
        silent_camera=["int1-c2"],
        camera_fault=["wait2-c1=disk_full"],
    )
    assert not DeviceEvent.objects.filter(device="int1-c2").exists()
    answers = list(DeviceEvent.objects.filter(device="wait2-c1").values_list("payload", flat=True))
    assert answers and all(a["fault"] == "disk_full" and not a["recording"] for a in answers)
    cameras = {
        c.code: (c.state, c.fault) for c in Camera.objects.filter(zone__code__in=["int1", "wait2"])
    }
    assert cameras == {
        "int1-c1": ("on", ""),
        "int1-c2": ("asked", ""),
        "wait2-c1": ("failed", "disk_full"),
    }
    assert CameraCommand.objects.filter(camera__code="int1-c2", confirmed_at__isnull=True).exists()
    # the people stayed where the cameras fail, and the fault was alerted at once
    where = dict(
        Presence.objects.filter(left_at__isnull=True, stay__isnull=False).values_list(
            "stay__wristband__code", "zone__code"
        )
    )
    assert where == {"wb-01": "int1", "wb-02": "wait2"}
    [alert] = Alert.objects.filter(rule_id="custody.recording", facts__zone="wait2")
    assert "disk_full" in alert.explanation_en


@pytest.mark.django_db
def test_simulate_refuses_a_camera_the_center_does_not_have(world):
    with pytest.raises(CommandError, match="no camera nope"):
        call_command("simulate", via="http", token="x", silent_camera=["nope"], verbosity=0)
    with pytest.raises(CommandError, match="CODE=FAULT"):
        call_command("simulate", via="http", token="x", camera_fault=["int1-c1"], verbosity=0)
