"""A casecenter cluster on one machine, for the multinode test: its processes and clients.

``cluster`` gives a PostgreSQL database of its own
(``casecenter_multinode_<pid>``, created here and dropped at the end; the test
has ``tests.multinode.world`` migrate it and make the center), a private
Mosquitto, a NATS stream and subject prefix of its own, and the environment
every node starts with: the same secret key, field keys and index key (what a
deployment hands each of its machines; each node still has a data folder of its
own), the device share group, the event bus. Nodes are
``casecenter`` commands in sessions of their own, killed with SIGKILL (the
whole process group: ``serve``'s uvicorn worker with its parent) or stopped
with SIGTERM; every one still running is killed in ``finally``.

The clients are what the people and devices of the day would be: ``Api`` (an
officer's program with a bearer token, moving to the other web node when one
refuses connections), ``AlertStream`` (a browser's EventSource on ``/events/``
after a password login, resuming with ``Last-Event-ID`` on the other node),
``Cameras`` (confirming every command they get).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings

from tests.devices.conftest import Broker
from tests.outbox.conftest import NATS_URL, nats_reachable

ROOT = Path(__file__).resolve().parents[2]
CASECENTER = Path(sys.executable).with_name("casecenter")
START_TIMEOUT = 120  # seconds: a node imports Django on a machine running its siblings


def _pg_conninfo(dbname: str) -> str:
    db = settings.DATABASES["default"]
    user = urllib.parse.quote(db.get("USER") or "", safe="")
    password = urllib.parse.quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{dbname}"


def _admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(_pg_conninfo("postgres"), autocommit=True) as conn:
        conn.execute(statement)


class Node:
    """One ``casecenter`` process (``serve``, ``worker``, ``ingest``) of the cluster."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], folder: Path) -> None:
        self.name, self.args, self.env, self.folder = name, args, env, folder
        self.runs = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.folder / f"{self.name}-{self.runs}.log"

    def start(self) -> Node:
        self.runs += 1
        command = (
            [str(CASECENTER)] if CASECENTER.exists() else [sys.executable, "-m", "casecenter.cli"]
        )
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [*command, *self.args],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed whole
            )
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the node's whole process group: nothing of it runs a line more
        (a group outlives its leader while a member lives, so its id is not reused)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, and its exit status (killed after ``timeout``)."""
        if not self.alive:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def output(self) -> str:
        return "\n".join(
            (self.folder / f"{self.name}-{run}.log").read_text(errors="replace")[-4000:]
            for run in range(1, self.runs + 1)
        )


@dataclass
class Cluster:
    folder: Path
    database: str
    env: dict[str, str]
    broker: Broker
    stream: str
    prefix: str
    nodes: list[Node] = field(default_factory=list)

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    def node(self, name: str, *args: str) -> Node:
        """A node with a data folder of its own (not started)."""
        data = self.folder / name
        data.mkdir(exist_ok=True)
        static = self.folder / "static"
        if not (data / "static").exists():
            (data / "static").symlink_to(static)  # collected once for every web node
        node = Node(name, list(args), {**self.env, "CASECENTER_DATA_DIR": str(data)}, self.folder)
        self.nodes.append(node)
        return node

    def run(
        self, *args: str, data_dir: Path | None = None, timeout: float = 120, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """A one-off ``casecenter`` command (an operator's), its output captured."""
        command = (
            [str(CASECENTER)] if CASECENTER.exists() else [sys.executable, "-m", "casecenter.cli"]
        )
        data = data_dir or self.folder / "operator"
        data.mkdir(exist_ok=True)
        return subprocess.run(
            [*command, *args],
            env={**self.env, "CASECENTER_DATA_DIR": str(data), **env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def query(self, sql: str, *params: object) -> list[tuple]:
        """Rows of the cluster's database (the checks read it as an auditor would)."""
        import psycopg

        with psycopg.connect(self.database_url) as conn:
            return conn.execute(sql, params or None).fetchall()

    def value(self, sql: str, *params: object) -> object:
        return self.query(sql, *params)[0][0]

    def logs(self) -> str:
        return "\n".join(f"--- {n.name}\n{n.output()}" for n in self.nodes)


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def cluster(tmp_path) -> Iterator[Cluster]:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the multinode test runs on PostgreSQL (several writers, SKIP LOCKED)")
    if not nats_reachable():
        pytest.skip(f"no NATS server at {NATS_URL} (./run test starts one)")
    if not shutil.which("mosquitto") and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (./run test installs it)")
    database = f"casecenter_multinode_{os.getpid()}"
    tag = uuid.uuid4().hex[:10]
    broker = Broker(tmp_path)
    env = {
        k: v
        for k, v in os.environ.items()
        # the nodes run as in production: no test-only switches, no test database
        if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "CASECENTER_TEST_SQLITE", "PYTEST_XDIST_WORKER"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="casecenter.settings",
        PYTHONUNBUFFERED="1",
        DATABASE_URL=_pg_conninfo(database),
        # one deployment: the same keys on every machine
        SECRET_KEY=secrets.token_urlsafe(50),
        CASECENTER_FIELD_KEYS=f"mn1:{_key()}",
        CASECENTER_INDEX_KEY=_key(),
        CASECENTER_MQTT_URL=broker.url,
        CASECENTER_MQTT_SHARE_GROUP=f"mn{tag}",
        CASECENTER_NATS_URL=NATS_URL,
        CASECENTER_NATS_STREAM=f"CCMN_{tag}",
        CASECENTER_NATS_SUBJECT_PREFIX=f"ccmn{tag}.site",
        CASECENTER_NATS_DUPLICATE_WINDOW_SECONDS="600",
        # a zone entry delayed by a killed ingester is not a recording failure here
        CASECENTER_RECORDING_GRACE_SECONDS="600",
    )
    cluster = Cluster(
        tmp_path,
        database,
        env,
        broker,
        env["CASECENTER_NATS_STREAM"],
        env["CASECENTER_NATS_SUBJECT_PREFIX"],
    )
    _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{database}"')
    # commits need not wait for the disk: nothing here crashes PostgreSQL
    _admin(f'ALTER DATABASE "{database}" SET synchronous_commit = off')
    try:
        broker.start()
        yield cluster
    finally:
        for node in cluster.nodes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                node.kill()
        broker.stop()
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        import asyncio

        from tests.outbox.conftest import _delete_stream

        asyncio.run(_delete_stream(cluster.stream))


def wait_until(predicate, timeout: float, what: str, every: float = 0.2):
    """``predicate()``'s first true value, waited for up to ``timeout`` seconds (a
    failure bound, not a measure)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}; last: {value!r}")
        time.sleep(every)


def wait_serving(node: Node, port: int, timeout: float = START_TIMEOUT) -> None:
    def health() -> bool:
        assert node.alive, node.output()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/health")
            return conn.getresponse().status == 200
        except OSError:
            return False

    wait_until(health, timeout, f"{node.name} to answer on port {port}")


# --- an officer's program: the JSON API with a bearer token ----------------------------


class ApiError(AssertionError):
    pass


class Api:
    """Calls the API of whichever web node is up, taking turns between them.

    A node that refuses the connection is dropped and the call goes to the
    next: what a load balancer does for a client. (The driver kills a node only
    between calls, so no call is left with an unknown outcome.)"""

    def __init__(self, ports: list[int]) -> None:
        self.ports = list(ports)
        self.turn = 0
        self.tokens: dict[str, str] = {}
        self.calls: dict[int, int] = {p: 0 for p in ports}

    def _send(self, method: str, path: str, body: dict | None, headers: dict) -> tuple[int, object]:
        while self.ports:
            port = self.ports[self.turn % len(self.ports)]
            self.turn += 1
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                data = json.dumps(body).encode() if body is not None else None
                conn.request(
                    method,
                    path,
                    body=data,
                    headers={"Content-Type": "application/json", **headers},
                )
                response = conn.getresponse()
                raw = response.read()
            except ConnectionRefusedError:
                self.ports.remove(port)  # that node is down: the others take its calls
                continue
            finally:
                conn.close()
            self.calls[port] += 1
            return response.status, json.loads(raw) if raw else None
        raise ApiError("no web node answers")

    def login(self, username: str, password: str) -> None:
        status, body = self._send(
            "POST", "/api/auth/token", {"username": username, "password": password}, {}
        )
        if status != 201:
            raise ApiError(f"token for {username}: {status} {body}")
        self.tokens[username] = body["token"]

    def call(self, user: str, method: str, path: str, body: dict | None = None) -> object:
        status, answer = self._send(
            method, path, body, {"Authorization": f"Bearer {self.tokens[user]}"}
        )
        if not 200 <= status < 300:
            raise ApiError(f"{user} {method} {path}: {status} {answer}")
        return answer


def session_cookie(port: int, username: str, password: str) -> str:
    """The session cookie of a password login on the login page, as a browser gets it."""
    base = f"http://127.0.0.1:{port}"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{base}/login/", timeout=60).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]
    body = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    opener.open(urllib.request.Request(f"{base}/login/", data=body, headers={"Referer": base}))
    cookies = {c.name: c.value for c in jar}
    assert settings.SESSION_COOKIE_NAME in cookies, f"{username} could not log in"
    return f"{settings.SESSION_COOKIE_NAME}={cookies[settings.SESSION_COOKIE_NAME]}"


# --- a browser's alert stream ---------------------------------------------------------


class AlertStream(threading.Thread):
    """A page's EventSource on ``/events/``: reads ``event: alert`` frames; when its
    node goes away it connects to the next one with ``Last-Event-ID`` (the last
    ``id:`` it got), as a browser behind a load balancer does."""

    def __init__(self, user: str, cookie: str, ports: list[int]) -> None:
        super().__init__(daemon=True, name=f"alerts-{user}")
        self.user, self.cookie, self.ports = user, cookie, list(ports)
        self.received: list[int] = []  # alert ids, in arrival order
        self.via: list[int] = []  # the port each came from
        self.connections: list[tuple[int, str | None]] = []  # (port, Last-Event-ID sent)
        self.last_id: str | None = None
        self.open = threading.Event()
        self._halt = threading.Event()
        self._conn: http.client.HTTPConnection | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        turn = 0
        try:
            while not self._halt.is_set():
                port = self.ports[turn % len(self.ports)]
                # the node went away (or never answered): the next one
                with contextlib.suppress(OSError, http.client.HTTPException):
                    self._read(port)
                turn += 1
                self._halt.wait(0.2)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def _read(self, port: int) -> None:
        headers = {"Cookie": self.cookie, "Accept": "text/event-stream"}
        if self.last_id is not None:
            headers["Last-Event-ID"] = self.last_id
        self._conn = conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/events/", headers=headers)
        response = conn.getresponse()
        assert response.status == 200, f"{self.user} on {port}: {response.status}"
        self.connections.append((port, self.last_id))
        event, data, event_id = "", "", None
        while not self._halt.is_set():
            line = response.readline()
            if not line:
                return  # the stream ended (its node died or drained)
            text = line.decode().rstrip("\n")
            if text.startswith("event: "):
                event = text[7:]
            elif text.startswith("data: "):
                data = text[6:]
            elif text.startswith("id: "):
                event_id = text[4:]
            elif text == "":
                if event == "alert":
                    self.received.append(json.loads(data)["id"])
                    self.via.append(port)
                if event_id is not None:
                    self.last_id = event_id
                if event == "count":
                    self.open.set()
                event, data, event_id = "", "", None

    def stop(self) -> None:
        self._halt.set()
        conn = self._conn
        if conn is not None and conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(2)
        self.join(timeout=10)


# --- the cameras ------------------------------------------------------------------------


class Cameras:
    """Every camera of the center: confirms each command it gets with a status event
    (recording as asked), from its own device id with its own sequence."""

    def __init__(self, url: str, center: str) -> None:
        from casecenter.devices import broker, protocol

        self.center = center
        self.lock = threading.Lock()
        self.seq: dict[str, int] = {}
        self.sent: list[tuple[str, int]] = []  # (camera, seq) of every status published
        self.infos: list = []
        self.commands = 0
        self.ready = threading.Event()
        self.client, where = broker.make_client(url, f"cameras-{uuid.uuid4().hex[:8]}")
        topic = protocol.topic_for(center, protocol.COMMAND, "+")
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self.ready.set()
        self.client.on_message = self._on_command
        broker.connect(self.client, where, persistent=False)
        if not self.ready.wait(10):
            raise AssertionError("the cameras could not subscribe")

    def _on_command(self, client, userdata, msg) -> None:
        from casecenter.custody.tracking import Event
        from casecenter.devices import protocol

        command = protocol.parse_command(msg.payload)
        camera = msg.topic.rsplit("/", 1)[1]
        recording = command["action"] == "record"
        with self.lock:
            self.commands += 1
            seq = self.seq[camera] = self.seq.get(camera, 0) + 1
            event = Event(
                self.center,
                "status",
                camera,
                seq,
                datetime.now(UTC),
                {
                    "recording": recording,
                    "audio": recording and command["audio"],
                    "command": command["id"],
                },
            )
            self.infos.append(
                client.publish(
                    protocol.topic_for(self.center, "status", camera), protocol.encode(event), qos=1
                )
            )
            self.sent.append((camera, seq))

    def published(self) -> list[tuple[str, int]]:
        """Every status the broker took (PUBACK), waited for."""
        wait_until(
            lambda: all(info._published for info in list(self.infos)), 30, "the cameras' PUBACKs"
        )
        with self.lock:
            return list(self.sent)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
