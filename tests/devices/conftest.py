"""A small custody area (a center, its zones, cameras, wristbands, badges and open
stays) and a private Mosquitto broker per test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections import deque
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

CENTER = "hd-zx"
#: (code, kind, cameras): the zones of the test center
ZONES = [
    ("reg", "registration", 1),
    ("wait1", "waiting", 1),
    ("wait2", "waiting", 1),
    ("int1", "interrogation", 2),
    ("int2", "interrogation", 2),
    ("juv", "juvenile", 1),
    ("law1", "lawyer", 1),
    ("med", "medical", 1),
    ("hall", "corridor", 0),
]


def build_world(case, officers, *, stays: int = 1, badges: int = 2):
    """The center ``hd-zx`` with ZONES, cameras ``<zone>-c<n>``, ``stays`` wristbands
    ``wb-NN`` worn by suspects of ``case`` (open stays, entered four hours ago) and
    ``badges`` staff badges ``bd-NN``."""
    from django.utils import timezone

    from casecenter.accounts.models import Organisation, OrganisationKind
    from casecenter.cases.models import Party, PartyRole, Person
    from casecenter.custody.models import Camera, Device, Stay, Zone

    center = Organisation.objects.create(
        code=CENTER, kind=OrganisationKind.CASE_CENTER, name="海淀区执法办案管理中心"
    )
    zones, cameras = {}, {}
    for i, (code, kind, n) in enumerate(ZONES):
        zones[code] = Zone.objects.create(
            center=center, code=code, name=code, kind=kind, x=i * 10, y=0
        )
        for k in range(1, n + 1):
            camera = Camera.objects.create(zone=zones[code], code=f"{code}-c{k}")
            cameras[camera.code] = camera
    entered = timezone.now() - timedelta(hours=4)  # a walk of the idempotence test fits
    wristbands, stay_rows = [], []
    for i in range(1, stays + 1):
        band = Device.objects.create(center=center, code=f"wb-{i:02d}", kind="wristband")
        person = Person.objects.create(name=f"嫌疑人{i}", sex="M")
        party = Party.objects.create(case=case, person=person, role=PartyRole.SUSPECT)
        stay_rows.append(
            Stay.objects.create(
                center=center,
                case=case,
                party=party,
                wristband=band,
                entered_at=entered,
                registered_by=officers["lead"],
                searched_by=officers["lead"],
                identity_checked=True,
            )
        )
        wristbands.append(band)
    badge_rows = [
        Device.objects.create(
            center=center,
            code=f"bd-{i:02d}",
            kind="badge",
            user=officers["lead" if i % 2 else "partner"],
        )
        for i in range(1, badges + 1)
    ]
    return SimpleNamespace(
        center=center,
        zones=zones,
        cameras=cameras,
        wristbands=wristbands,
        stays=stay_rows,
        badges=badge_rows,
        entered=entered,
    )


@pytest.fixture
def world(make_case, officers):
    return build_world(make_case(), officers)


# --- a private Mosquitto ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """A Mosquitto of our own, on a free port, that keeps every queued QoS 1
    message of a persistent session (the system broker queues at most 1,000)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            "max_queued_messages 0\n"  # unlimited
            "max_inflight_messages 100\n"
            "log_dest stderr\n"
        )
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.folder / "mosquitto.log", "ab")  # noqa: SIM115 - the broker's
        self.proc = subprocess.Popen(
            [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(self.conf)],
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def broker(tmp_path):
    if not shutil.which("mosquitto") and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (./run test installs it)")
    b = Broker(tmp_path)
    b.start()
    yield b
    b.stop()


# --- the ingester as its own process ------------------------------------------------------


def child_env() -> dict[str, str]:
    """The environment of a ``casecenter`` child process that works on the test database."""
    from django.db import connection

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "casecenter.settings"}
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(settings["NAME"])
        if "memory" in name or not name:
            pytest.skip("set CASECENTER_TEST_SQLITE: a child process needs a database file")
        env["DATABASE_URL"] = f"sqlite:///{name}"
    else:
        user, host, port = settings["USER"], settings["HOST"], settings["PORT"]
        password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
        env["DATABASE_URL"] = f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"
    return env


class Ingest:
    """``casecenter ingest`` in a child process (started, killed, started again)."""

    def __init__(
        self, url: str, client_id: str, folder: Path, *extra: str, share: str = ""
    ) -> None:
        self.args = [
            sys.executable,
            "-m",
            "casecenter.cli",
            "ingest",
            "--url",
            url,
            "--client-id",
            client_id,
            "-v",
            "2",
            *(["--share", share] if share else []),
            *extra,
        ]
        self.share = share
        self.folder = folder
        self.url, self.client_id = url, client_id
        self.proc: subprocess.Popen | None = None
        self.runs = 0

    def prime(self) -> None:
        """Make the ingester's sessions (its lanes' subscriptions) on the broker, as a
        first run would: from then on the broker queues every event for them."""
        import threading

        from paho.mqtt.subscribeoptions import SubscribeOptions

        from casecenter.devices import broker
        from casecenter.devices.ingest import sessions

        for client_id, topics in sessions(self.client_id, self.share):
            client, where = broker.make_client(self.url, client_id)
            done = threading.Event()
            client.on_connect = lambda c, *_, topics=topics: c.subscribe(
                topics, options=SubscribeOptions(qos=1, noLocal=not self.share)
            )
            client.on_subscribe = lambda *_, done=done: done.set()
            broker.connect(client, where, persistent=True)
            if not done.wait(10):
                raise AssertionError("could not make the ingester's session")
            client.disconnect()
            client.loop_stop()

    def start(self) -> None:
        self.runs += 1
        log = open(self.folder / f"{self.client_id}-{self.runs}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.args, env=child_env(), stdout=log, stderr=subprocess.STDOUT
        )

    def wait_connected(self, timeout: float = 30) -> None:
        """Until this run of the ingester says it is connected and subscribed."""
        log = self.folder / f"{self.client_id}-{self.runs}.log"
        wait_for(
            lambda: "connected to" in log.read_text(errors="replace"),
            timeout,
            what="the ingester to connect",
        )

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None

    def log(self) -> str:
        return "\n".join(
            (self.folder / f"{self.client_id}-{i}.log").read_text(errors="replace")[-3000:]
            for i in range(1, self.runs + 1)
        )


@pytest.fixture
def ingest(broker, tmp_path, request):
    name = "".join(c if c.isalnum() else "-" for c in request.node.name)
    runner = Ingest(broker.url, f"test-ingest-{os.getpid()}-{name}"[:60], tmp_path)
    yield runner
    runner.stop()


def wait_for(predicate, timeout: float, every: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


# --- a device (or many) publishing ------------------------------------------------------


class Publisher:
    """An MQTT client that publishes at QoS 1 and can wait until the broker has
    every message (PUBACK), reconnecting as a device would."""

    WINDOW = 20_000

    def __init__(self, url: str, client_id: str) -> None:
        from casecenter.devices import broker

        self.client, self.broker = broker.make_client(url, client_id)
        self.client.max_inflight_messages_set(200)
        self.pending: deque = deque()
        broker.connect(self.client, self.broker, persistent=True)
        deadline = time.monotonic() + 10
        while not self.client.is_connected():
            assert time.monotonic() < deadline, "the publisher could not connect"
            time.sleep(0.01)

    def send(self, topic: str, payload: bytes) -> None:
        # paho keys the messages it holds by packet id (1-65535): more than that
        # many unacknowledged at once would overwrite each other, so wait first
        while len(self.pending) >= self.WINDOW:
            if self.pending[0]._published:
                self.pending.popleft()
            else:
                time.sleep(0.001)
        self.pending.append(self.client.publish(topic, payload, qos=1))

    def event(self, event) -> None:
        from casecenter.devices import protocol

        self.send(
            protocol.topic_for(event.center, event.kind, event.device), protocol.encode(event)
        )

    def flush(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for info in self.pending:
            # not is_published(): it raises for a message queued while disconnected,
            # which paho sends after reconnecting
            while not info._published:
                if time.monotonic() > deadline:
                    raise AssertionError("the broker did not take every message in time")
                time.sleep(0.01)
        self.pending.clear()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Listener:
    """Subscribes (QoS 1) and keeps what arrives: the commands a camera would get."""

    def __init__(self, url: str, topic: str, client_id: str) -> None:
        import threading

        from casecenter.devices import broker

        self.messages: list[tuple[float, str, bytes]] = []
        self.ready = threading.Event()
        self.client, self.broker = broker.make_client(url, client_id)

        def on_connect(client, userdata, flags, reason_code, properties):
            client.subscribe(topic, qos=1)

        def on_subscribe(client, userdata, mid, reason_codes, properties):
            self.ready.set()

        def on_message(client, userdata, msg):
            self.messages.append((time.monotonic(), msg.topic, msg.payload))

        self.client.on_connect = on_connect
        self.client.on_subscribe = on_subscribe
        self.client.on_message = on_message
        broker.connect(self.client, self.broker, persistent=False)
        if not self.ready.wait(10):
            raise AssertionError("could not subscribe")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
