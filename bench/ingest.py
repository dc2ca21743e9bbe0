"""Device ingestion from Mosquitto: events per second against a bare subscriber, and
zone-entry → camera-command latency at 1,000 events per second, as JSON.

    .venv/bin/python bench/ingest.py [--db sqlite|postgres|both] [--events 30000]
        [--rate 1000] [--seconds 30] [--vitals-share 0.5] [--batch 500] [--linger-ms 50]

Issue 5, item 10. Each database is a fresh, throw-away one (a SQLite file in a
temporary folder, or the PostgreSQL database ``casecenter_bench_ingest``),
migrated and given a center with 20 rooms (two cameras each) and 100 people in
custody wearing wristbands, in a child process. A private Mosquitto (a free
port; ``max_queued_messages 0``, ``max_inflight_messages 1000``) serves both
parts; nothing here touches the demo's database or the system broker.

1. ``throughput``: the ingester's two sessions (``casecenter ingest``, a
   child process, ``--batch``/``--linger-ms``: its main lane's and its presence
   lane's) and a bare paho subscriber's session (every event topic, QoS 1,
   acknowledging at once, only counting) are made;
   then one publisher puts ``--events`` events on the broker (vitals and status
   reports of the 100 wristbands, ``--vitals-share`` of them vitals, and room
   entries and exits) while both are away, and both are started together to
   drain the same backlog. The ingester's rate is events over the span of its
   commits (the first to the last ``received_at``: a database commit per
   batch, acknowledged after commit; both lanes); the bare subscriber's is
   events over the span of its receipts. ``ratio`` = ingester / bare.
2. ``latency``: the ingester running, cameras that confirm every command at
   once, and a publisher pacing ``--rate`` events a second for ``--seconds``:
   vitals and status reports, and every 100 ms someone entering one of the 20
   rooms (and leaving it a second later). Latency is from publishing an entry
   to receiving the first record command for that room's cameras, both on this
   process's clock: the presence lane's path (docs/device-protocol.md), beside
   the main lane's batches of readings. ``saturated`` says the ingester could not keep up (its
   backlog grew), so the latencies are queueing, not processing.

Absolute numbers depend on the machine and on what else runs on it (load
average reported); the ratio is the figure to watch.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from datetime import datetime, timedelta
from pathlib import Path

from common import ROOT, free_port, pg_admin, pg_url, reset_postgres

sys.path.insert(0, str(ROOT / "src"))
PG_NAME = "casecenter_bench_ingest"
CENTER = "bench-zx"
ROOMS, CAMERAS, WEARERS = 20, 2, 100
PREFIX = "casecenter/v1"
WEARERS_ONLY = " WHERE device LIKE 'WB-%'"  # not the cameras' answers


# --- the child: a database with a world ------------------------------------------------


def child_setup() -> None:
    """In the child process: migrate and make the center, its rooms and people."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from casecenter.accounts.models import Organisation, OrganisationKind, Role, User
    from casecenter.cases.models import Party, PartyRole, Person
    from casecenter.cases.services import accept_case
    from casecenter.custody.models import Camera, Device, Stay, Zone

    station = Organisation.objects.create(
        code="bench-pcs", kind=OrganisationKind.POLICE_STATION, name="派出所"
    )
    center = Organisation.objects.create(
        code=CENTER, kind=OrganisationKind.CASE_CENTER, name="执法办案管理中心"
    )
    officer = User.objects.create(
        username="bench-officer", organisation=station, role=Role.CASE_OFFICER
    )
    case = accept_case(officer, kind="criminal", category="theft", title="bench")
    for r in range(ROOMS):
        zone = Zone.objects.create(
            center=center, code=f"R{r:02d}", name=f"候问室{r}", kind="waiting"
        )
        for c in range(CAMERAS):
            Camera.objects.create(zone=zone, code=f"CAM-R{r:02d}-{c}")
    entered = timezone.now() - timedelta(hours=1)
    for w in range(WEARERS):
        band = Device.objects.create(center=center, code=f"WB-{w:03d}", kind="wristband")
        person = Person.objects.create(name=f"在押人员{w}")
        party = Party.objects.create(case=case, person=person, role=PartyRole.SUSPECT)
        Stay.objects.create(
            center=center,
            case=case,
            party=party,
            wristband=band,
            entered_at=entered,
            registered_by=officer,
            searched_by=officer,
            identity_checked=True,
        )


# --- the broker, the database, the ingester ----------------------------------------------


class Broker:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        conf = folder / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "max_queued_messages 0\nmax_inflight_messages 1000\nlog_dest none\n"
        )
        self.proc = subprocess.Popen(
            [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)]
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Database:
    """The throw-away database, read with the plain driver (no Django here)."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        if kind == "postgres":
            reset_postgres(PG_NAME)
            self.url = pg_url(PG_NAME)
        else:
            self.path = folder / "bench.sqlite3"
            self.url = f"sqlite:///{self.path}"
        self.env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "CASECENTER_DATA_DIR": str(folder),
            "DJANGO_SETTINGS_MODULE": "casecenter.settings",
        }

    def query(self, sql: str) -> tuple:
        if self.kind == "postgres":
            import psycopg

            with psycopg.connect(self.url) as conn:
                return conn.execute(sql).fetchone()
        with sqlite3.connect(self.path, timeout=30) as conn:
            return conn.execute(sql).fetchone()

    def drop(self) -> None:
        if self.kind == "postgres":
            pg_admin(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")


def start_ingester(db: Database, broker: Broker, folder: Path, args) -> subprocess.Popen:
    log = open(folder / "ingest.log", "ab")  # noqa: SIM115 - the child's
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "casecenter.cli",
            "ingest",
            "--url",
            broker.url,
            "--client-id",
            "bench-ingest",
            "--batch",
            str(args.batch),
            "--linger-ms",
            str(args.linger_ms),
            "-v",
            "2",
        ],
        env=db.env,
        stdout=log,
        stderr=log,
    )


def wait_connected(folder: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "connected to" in (folder / "ingest.log").read_text(errors="replace"):
            return
        time.sleep(0.05)
    raise RuntimeError(
        "the ingester did not connect: " + (folder / "ingest.log").read_text()[-2000:]
    )


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


# --- MQTT clients -------------------------------------------------------------------------


def session(url: str, client_id: str, counter=None, topics: str = f"{PREFIX}/+/+/+"):
    """Make (or resume) a persistent session subscribed to ``topics`` (every event
    topic); ``counter`` (a list) gets a receipt time per message when given."""
    from paho.mqtt.subscribeoptions import SubscribeOptions

    from casecenter.devices import broker as mqtt_broker

    c, where = mqtt_broker.make_client(url, client_id)
    done = threading.Event()
    c.on_connect = lambda cl, *_: cl.subscribe(
        topics, options=SubscribeOptions(qos=1, noLocal=True)
    )
    c.on_subscribe = lambda *_: done.set()
    if counter is not None:  # events only: the ingester's camera commands come back too

        def count(cl, userdata, msg):
            if "/command/" not in msg.topic:
                counter.append(time.monotonic())

        c.on_message = count
    mqtt_broker.connect(c, where, persistent=True, receive_maximum=1000)
    if not done.wait(10):
        raise RuntimeError("could not subscribe")
    return c


class Publisher:
    WINDOW = 20_000  # paho keys unacknowledged messages by packet id (1-65535)

    def __init__(self, url: str) -> None:
        from casecenter.devices import broker as mqtt_broker

        self.c, where = mqtt_broker.make_client(url, f"bench-publisher-{os.getpid()}")
        self.c.max_inflight_messages_set(1000)
        mqtt_broker.connect(self.c, where, persistent=False)
        while not self.c.is_connected():
            time.sleep(0.01)
        self.pending: deque = deque()

    def send(self, kind: str, device: str, body: dict) -> None:
        while len(self.pending) >= self.WINDOW:
            if self.pending[0]._published:
                self.pending.popleft()
            else:
                time.sleep(0.001)
        self.pending.append(
            self.c.publish(f"{PREFIX}/{CENTER}/{kind}/{device}", json.dumps(body), qos=1)
        )

    def flush(self) -> None:
        while self.pending:
            if self.pending[0]._published:
                self.pending.popleft()
            else:
                time.sleep(0.005)

    def close(self) -> None:
        self.flush()
        self.c.disconnect()
        self.c.loop_stop()


class Events:
    """Numbered events of the world's wristbands, with clock-based sequence numbers."""

    def __init__(self, vitals_share: float, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.vitals_share = vitals_share
        self.seq = int(time.time() * 1000)
        self.where: dict[int, int | None] = dict.fromkeys(range(WEARERS))

    def ts(self) -> str:
        return datetime.now().astimezone().isoformat()

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def reading(self) -> tuple[str, str, dict]:
        w = self.rng.randrange(WEARERS)
        body = {"seq": self.next_seq(), "ts": self.ts()}
        if self.rng.random() < self.vitals_share:
            r = self.rng
            body |= {
                "hr": r.randint(60, 100),
                "bp": [r.randint(110, 135), r.randint(70, 85)],
                "spo2": r.randint(95, 99),
            }
            return "vitals", f"WB-{w:03d}", body
        return (
            "status",
            f"WB-{w:03d}",
            body | {"battery": self.rng.randint(40, 100), "strap": "closed"},
        )

    def presence(self, w: int, room: int, event: str) -> tuple[str, str, dict]:
        body = {"seq": self.next_seq(), "ts": self.ts(), "zone": f"R{room:02d}", "event": event}
        return "presence", f"WB-{w:03d}", body


# --- the two measurements --------------------------------------------------------------------


def throughput(db: Database, broker: Broker, folder: Path, args) -> dict:
    bare_times: list[float] = []
    # the sessions, as a first run makes them: the ingester's two lanes
    # (casecenter.devices.ingest.sessions) and the bare subscriber's
    for name, topics in [
        ("bench-ingest", f"{PREFIX}/+/+/+"),
        ("bench-ingest-presence", f"{PREFIX}/+/presence/+"),
        ("bench-bare", f"{PREFIX}/+/+/+"),
    ]:
        made = session(broker.url, name, topics=topics)
        made.disconnect()
        made.loop_stop()
    events = Events(args.vitals_share)
    pub = Publisher(broker.url)
    kinds: dict[str, int] = {}
    for i in range(args.events):
        if i % 50 == 0:  # someone moves: 2 % presence
            w = events.rng.randrange(ROOMS)
            room = events.where[w]
            kind, device, body = events.presence(
                w, room if room is not None else w, "leave" if room is not None else "enter"
            )
            events.where[w] = None if room is not None else w
        else:
            kind, device, body = events.reading()
        kinds[kind] = kinds.get(kind, 0) + 1
        pub.send(kind, device, body)
    pub.close()
    # both drain the same backlog, started together
    ingester = start_ingester(db, broker, folder, args)
    bare = session(broker.url, "bench-bare", bare_times)
    deadline = time.monotonic() + 1200
    while time.monotonic() < deadline:
        if db.query("SELECT count(*) FROM custody_deviceevent")[0] >= args.events:
            break
        time.sleep(0.25)
    else:
        raise RuntimeError("the ingester did not finish")
    while len(bare_times) < args.events and time.monotonic() < deadline:
        time.sleep(0.05)
    bare.disconnect()
    bare.loop_stop()
    first, last = db.query("SELECT min(received_at), max(received_at) FROM custody_deviceevent")
    first, last = _time(first), _time(last)
    commits = db.query("SELECT count(DISTINCT received_at) FROM custody_deviceevent")[0]
    ingest_rate = args.events / max((last - first).total_seconds(), 1e-6)
    bare_rate = len(bare_times) / max(bare_times[args.events - 1] - bare_times[0], 1e-6)
    return {
        "events": args.events,
        "mix": kinds,
        "ingest_per_s": round(ingest_rate),
        "bare_subscriber_per_s": round(bare_rate),
        "ratio": round(ingest_rate / bare_rate, 4),
        "batches": commits,
        "mean_batch": round(args.events / commits, 1),
        "_ingester": ingester,
    }


def _time(value) -> datetime:
    if isinstance(value, str):  # SQLite
        return datetime.fromisoformat(value)
    return value


def latency(db: Database, broker: Broker, args) -> dict:
    """Entries paced among readings at ``--rate``; the cameras answer at once."""
    from casecenter.devices import broker as mqtt_broker

    received: list[tuple[float, str, str, str]] = []  # (t, camera, action, id)
    cameras, where = mqtt_broker.make_client(broker.url, "bench-cameras")
    ready = threading.Event()
    seq = [int(time.time() * 1000)]

    def on_message(cl, userdata, msg):
        now = time.monotonic()
        command = json.loads(msg.payload)
        camera = msg.topic.rsplit("/", 1)[1]
        received.append((now, camera, command["action"], command["id"]))
        seq[0] += 1
        cl.publish(
            f"{PREFIX}/{CENTER}/status/{camera}",
            json.dumps(
                {
                    "seq": seq[0],
                    "ts": datetime.now().astimezone().isoformat(),
                    "recording": command["action"] == "record",
                    "audio": command["audio"],
                    "command": command["id"],
                }
            ),
            qos=1,
        )

    cameras.on_connect = lambda cl, *_: cl.subscribe(f"{PREFIX}/{CENTER}/command/+", qos=1)
    cameras.on_subscribe = lambda *_: ready.set()
    cameras.on_message = on_message
    mqtt_broker.connect(cameras, where, persistent=False)
    ready.wait(10)
    events = Events(args.vitals_share, seed=2)
    pub = Publisher(broker.url)
    for room in range(ROOMS):  # everyone out of the rooms the first part left them in
        pub.send(*events.presence(room, room, "leave"))
    pub.flush()
    time.sleep(5)  # applied, the cameras stopped, and what the first part left open resent
    received.clear()

    base = db.query(f"SELECT count(*) FROM custody_deviceevent{WEARERS_ONLY}")[0]
    enters: list[tuple[float, int]] = []
    total = int(args.rate * args.seconds)
    start = time.monotonic()
    rooms_in = {}
    backlog = []
    for i in range(total):
        due = start + i / args.rate
        while (now := time.monotonic()) < due:
            time.sleep(min(due - now, 0.002))
        slot = i % (args.rate // 10)  # every 100 ms: one entry, one exit
        if slot == 0:
            room = (i // (args.rate // 10)) % ROOMS
            w = room  # wearer `room` uses room `room`: it is empty when entered
            pub.send(*events.presence(w, room, "enter"))
            enters.append((time.monotonic(), room))
            rooms_in[room] = time.monotonic()
        elif slot == args.rate // 20:
            room = ((i // (args.rate // 10)) - 10) % ROOMS  # left a second after entering
            if room in rooms_in:
                pub.send(*events.presence(room, room, "leave"))
        else:
            pub.send(*events.reading())
        if i % args.rate == 0 and i:
            done = db.query(f"SELECT count(*) FROM custody_deviceevent{WEARERS_ONLY}")[0] - base
            backlog.append(i - done)
    pub.flush()
    sent_at = time.monotonic()
    time.sleep(2)
    ingested = db.query(f"SELECT count(*) FROM custody_deviceevent{WEARERS_ONLY}")[0] - base
    cameras.disconnect()
    cameras.loop_stop()
    pub.close()
    lat = []
    for t, room in enters:
        firsts = [
            r
            for r in received
            if r[0] >= t and r[2] == "record" and r[1].startswith(f"CAM-R{room:02d}-")
        ]
        if firsts:
            lat.append((firsts[0][0] - t) * 1000)
    lat.sort()
    published_rate = total / (sent_at - start)
    return {
        "rate_asked": args.rate,
        "rate_published": round(published_rate),
        "seconds": args.seconds,
        "vitals_share": args.vitals_share,
        "entries": len(enters),
        "commands_seen": len(lat),
        "p50_ms": round(statistics.median(lat), 1) if lat else None,
        "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 1) if lat else None,
        "max_ms": round(lat[-1], 1) if lat else None,
        "ingested_within_2s_of_the_end": ingested,
        "backlog_each_second": backlog,
        "saturated": bool(backlog) and backlog[-1] > 2 * args.rate,
    }


def run(kind: str, args) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"cc-bench-ingest-{kind}-"))
    db = Database(kind, folder)
    broker = Broker(folder)
    ingester = None
    try:
        t0 = time.monotonic()
        subprocess.run([sys.executable, __file__, "--child"], env=db.env, check=True)
        setup_s = time.monotonic() - t0
        result = throughput(db, broker, folder, args)
        ingester = result.pop("_ingester")
        wait_connected(folder)
        result = {
            "throughput": result,
            "latency": latency(db, broker, args),
            "setup_s": round(setup_s, 1),
        }
        return result
    finally:
        if ingester is not None:
            stop(ingester)
        broker.stop()
        db.drop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--vitals-share", type=float, default=0.5)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--linger-ms", type=int, default=50)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_setup()
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casecenter.settings")
    out = {
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()},
        "settings": {
            "batch": args.batch,
            "linger_ms": args.linger_ms,
            "broker": "mosquitto, max_inflight_messages 1000, max_queued_messages 0",
        },
    }
    for kind in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        out[kind] = run(kind, args)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
