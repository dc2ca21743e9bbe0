"""How long from a clock's due moment to its alert reaching a browser's SSE stream.

    .venv/bin/python bench/sse_delay.py [--db sqlite|postgres|both] [--alerts 50]

The whole path runs as it does in the embedded demo: a real ``runserver``
process serves ``/events/`` to a logged-in officer (session cookie from the
login form), a real ``casecenter worker`` process sweeps the clocks, and the
two meet only in the database. Clocks are opened due at known instants a few
seconds ahead, spread so that they fall at every phase of the worker's sweep
and of the stream's poll (both about once a second); the delay of each is the
arrival of its ``event: alert`` minus its ``due_at``. Prints p50 and p99 (and
the rest) as JSON. Each database is a fresh, throw-away one: a SQLite file in
a temporary folder and the PostgreSQL database ``casecenter_bench_sse``.

The figure is a latency, not a ratio: it is bounded by the two poll intervals
(worker ``--interval`` and ``supervision.live.POLL_SECONDS``), which it reports
beside the result.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from common import ROOT, child_env, free_port, percentile, reset_postgres, run_child, wait_up

PG_NAME = "casecenter_bench_sse"
PASSWORD = "bench-sse-password-1"  # noqa: S105 - a throw-away database
RULE = "property.hand_over"  # 24 hours, one clock per call: due = trigger + 24 h
BIN = Path(sys.executable).parent
WORKER_INTERVAL = 1.0  # the worker's default: a sweep about every second


# --- child steps (run with the benchmark database's environment) -----------------


def child_setup() -> dict:
    """Migrate; an officer with a password, a case, and the rule warning at its due
    moment only (so each clock raises exactly one alert: its breach)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from casecenter.accounts.models import Organisation, OrganisationKind, Role, User
    from casecenter.cases.services import accept_case
    from casecenter.supervision.models import Rule
    from casecenter.supervision.services import tune_rule

    org = Organisation.objects.create(
        code="bench", kind=OrganisationKind.POLICE_STATION, name="基准派出所"
    )
    officer = User(username="bench", role=Role.CASE_OFFICER, organisation=org)
    officer.set_password(PASSWORD)
    officer.save()
    admin = User.objects.create(username="bench-admin", role=Role.ADMIN, organisation=org)
    tune_rule(admin, Rule.objects.get(code=RULE), warn_before=None, escalate_after=None)
    case = accept_case(officer, kind="criminal", category="theft", title="SSE 基准案件")
    from casecenter.supervision import live

    return {"case_id": case.pk, "stream_poll_s": live.POLL_SECONDS}


def child_clocks(case_id: int, count: int, lead: float, spacing: float) -> dict:
    """Open ``count`` clocks due ``lead`` seconds from now, then every ``spacing``."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from casecenter.cases.models import Case
    from casecenter.supervision.services import open_deadline

    case = Case.objects.get(pk=case_id)
    start = timezone.now() + timedelta(seconds=lead)
    with transaction.atomic():
        for i in range(count):
            due = start + timedelta(seconds=i * spacing)
            open_deadline(None, RULE, case, trigger_at=due - timedelta(hours=24))
    return {"first_due": start.timestamp()}


def child_alerts() -> dict:
    """Each breach alert's id and its clock's due moment (epoch seconds)."""
    from casecenter.supervision.models import Alert

    rows = Alert.objects.filter(kind="breach").select_related("deadline")
    return {str(a.pk): a.deadline.due_at.timestamp() for a in rows}


def child_main(step: str, args: list[str]) -> None:
    import django

    sys.path.insert(0, str(ROOT / "src"))
    django.setup()
    if step == "setup":
        result = child_setup()
    elif step == "clocks":
        result = child_clocks(int(args[0]), int(args[1]), float(args[2]), float(args[3]))
    else:
        result = child_alerts()
    print(json.dumps(result))


# --- the benchmark ------------------------------------------------------------------


def log_in(base: str) -> str:
    """The session cookie, through the login form as a browser gets it."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{base}/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode(
        {"username": "bench", "password": PASSWORD, "csrfmiddlewaretoken": token}
    ).encode()
    opener.open(urllib.request.Request(f"{base}/login/", data=body, headers={"Referer": base}))
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        raise RuntimeError("login failed")
    return f"sessionid={cookies['sessionid']}"


class Listener(threading.Thread):
    """Reads the SSE stream; notes when each alert arrives (epoch seconds)."""

    def __init__(self, port: int, cookie: str) -> None:
        super().__init__(daemon=True)
        self.port, self.cookie = port, cookie
        self.arrived: dict[str, float] = {}
        self.connected = threading.Event()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        conn.request("GET", "/events/", headers={"Cookie": self.cookie})
        response = conn.getresponse()
        assert response.status == 200, response.status
        event, data = "", ""
        while True:
            line = response.readline()
            if not line:
                return
            text = line.decode().rstrip("\n")
            if text.startswith("event: "):
                event = text[7:]
            elif text.startswith("data: "):
                data = text[6:]
            elif text == "":
                now = time.time()
                if event == "count":
                    self.connected.set()
                elif event == "alert":
                    self.arrived[str(json.loads(data)["id"])] = now
                event, data = "", ""


def bench_db(db: str, alerts: int, lead: float, spacing: float) -> dict:
    data_dir = tempfile.mkdtemp(prefix=f"cc-bench-sse-{db}-")
    env = child_env(db, data_dir, PG_NAME)
    if db == "postgres":
        reset_postgres(PG_NAME)
    world = run_child(__file__, env, "setup")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    server = subprocess.Popen(
        [str(BIN / "casecenter"), "runserver", f"127.0.0.1:{port}", "--noreload"], **quiet
    )
    worker = subprocess.Popen(
        [str(BIN / "casecenter"), "worker", "--interval", str(WORKER_INTERVAL)], **quiet
    )
    try:
        wait_up(base)
        listener = Listener(port, log_in(base))
        listener.start()
        if not listener.connected.wait(30):
            raise RuntimeError("no stream")
        run_child(__file__, env, "clocks", world["case_id"], alerts, lead, spacing)
        until = time.time() + lead + alerts * spacing + 30
        while len(listener.arrived) < alerts and time.time() < until:
            time.sleep(0.1)
        due = run_child(__file__, env, "alerts")
    finally:
        for process in (worker, server):
            process.terminate()
            process.wait(10)
        shutil.rmtree(data_dir, ignore_errors=True)
    delays = [listener.arrived[i] - due[i] for i in due if i in listener.arrived]
    if not delays:
        raise RuntimeError("no alert arrived")
    return {
        "stream_poll_s": world["stream_poll_s"],
        "alerts": alerts,
        "received": len(delays),
        "p50_s": round(percentile(delays, 0.50), 3),
        "p99_s": round(percentile(delays, 0.99), 3),
        "min_s": round(min(delays), 3),
        "max_s": round(max(delays), 3),
        "mean_s": round(statistics.fmean(delays), 3),
    }


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--alerts", type=int, default=50)
    parser.add_argument("--lead", type=float, default=5.0, help="seconds to the first due moment")
    parser.add_argument("--spacing", type=float, default=0.23, help="seconds between due moments")
    args = parser.parse_args()
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = {db: bench_db(db, args.alerts, args.lead, args.spacing) for db in dbs}
    print(
        json.dumps(
            {
                "benchmark": "sse_delay",
                "what": "seconds from a clock's due moment to its alert on an SSE stream",
                "worker_interval_s": WORKER_INTERVAL,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
