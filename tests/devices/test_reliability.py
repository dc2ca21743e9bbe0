"""Issue 5, item 9: the ingester killed with SIGKILL, and the broker restarted, in the
middle of a stream of numbered events: none lost, none applied twice.

``CASECENTER_SIGKILL_EVENTS`` sets the stream's size (default 100,000: 50
wristbands × 2,000 events, every tenth a vitals reading — a ``Vital`` row
each, so a reading applied twice would show — and the others status reports).
Presence is left to the hypothesis tests (``test_idempotence``): replaying it is
idempotent by design, so counting its rows would prove nothing here.
"""

from __future__ import annotations

import json
import os
import random
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count, Max, Min
from django.utils import timezone

from casecenter.custody.models import Device, DeviceEvent, Vital
from casecenter.custody.tracking import Event
from tests.devices.conftest import CENTER, Publisher, build_world, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

DEVICES = 50
TOTAL = int(os.environ.get("CASECENTER_SIGKILL_EVENTS", "100000"))


def numbered(world, per_device: int, *, first: int = 0):
    """Event ``i`` of every wristband, i in [first, first + per_device): every tenth
    a vitals reading, the others status; one second apart on the device clocks."""
    start = world.entered + timedelta(minutes=1)
    for i in range(first, first + per_device):
        at = start + timedelta(seconds=i)
        for band in world.wristbands:
            if i % 10 == 0:
                yield Event(CENTER, "vitals", band.code, i, at, {"hr": 60 + i % 40, "spo2": 98})
            else:
                yield Event(CENTER, "status", band.code, i, at, {"battery": 100 - i * 100 // 5000})


@pytest.fixture
def fleet(make_case, officers):
    world = build_world(make_case(), officers, stays=DEVICES)
    # the stays began long enough ago for every event of the stream to fall inside them
    from casecenter.custody.models import Stay

    world.entered = timezone.now() - timedelta(hours=2)
    Stay.objects.update(entered_at=world.entered)
    return world


def assert_applied_exactly_once(world, per_device: int, first: int = 0) -> None:
    total = per_device * DEVICES
    assert DeviceEvent.objects.count() == total
    doubles = DeviceEvent.objects.values("device", "seq").annotate(n=Count("id")).filter(n__gt=1)
    assert not doubles.exists()
    per = DeviceEvent.objects.values("device").annotate(
        n=Count("id"), low=Min("seq"), high=Max("seq")
    )
    assert {(r["n"], r["low"], r["high"]) for r in per} == {
        (per_device, first, first + per_device - 1)
    }
    # applied once: one Vital row per vitals event, and each wristband's status is its last
    vitals = sum(1 for i in range(first, first + per_device) if i % 10 == 0) * DEVICES
    assert Vital.objects.count() == vitals
    last_status = max(i for i in range(first, first + per_device) if i % 10)
    for band in Device.objects.filter(kind="wristband"):
        assert band.battery == 100 - last_status * 100 // 5000
        assert band.last_seen_at == world.entered + timedelta(minutes=1, seconds=last_status)


def test_sigkill_in_the_middle_loses_no_event_and_applies_none_twice(fleet, broker, ingest):
    per_device = TOTAL // DEVICES
    ingest.prime()
    ingest.start()
    devices = Publisher(broker.url, "gateway")
    started = time.monotonic()
    for event in numbered(fleet, per_device):
        devices.event(event)
    devices.flush(timeout=300)
    published = time.monotonic() - started

    wait_for(
        lambda: DeviceEvent.objects.count() >= TOTAL * 3 // 10,
        240,
        every=0.05,
        what="30% of the events applied",
    )
    time.sleep(random.Random(TOTAL).uniform(0, 0.3))  # most likely in a batch's transaction
    ingest.kill()  # SIGKILL: no clean-up, whatever it held unacknowledged is redelivered
    killed = time.monotonic() - started
    after_kill = DeviceEvent.objects.count()
    assert after_kill < TOTAL, "the ingester finished before it was killed: nothing tested"
    ingest.start()  # the same client id: the broker gives it the session's queue
    wait_for(
        lambda: DeviceEvent.objects.count() >= TOTAL, 240, every=0.2, what="every event applied"
    )
    done = time.monotonic() - started
    time.sleep(1.5)  # anything applied twice would show now
    ingest.stop()
    assert_applied_exactly_once(fleet, per_device)
    totals = json.loads(ingest.log().strip().splitlines()[-1])
    print(  # the figures of the closing note (pytest -s)
        json.dumps(
            {
                "db": connection.vendor,
                "events": TOTAL,
                "published_s": round(published, 1),
                "killed_at_s": round(killed, 1),
                "applied_at_kill": after_kill,
                "all_applied_s": round(done, 1),
                "second_run": totals,
            }
        )
    )
    assert totals["new"] == TOTAL - after_kill
    devices.close()


def test_a_broker_restart_is_survived_and_nothing_published_after_it_is_lost(fleet, broker, ingest):
    per_device = 200
    ingest.prime()
    ingest.start()
    devices = Publisher(broker.url, "gateway")
    for event in numbered(fleet, per_device):
        devices.event(event)
    devices.flush()
    wait_for(
        lambda: DeviceEvent.objects.count() >= per_device * DEVICES // 3,
        60,
        every=0.02,
        what="a third applied",
    )
    broker.stop()  # persistence false: the broker forgets the session and its queue
    before = DeviceEvent.objects.count()
    broker.start()
    # The ingester reconnects by itself and subscribes again; a probe tells us when.
    probe = iter(range(10**6))
    wait_for(
        lambda: (
            devices.event(
                Event(CENTER, "status", "bd-01", next(probe), timezone.now(), {"battery": 90})
            )
            or DeviceEvent.objects.filter(device="bd-01").exists()
        ),
        60,
        every=0.3,
        what="the ingester back on the restarted broker",
    )
    for event in numbered(fleet, per_device, first=per_device):
        devices.event(event)
    devices.flush()
    wait_for(
        lambda: (
            DeviceEvent.objects.filter(seq__gte=per_device, device__startswith="wb-").count()
            == per_device * DEVICES
        ),
        120,
        what="every event published after the restart",
    )
    ingest.stop()
    after = DeviceEvent.objects.filter(device__startswith="wb-", seq__gte=per_device)
    assert after.count() == per_device * DEVICES
    assert (
        before <= DeviceEvent.objects.filter(seq__lt=per_device, device__startswith="wb-").count()
    )
    devices.close()
