"""Two of everything on one PostgreSQL, one of each killed mid-day: nothing lost,
nothing twice, every alert pushed, the audit log whole.

Two web nodes (``casecenter serve``), two workers (the supervision clocks, the
outbox relay to NATS JetStream, the audit sequencer in a thread of each), two
ingesters sharing the devices' messages (MQTT 5 shared subscription on a
private Mosquitto), all on a database of their own. A scripted day runs
through them: officers accept cases, name the assisting officer, add the
suspect, summon them (the summons started nearly 12 hours ago, so its clock
comes due within the test) and register their arrival with a wristband, through
the API of both web nodes in turn; the wristbands report zone entries (the
cameras are commanded and confirm), vital signs (one reading too high each)
and a strap opened; officers end a summons and file a case. Three browsers
(the case officer, the custody desk, the medical desk) logged in with their
passwords hold the alert stream open. Mid-day one web node, one worker and one
ingester are killed with SIGKILL; the clients move to the surviving web node
(the streams resume with ``Last-Event-ID``) and the day goes on. The killed
ingester is restarted later, as its supervisor would: with Mosquitto a shared
subscriber's session keeps its share of the messages until it comes back.

Then: every device event published is stored exactly once and applied once;
every person is where their last entry says and every camera command was
confirmed; every clock that came due has exactly one breach alert and every
reading and strap exactly one alert; each browser received every alert its
user may see, once; every outbox event reached JetStream, each once after
de-duplication by its id; ``casecenter audit verify`` passes with every entry
sequenced. Every wait is a failure bound; nothing is timed.
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import valid_id
from tests.devices.conftest import Publisher, free_port
from tests.multinode.conftest import (
    ROOT,
    AlertStream,
    Api,
    Cameras,
    Cluster,
    session_cookie,
    wait_serving,
    wait_until,
)
from tests.multinode.world import CENTER, PASSWORD, WRISTBANDS
from tests.outbox.conftest import _read_all, _stream_info

pytestmark = pytest.mark.multinode

NORMAL = {"hr": 78, "bp": [118, 76], "spo2": 98}
HIGH = {"hr": 150, "bp": [118, 76], "spo2": 98}  # above the heart-rate limit (120)


class Devices:
    """The wristbands, publishing through one gateway; every (device, seq) kept."""

    def __init__(self, url: str) -> None:
        from casecenter.custody.tracking import Event

        self.Event = Event
        self.gateway = Publisher(url, "mn-gateway")
        self.seq: Counter[str] = Counter()
        self.sent: list[tuple[str, int]] = []
        self.kinds: Counter[str] = Counter()
        self.last_zone: dict[str, str | None] = {}
        self.enters = 0

    def send(self, device: str, kind: str, payload: dict) -> None:
        self.seq[device] += 1
        self.gateway.event(
            self.Event(CENTER, kind, device, self.seq[device], datetime.now(UTC), payload)
        )
        self.sent.append((device, self.seq[device]))
        self.kinds[kind] += 1
        if kind == "presence":
            entered = payload["event"] == "enter"
            self.enters += entered
            self.last_zone[device] = payload["zone"] if entered else None

    def walk(self, device: str, into: str) -> None:
        if self.last_zone.get(device):
            self.send(device, "presence", {"zone": self.last_zone[device], "event": "leave"})
        self.send(device, "presence", {"zone": into, "event": "enter"})

    def vitals(self, devices: list[str], rounds: int) -> None:
        for _ in range(rounds):
            for device in devices:
                self.send(device, "vitals", NORMAL)


def arrive(api: Api, users: dict[str, int], n: int, due_in: timedelta) -> dict:
    """Case ``n``: accepted, an assisting officer, a suspect summoned (due ``due_in``
    from now) and registered into the area with wristband ``n``."""
    case = api.call(
        "lead",
        "POST",
        "/api/cases",
        {"kind": "criminal", "category": "theft", "title": f"多节点盗窃案{n}"},
    )
    api.call(
        "lead",
        "POST",
        f"/api/cases/{case['id']}/assignments",
        {"user_id": users["partner"], "role": "assisting"},
    )
    party = api.call(
        "lead",
        "POST",
        f"/api/cases/{case['id']}/parties",
        {"role": "suspect", "name": f"嫌疑人{n}", "id_number": valid_id(serial=f"{n:02d}1")},
    )
    started = datetime.now(UTC) - timedelta(hours=12) + due_in
    measure = api.call(
        "lead",
        "POST",
        f"/api/cases/{case['id']}/measures",
        {
            "party_id": party["id"],
            "kind": "summons",
            "started_at": started.isoformat(),
            "officers": [users["lead"], users["partner"]],
        },
    )
    stay = api.call(
        "lead",
        "POST",
        "/api/custody/stays",
        {
            "center": CENTER,
            "party_id": party["id"],
            "wristband": WRISTBANDS[n - 1],
            "searched_by": users["lead"],
            "identity_checked": True,
            "measure_id": measure["id"],
        },
    )
    return {"case": case, "party": party, "measure": measure, "stay": stay}


def alerts_of(api: Api, user: str) -> set[int]:
    """Every alert the API lists for ``user`` (all states), page by page."""
    ids: set[int] = set()
    offset = 0
    while page := api.call(user, "GET", f"/api/alerts?limit=100&offset={offset}"):
        ids |= {a["id"] for a in page}
        offset += len(page)
    return ids


def test_a_day_on_two_of_everything_loses_nothing_when_one_of_each_is_killed(
    cluster: Cluster,
):
    marks = {"start": time.monotonic()}
    # --- the database (migrated, a center) and the static files, side by side ----------
    world = subprocess.Popen(
        [sys.executable, "-m", "tests.multinode.world", "setup"],
        env={**cluster.env, "CASECENTER_DATA_DIR": str(cluster.folder / "operator")},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    streams: dict[str, AlertStream] = {}
    devices = cameras = None
    try:
        collected = cluster.run(
            "collectstatic",
            "--noinput",
            "-v",
            "0",
            data_dir=cluster.folder,
            CASECENTER_STATIC_HASHED="1",
        )
        assert collected.returncode == 0, collected.stderr

        # --- two of each: the web nodes start while the database is being migrated ----------
        ports = [free_port(), free_port()]
        webs = [
            cluster.node(
                f"web{i}", "serve", "--port", str(port), "--workers", "1", "--no-collectstatic"
            ).start()
            for i, port in enumerate(ports, start=1)
        ]
        out, err = world.communicate(timeout=300)
        assert world.returncode == 0, err
        users = json.loads(out.strip().splitlines()[-1])["users"]
        marks["migrated"] = time.monotonic()
        workers = [cluster.node(f"worker{i}", "worker", "--interval", "0.2") for i in (1, 2)]
        ingesters = [
            cluster.node(f"ingest{i}", "ingest", "--client-id", f"mn-ingest-{i}", "-v", "2")
            for i in (1, 2)
        ]
        for node in [*workers, *ingesters]:
            node.start()
        for web, port in zip(webs, ports, strict=True):
            wait_serving(web, port)
        for ingester in ingesters:
            wait_until(
                lambda i=ingester: "connected to" in i.log.read_text(errors="replace"),
                60,
                f"{ingester.name} to subscribe",
            )

        api = Api(ports)
        for user in ("lead", "desk", "medic"):
            api.login(user, PASSWORD)
        # three browsers: two on web1 (killed mid-day), one on web2
        streams = {
            "lead": AlertStream("lead", session_cookie(ports[0], "lead", PASSWORD), ports),
            "medic": AlertStream("medic", session_cookie(ports[0], "medic", PASSWORD), ports),
            "desk": AlertStream("desk", session_cookie(ports[1], "desk", PASSWORD), ports[::-1]),
        }
        for stream in streams.values():
            stream.start()
        for stream in streams.values():
            assert stream.open.wait(60), f"{stream.user}'s alert stream did not open"
        devices = Devices(cluster.broker.url)
        cameras = Cameras(cluster.broker.url, CENTER)
        marks["up"] = time.monotonic()

        # --- morning: four arrivals, through both web nodes in turn ----------------------
        day = {}
        for n in range(1, 5):
            day[n] = arrive(api, users, n, due_in=timedelta(seconds=6 + 2 * n))
            devices.walk(WRISTBANDS[n - 1], "reg")
            devices.vitals([WRISTBANDS[n - 1]], 2)
        devices.gateway.flush()
        assert all(api.calls.values()), api.calls  # both web nodes took calls
        # each summons' family notification (one hour) is long overdue: four breaches
        wait_until(lambda: len(streams["lead"].received) >= 4, 60, "the first alerts on web1")

        # --- mid-day: one of each killed, a burst of readings in flight ------------------
        devices.vitals(WRISTBANDS[:4], 50)
        devices.gateway.flush()  # on the broker, on their way to the ingesters
        ingesters[0].kill()
        workers[0].kill()
        webs[0].kill()
        marks["killed"] = time.monotonic()
        # the pages on web1 reconnect to web2 before the afternoon's first alert: one
        # that had no alert yet resumes from no id, i.e. from the newest alert then
        for user in ("lead", "medic"):
            wait_until(
                lambda u=user: [p for p, _ in streams[u].connections] == ports,
                30,
                f"{user}'s page to reconnect to web2",
            )

        # --- afternoon, on the survivors ------------------------------------------------
        for n in (5, 6):
            day[n] = arrive(api, users, n, due_in=timedelta(seconds=3 + n))
            devices.walk(WRISTBANDS[n - 1], "reg")
        for n, band in enumerate(WRISTBANDS, start=1):
            devices.walk(band, "wait1" if n % 2 else "wait2")
            devices.send(band, "vitals", NORMAL)
            devices.send(band, "vitals", HIGH)  # one reading too high: one alert each
            devices.send(band, "vitals", NORMAL)
        for band in (WRISTBANDS[1], WRISTBANDS[4]):
            devices.send(band, "status", {"strap": "removed", "battery": 80})
            devices.send(band, "status", {"strap": "closed", "battery": 80})
        devices.walk(WRISTBANDS[2], "med")
        devices.vitals(WRISTBANDS, 20)
        devices.gateway.flush()
        # the case platform: a summons ended before its clock ran out, a case filed
        summons = day[4]["measure"]
        api.call(
            "lead",
            "POST",
            f"/api/measures/{summons['id']}/end",
            {"at": datetime.now(UTC).isoformat(), "reason": "询问完毕"},
        )
        case = api.call("lead", "GET", f"/api/cases/{day[1]['case']['id']}")
        api.call(
            "lead",
            "POST",
            f"/api/cases/{case['id']}/transitions",
            {"transition": "file", "version": case["version"]},
        )
        assert api.ports == [ports[1]], "web1 was killed: only web2 takes calls"

        # the killed ingester's supervisor starts it again: its session's messages come
        ingesters[0].start()

        # --- evening: everything settles ------------------------------------------------
        def stored() -> bool:
            sent = {*devices.sent, *cameras.published()}
            open_commands = cluster.value(
                "SELECT count(*) FROM custody_cameracommand WHERE confirmed_at IS NULL"
            )
            return open_commands == 0 and cluster.value(
                "SELECT count(*) FROM custody_deviceevent"
            ) == len(sent)

        wait_until(stored, 90, "every device event stored and every command confirmed")
        cameras.close()  # no answer from now on (one to a command resent meanwhile: stored)
        wait_until(stored, 30, "the cameras' last answers stored")
        last_due = cluster.value(  # the summonses' clocks: the last to come due today
            "SELECT max(due_at) FROM supervision_deadline WHERE rule_id LIKE 'summons.%'"
        )
        wait_until(
            lambda: (
                datetime.now(UTC) > last_due
                and cluster.value(
                    "SELECT count(*) FROM supervision_deadline"
                    " WHERE state = 'running' AND due_at <= now()"
                )
                == 0
            ),
            90,
            "every clock that came due swept",
        )
        visible = {user: alerts_of(api, user) for user in streams}
        wait_until(
            lambda: all(visible[u] <= set(s.received) for u, s in streams.items()),
            30,
            "every alert on its users' streams",
        )
        for stream in streams.values():
            stream.stop()
            assert stream.error is None, stream.error
        webs[1].stop()
        for ingester in ingesters:
            assert ingester.stop() == 0, ingester.output()
        wait_until(
            lambda: (
                cluster.value(
                    "SELECT (SELECT count(*) FROM outbox_outboxevent WHERE relayed_at IS NULL)"
                    " + (SELECT count(*) FROM audit_auditentry WHERE seq IS NULL)"
                )
                == 0
            ),
            60,
            "the outbox relayed and the audit log sequenced",
        )
        assert workers[1].stop() == 0, workers[1].output()
    except BaseException:
        print(cluster.logs())
        raise
    finally:
        if world.poll() is None:
            world.kill()
            world.wait(timeout=10)
        if devices is not None:
            devices.gateway.close()
        if cameras is not None:
            cameras.close()
        for stream in streams.values():
            stream.stop()
    marks["settled"] = time.monotonic()

    # --- device events: every one stored once, applied once -------------------------------
    sent = devices.sent + cameras.published()
    rows = cluster.query("SELECT device, seq FROM custody_deviceevent")
    assert Counter(rows) == Counter(sent)  # none missing, none stored twice
    assert len(set(sent)) == len(sent)
    assert cluster.value("SELECT count(*) FROM custody_vital") == devices.kinds["vitals"]
    assert (
        cluster.value("SELECT count(*) FROM custody_presence WHERE stay_id IS NOT NULL")
        == devices.enters
    )
    where = dict(
        cluster.query(
            "SELECT d.code, z.code FROM custody_presence p"
            " JOIN custody_stay s ON p.stay_id = s.id"
            " JOIN custody_device d ON s.wristband_id = d.id"
            " JOIN custody_zone z ON p.zone_id = z.id WHERE p.left_at IS NULL"
        )
    )
    assert where == devices.last_zone
    assert cluster.value("SELECT count(*) FROM devices_rejectedmessage") == 0

    # --- alerts: each raised once, and pushed to everyone who may see it -----------------
    alerts = cluster.query("SELECT id, rule_id, kind, subject, deadline_id FROM supervision_alert")
    per_rule = Counter(rule for _, rule, *_ in alerts)
    stays = {f"stay:{d['stay']['id']}" for d in day.values()}
    vitals = Counter(subject for _, rule, _, subject, _ in alerts if rule == "custody.vitals")
    assert vitals == Counter(stays)  # one too-high reading each: one alert each
    straps = {subject for _, rule, _, subject, _ in alerts if rule == "custody.strap"}
    assert straps == {f"stay:{day[n]['stay']['id']}" for n in (2, 5)}
    breached = {
        d for (d,) in cluster.query("SELECT id FROM supervision_deadline WHERE state = 'breached'")
    }
    breaches = Counter(deadline for _, _, kind, _, deadline in alerts if kind == "breach")
    assert breaches == Counter(breached)  # every clock that ran out: one breach alert
    assert per_rule.keys() <= {
        "custody.vitals",
        "custody.strap",
        "summons.criminal",
        "summons.notify_family",
    }
    for user, stream in streams.items():
        assert set(stream.received) == visible[user], user
        assert len(stream.received) == len(set(stream.received)), f"{user} got an alert twice"
    assert visible["lead"] == {a[0] for a in alerts}  # the case officer: all of his cases'
    assert visible["medic"] == {a[0] for a in alerts if a[1] == "custody.vitals"}
    assert visible["desk"] == {a[0] for a in alerts if a[1].startswith("custody.")}
    for user in ("lead", "medic"):  # on web1 until it died, then on web2
        assert [port for port, _ in streams[user].connections[:2]] == ports, user
    # the case officer's stream had alerts from web1 before it died, and went on from
    # the last of them on web2 (the medical desk's first alert came in the afternoon)
    lead = streams["lead"]
    assert lead.connections[1][1] == str(max(lead.received[: lead.via.index(ports[1])]))
    assert set(lead.via) == set(ports)

    # --- the event bus: every outbox event on JetStream, each once ----------------------
    outbox = {pk for (pk,) in cluster.query("SELECT id FROM outbox_outboxevent")}
    messages = asyncio.run(_read_all(cluster.stream, cluster.prefix, len(outbox), 10.0))
    seen = Counter(m.msg_id for m in messages)
    assert set(seen) == {f"{cluster.prefix}:{pk}" for pk in outbox}
    assert set(seen.values()) == {1}
    # and nothing more on the stream: a relay killed between publishing and marking had
    # its batch published again by the other worker, and JetStream dropped the copies
    assert asyncio.run(_stream_info(cluster.stream)).state.messages == len(outbox)
    # what a subscriber hears: each alert raised once, each case accepted once
    told = Counter(
        (m.body["type"], m.body["data"].get("alert_id") or m.body["data"].get("case_id"))
        for m in messages
        if m.body["type"] in ("alert.raised", "case.accepted")
    )
    assert told == Counter(
        [("alert.raised", a[0]) for a in alerts]
        + [("case.accepted", d["case"]["id"]) for d in day.values()]
    )

    # --- the audit log: whole, every entry sequenced ---------------------------------------
    assert cluster.value("SELECT count(*) FROM audit_auditentry WHERE seq IS NULL") == 0
    verified = cluster.run("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    marks["checked"] = time.monotonic()
    # what the ingesters that stopped said they did (the killed run says nothing)
    totals = {
        n.name: [
            {k: t[k] for k in ("received", "new", "duplicates")}
            for t in map(ast.literal_eval, re.findall(r"stopped: (\{.*\})", n.output()))
        ]
        for n in ingesters
    }
    steps = list(marks.items())
    print(
        f"\nmultinode: {len(sent)} device events ({dict(devices.kinds)}, "
        f"{len(cameras.published())} camera answers), {len(alerts)} alerts {dict(per_rule)}, "
        f"{len(outbox)} outbox events on JetStream, "
        f"{cluster.value('SELECT count(*) FROM audit_auditentry')} audit entries; "
        f"web1, worker1, ingest1 killed, ingesters after: {totals}; seconds to "
        + ", ".join(f"{b[0]} {b[1] - a[1]:.0f}" for a, b in zip(steps, steps[1:], strict=False))
    )
