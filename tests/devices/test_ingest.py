"""``casecenter ingest`` against a real Mosquitto and the real database."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from casecenter.custody.models import CameraCommand, DeviceEvent, Presence, Recording
from casecenter.custody.tracking import Event
from casecenter.devices.models import RejectedMessage
from casecenter.devices.protocol import parse_command
from tests.devices.conftest import CENTER, Listener, Publisher, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_entering_a_room_makes_its_cameras_record_once_they_confirm(world, broker, ingest):
    cameras = Listener(broker.url, f"casecenter/v1/{CENTER}/command/+", "cameras")
    ingest.prime()
    ingest.start()
    devices = Publisher(broker.url, "gateway")
    at = timezone.now() - timedelta(seconds=2)
    devices.event(Event(CENTER, "presence", "wb-01", 1, at, {"zone": "int1", "event": "enter"}))
    devices.flush()

    wait_for(lambda: len(cameras.messages) >= 2, 30, what="commands for both cameras of int1")
    commands = {
        topic.rsplit("/", 1)[1]: parse_command(payload) for _, topic, payload in cameras.messages
    }
    assert set(commands) == {"int1-c1", "int1-c2"}
    assert {c["action"] for c in commands.values()} == {"record"}
    assert all(c["audio"] for c in commands.values())
    presence = Presence.objects.get(stay=world.stays[0])
    assert (presence.zone.code, presence.entered_at, presence.left_at) == ("int1", at, None)

    for seq, (camera, command) in enumerate(sorted(commands.items()), start=1):
        devices.event(
            Event(
                CENTER,
                "status",
                camera,
                seq,
                timezone.now(),
                {"recording": True, "audio": True, "command": command["id"]},
            )
        )
    devices.flush()
    wait_for(
        lambda: Recording.objects.filter(zone__code="int1", started_at__isnull=False).count() == 2,
        30,
        what="both recordings confirmed",
    )
    assert not CameraCommand.objects.filter(confirmed_at__isnull=True).exists()
    assert DeviceEvent.objects.count() == 3
    devices.close()
    cameras.close()


def test_a_bad_message_is_set_aside_and_does_not_block_the_queue(world, broker, ingest):
    ingest.prime()
    devices = Publisher(broker.url, "gateway")
    at = timezone.now() - timedelta(seconds=5)
    devices.send(
        f"casecenter/v1/{CENTER}/vitals/wb-01", b'{"seq": 1, "ts": "2026-01-01T00:00:00", "hr": 80}'
    )
    devices.send(f"casecenter/v1/{CENTER}/vital/wb-01", b'{"seq": 2}')
    devices.event(Event(CENTER, "presence", "wb-01", 4, at, {"zone": "nowhere", "event": "enter"}))
    devices.event(Event(CENTER, "presence", "wb-77", 1, at, {"zone": "int1", "event": "enter"}))
    devices.event(Event(CENTER, "vitals", "wb-01", 3, at, {"hr": 81}))
    devices.flush()
    ingest.start()
    wait_for(lambda: DeviceEvent.objects.filter(seq=3).exists(), 30, what="the good event")
    # the presence ones come through the presence lane, in its own time
    wait_for(lambda: RejectedMessage.objects.count() >= 4, 30, what="the dead letters")
    rejected = {r.code: r for r in RejectedMessage.objects.all()}
    assert set(rejected) == {"ts", "kind", "unknown_zone", "unknown_device"}
    assert rejected["ts"].device == "wb-01"
    assert "no UTC offset" in rejected["ts"].message
    assert rejected["unknown_zone"].topic == f"casecenter/v1/{CENTER}/presence/wb-01"
    assert '"nowhere"' in rejected["unknown_zone"].payload
    assert rejected["unknown_device"].device == "wb-77"
    assert not DeviceEvent.objects.filter(seq=4).exists()
    # the log says when, how bad and what, for each step of the ingester's life
    logged = ingest.log()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    for line in (
        r"INFO casecenter\.devices\.ingest: ingester starting: broker",
        r"INFO casecenter\.devices\.ingest: connected to",
        r"WARNING casecenter\.devices\.ingest: rejected .*vital/wb-01.*\(kind\)",
        r"WARNING casecenter\.devices\.ingest: rejected .*presence/wb-01.*\(unknown_zone\)",
    ):
        assert re.search(f"{stamp} {line}", logged), line
    assert world.stays[0].vitals.get().heart_rate == 81
    devices.close()


def test_a_room_entry_does_not_wait_for_a_batch_holding_its_wristband(world, broker, ingest):
    """The main lane's batch (a status report of the wristband) waits on the
    wristband's row, held here as a long transaction would; the wearer's entry goes
    through the presence lane meanwhile: its cameras are asked to record while the
    batch still waits."""
    import psycopg

    from tests.devices.conftest import child_env

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: a held lock stops every lane")
    cameras = Listener(broker.url, f"casecenter/v1/{CENTER}/command/+", "cameras")
    ingest.prime()
    ingest.start()
    ingest.wait_connected()
    url = child_env()["DATABASE_URL"].replace("postgres://", "postgresql://")
    with psycopg.connect(url) as holder:
        holder.execute("SELECT id FROM custody_device WHERE code = 'wb-01' FOR UPDATE")
        devices = Publisher(broker.url, "gateway")
        at = timezone.now() - timedelta(seconds=1)
        devices.event(Event(CENTER, "status", "wb-01", 1, at, {"battery": 80}))
        devices.event(Event(CENTER, "presence", "wb-01", 2, at, {"zone": "int1", "event": "enter"}))
        devices.flush()
        wait_for(lambda: len(cameras.messages) >= 2, 30, what="the entry's commands")
        assert not DeviceEvent.objects.filter(seq=1).exists()  # the batch still waits
        holder.rollback()
    wait_for(lambda: DeviceEvent.objects.filter(seq=1).exists(), 30, what="the status report")
    assert {parse_command(p)["action"] for _, _, p in cameras.messages} == {"record"}
    devices.close()
    cameras.close()
