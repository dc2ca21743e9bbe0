"""Issue 17: two ingesters sharing the device traffic (``casecenter ingest --share``,
an MQTT 5 shared subscription on the real Mosquitto) apply every event once, leave
each device's state as one ingester would, and send each camera command once."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import Max
from django.utils import timezone

from casecenter.custody import tracking
from casecenter.custody.models import Camera, CameraCommand, DeviceEvent, Presence
from casecenter.custody.tracking import Event
from casecenter.devices.ingest import SUBSCRIPTION, subscription
from casecenter.devices.protocol import parse_command
from tests.devices.conftest import (
    CENTER,
    Ingest,
    Listener,
    Publisher,
    build_world,
    wait_for,
)
from tests.devices.test_reliability import (  # noqa: F401 - fleet is a fixture
    DEVICES,
    assert_applied_exactly_once,
    fleet,
    numbered,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pair(broker, tmp_path, request):
    """Two ingesters of the share group ``ingest``, each with its own client id; their
    command resends held back (60 s) so that every command seen is a first sending."""
    name = "".join(c if c.isalnum() else "-" for c in request.node.name)[:40]
    runners = [
        Ingest(broker.url, f"{name}-{i}", tmp_path, "--resend-after", "60", share="ingest")
        for i in (1, 2)
    ]
    for runner in runners:
        runner.prime()
    yield runners
    for runner in runners:
        runner.stop()


def test_a_share_group_is_a_shared_subscription_of_the_usual_topics():
    assert subscription("") == SUBSCRIPTION
    assert subscription("ingest") == f"$share/ingest/{SUBSCRIPTION}"
    for bad in ("a/b", "a+", "#"):
        with pytest.raises(ValueError):
            subscription(bad)


def test_two_ingesters_one_killed_apply_every_event_exactly_once(fleet, broker, pair):  # noqa: F811
    """The gateway sends every vitals reading twice in a row, so the broker's round
    robin gives one copy to each ingester at once; one ingester is killed with SIGKILL
    halfway and comes back with its client id (Mosquitto keeps its share of the
    messages, and those it had not acknowledged, in its session meanwhile)."""
    per_device = 100
    total = per_device * DEVICES
    first, second = pair
    first.start()
    second.start()
    devices = Publisher(broker.url, "gateway")
    for event in numbered(fleet, per_device):
        devices.event(event)
        if event.kind == "vitals":
            devices.event(event)
    devices.flush()
    wait_for(
        lambda: DeviceEvent.objects.count() >= total * 3 // 10,
        120,
        every=0.05,
        what="30% of the events applied",
    )
    time.sleep(random.Random(total).uniform(0, 0.2))
    first.kill()
    at_kill = DeviceEvent.objects.count()
    assert at_kill < total, "both finished before one was killed: nothing tested"
    wait_for(  # the other goes on with its own share
        lambda: DeviceEvent.objects.count() > at_kill, 60, what="the other ingester going on"
    )
    first.start()
    wait_for(lambda: DeviceEvent.objects.count() >= total, 180, every=0.2, what="every event")
    time.sleep(1.5)  # anything applied twice would show now
    first.stop()
    second.stop()
    assert_applied_exactly_once(fleet, per_device)
    # (every reading sent twice is one Vital row: assert_applied_exactly_once counts them)
    totals = [json.loads(r.log().strip().splitlines()[-1]) for r in (first, second)]
    assert all(t["new"] > 0 for t in totals), totals  # both took part
    assert not any(t["rejected"] for t in totals), totals
    devices.close()


#: the two wearers' walks: (zone, seconds after the first event)
WALKS = {
    "wb-01": [
        ("reg", 0),
        ("med", 60),
        ("wait1", 120),
        ("int1", 180),
        ("wait1", 900),
        ("int2", 960),
    ],
    "wb-02": [("wait2", 30), ("int1", 200), ("law1", 700)],
}


def test_events_of_one_device_split_between_two_ingesters_and_reordered_give_its_walk(
    make_case, officers, broker, pair
):
    """Entries published newest first and shuffled, taken alternately by the two
    ingesters: the presences are each wearer's walk in device time, the cameras
    wanted are those of the rooms occupied at the end, and every command was
    published once, by one ingester."""
    build_world(make_case(), officers, stays=2)
    cameras = Listener(broker.url, f"casecenter/v1/{CENTER}/command/+", "cameras")
    for runner in pair:
        runner.start()
    for runner in pair:
        runner.wait_connected()
    start = timezone.now() - timedelta(minutes=30)
    events = [
        Event(
            CENTER,
            "presence",
            device,
            seq,
            start + timedelta(seconds=s),
            {"zone": z, "event": "enter"},
        )
        for device, walk in WALKS.items()
        for seq, (z, s) in enumerate(walk, start=1)
    ]
    order = list(reversed(events))
    random.Random(17).shuffle(order[2:])  # the two newest first, the rest in any order
    devices = Publisher(broker.url, "gateway")
    for event in order:
        devices.event(event)
        devices.flush()
        time.sleep(0.05)  # one message at a time: the round robin alternates
    wait_for(lambda: DeviceEvent.objects.count() == len(events), 30, what="every entry applied")
    for device, walk in WALKS.items():
        rows = Presence.objects.filter(stay__wristband__code=device).order_by("entered_at")
        assert [(p.zone.code, p.entered_at) for p in rows] == [
            (z, start + timedelta(seconds=s)) for z, s in walk
        ]
        assert [p.left_at for p in rows] == [p.entered_at for p in rows[1:]] + [None]
    assert set(Camera.objects.filter(wanted=True).values_list("code", flat=True)) == {
        "int2-c1",
        "int2-c2",
        "law1-c1",
    }
    for code in ("int2-c1", "int2-c2", "law1-c1"):
        newest = CameraCommand.objects.filter(camera__code=code).latest("pk")
        assert newest.action == "record"
    ids = set(CameraCommand.objects.values_list("command_id", flat=True))
    assert ids
    wait_for(lambda: len(cameras.messages) >= len(ids), 30, what="every command published")
    time.sleep(1)  # a second sending would show now
    sent = Counter(parse_command(payload)["id"] for _, _, payload in cameras.messages)
    assert set(sent) == ids
    assert set(sent.values()) == {1}, sent
    assert not CameraCommand.objects.filter(published_at__isnull=True).exists()
    devices.close()
    cameras.close()


def test_a_command_due_again_is_claimed_by_one_ingester_only(world):
    entered = timezone.now() - timedelta(seconds=10)
    tracking.apply_events(
        [Event(CENTER, "presence", "wb-01", 1, entered, {"zone": "int1", "event": "enter"})],
        received_at=entered,
    )
    assert not tracking.claim_resends(timedelta(seconds=30))  # decided 10 s ago: not due
    claimed = tracking.claim_resends(timedelta(seconds=3))
    assert {c.camera.code for c in claimed} == {"int1-c1", "int1-c2"}
    assert not tracking.claim_resends(timedelta(seconds=3))  # the other ingester's turn: none
    latest = CameraCommand.objects.aggregate(at=Max("published_at"))["at"]
    assert latest is not None and latest >= entered
