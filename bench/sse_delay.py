"""How long from an alert's commit to its arrival on the browsers' SSE streams,
with many streams open on one web process (issue 17: p99 under 200 ms at 500
streams, the process under 300 MB RSS).

    .venv/bin/python bench/sse_delay.py [--db sqlite|postgres|both] [--mode poll|notify|both]
                                        [--users 50] [--streams 500] [--alerts 100]
                                        [--spacing 0.05 0.25] [--settle 10]

Per database, a fresh throw-away one (a SQLite file in a temporary folder, the
PostgreSQL database ``casecenter_bench_sse``): a police station, ``--users``
case officers with a password, and a rule whose audience is their role, so
every alert raised reaches every one of them. Per mode (``CASECENTER_LIVE_PUSH``:
``poll``, the resumable poll of ``supervision.live``, the only one on SQLite;
``notify``, PostgreSQL's LISTEN/NOTIFY; ``both`` runs them one after the other on
the same database, so the figures compare within one run):

1. one ``casecenter serve --workers 1`` process (uvicorn, ASGI) with that mode;
   each officer logs in once through the login form (its session is reused by
   the second mode);
2. ``--streams`` ``/events/`` streams, spread over the officers (ten tabs each by
   default), are opened by an asyncio client in this process; a stream counts as
   open at its ``200`` and its ``retry:`` line (a stream need not send anything
   else before an alert comes);
3. a child process raises ``--alerts`` alerts through
   ``supervision.services.raise_alert``, each in its own transaction, a random
   ``--spacing`` apart, and prints each alert's id and ``time.time()`` right after
   its commit; the client notes ``time.time()`` at each ``event: alert`` frame.

The delay of a delivery is its arrival minus its alert's commit, over every
stream × alert; deliveries that never came are counted and reported (a failure,
not a slow delivery). Per alert, its first stream's delay (until the server
sends anything) and the spread to its last stream (the writing to all) tell
where the time goes. Beside them: the RSS and threads of the server's parent
and of its worker process (the one holding the streams) before and after the
alerts, PostgreSQL's connections to the database, the load average at the
start, and the first lines of any error the server logged.

The figure is a latency on a shared machine (the client, the raiser and the
server share its CPUs), so it is reported with the load average and the client's
CPU time. The earlier form of this benchmark (a clock's due moment through the
``casecenter worker`` to one stream under ``runserver``) is in the history.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from common import (
    ROOT,
    child_env,
    free_port,
    percentile,
    pg_admin,
    reset_postgres,
    run_child,
    wait_up,
)

PG_NAME = "casecenter_bench_sse"
PASSWORD = "bench-sse-password-1"  # noqa: S105 - a throw-away database
RULE = "property.hand_over"  # any rule: its audience is set to the officers' role
ROLE = "case_officer"
BIN = Path(sys.executable).parent
OPEN_AT_ONCE = 50  # streams being opened at the same time
OPEN_TIMEOUT = 120.0  # seconds for every stream to be open
SETTLE_CAP = 180.0  # seconds after the last commit, at most, to wait for late deliveries


# --- child steps (run with the benchmark database's environment) -----------------


def child_setup(users: int) -> dict:
    """Migrate; a station, ``users`` officers sharing one password, a case, and the
    rule told to the officers' role."""
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)
    from casecenter.accounts.models import Organisation, OrganisationKind, Role, User
    from casecenter.cases.services import accept_case
    from casecenter.supervision.models import Rule
    from casecenter.supervision.services import tune_rule

    org = Organisation.objects.create(
        code="bench", kind=OrganisationKind.POLICE_STATION, name="基准派出所"
    )
    hashed = make_password(PASSWORD)  # once: each officer's row gets the same hash
    names = [f"bench-{i:03d}" for i in range(users)]
    with transaction.atomic():
        officers = [
            User.objects.create(username=n, role=ROLE, organisation=org, password=hashed)
            for n in names
        ]
        admin = User.objects.create(username="bench-admin", role=Role.ADMIN, organisation=org)
        tune_rule(admin, Rule.objects.get(code=RULE), audience=[ROLE])
        case = accept_case(officers[0], kind="criminal", category="theft", title="SSE 基准案件")
    from casecenter.supervision import live

    return {
        "names": names,
        "organisation_id": org.pk,
        "case_id": case.pk,
        "stream_poll_s": live.POLL_SECONDS,
        "stream_seconds": live.STREAM_SECONDS,
        "max_events": live.MAX_EVENTS,
    }


def child_raise(organisation_id: int, case_id: int, tag: str, count: int, low: float, high: float):
    """Raise ``count`` alerts, each in its own transaction, ``low``–``high`` seconds
    apart; one JSON line per alert: its id and the moment after its commit."""
    import random

    from django.conf import settings
    from django.db import transaction

    from casecenter.cases.models import Case
    from casecenter.supervision.models import Rule
    from casecenter.supervision.services import raise_alert

    case, rule = Case.objects.get(pk=case_id), Rule.objects.get(code=RULE)
    mode = getattr(settings, "CASECENTER_LIVE_PUSH", None)
    print(json.dumps({"ready": True, "live_push_setting": mode}), flush=True)
    for i in range(count):
        time.sleep(random.uniform(low, high))  # noqa: S311 - spacing, not secrecy
        with transaction.atomic():
            alert = raise_alert(
                key=f"bench-sse-{tag}-{i}",
                rule=rule,
                kind="event",
                case=case,
                organisation_id=organisation_id,
                title_zh=f"基准告警 {i}",
                title_en=f"Benchmark alert {i}",
                explanation_zh="SSE 基准",
                explanation_en="SSE benchmark",
            )
        committed = time.time()
        print(json.dumps({"id": alert.pk, "t": committed}), flush=True)


def child_main(step: str, args: list[str]) -> None:
    import django

    sys.path.insert(0, str(ROOT / "src"))
    django.setup()
    if step == "setup":
        print(json.dumps(child_setup(int(args[0]))))
    else:
        org, case, tag, count, low, high = args
        child_raise(int(org), int(case), tag, int(count), float(low), float(high))


# --- the server and its processes -------------------------------------------------


def log_in(base: str, username: str) -> str:
    """The session cookie, through the login form as a browser gets it."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{base}/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode(
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    ).encode()
    opener.open(urllib.request.Request(f"{base}/login/", data=body, headers={"Referer": base}))
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        raise RuntimeError(f"login of {username} failed")
    return f"sessionid={cookies['sessionid']}"


def proc_status(pid: int) -> dict:
    """RSS (MB) and threads of a process, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return {
        "rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024, 1),
        "threads": int(fields["Threads"]),
    }


def server_processes(parent: int) -> dict[str, int]:
    """The serve command and its worker process (uvicorn's spawned child)."""
    found = {"parent": parent}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and "resource_tracker" not in cmdline:
            found["worker" if "worker" not in found else f"child-{entry.name}"] = int(entry.name)
    return found


def memory(processes: dict[str, int]) -> dict:
    out = {}
    for name, pid in processes.items():
        try:
            out[name] = proc_status(pid)
        except OSError:
            out[name] = "gone"
    return out


def pg_connections(db: str) -> int | None:
    if db != "postgres":
        return None
    return pg_admin(f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{PG_NAME}'")[0][0]  # noqa: S608


def server_errors(log: Path, limit: int = 8) -> dict:
    """The distinct exception lines of the server's log, most frequent first."""
    counts: dict[str, int] = {}
    text = log.read_text(errors="replace") if log.exists() else ""
    for line in text.splitlines():
        if re.match(r"^[\w.]+(Error|Exception|Timeout)\b.*", line) or line.startswith("ERROR"):
            counts[line[:300]] = counts.get(line[:300], 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])[:limit]
    return {"tracebacks": text.count("Traceback (most recent call last)"), "lines": dict(ranked)}


# --- the streams ------------------------------------------------------------------


class Stream:
    """One ``/events/`` stream: raw HTTP/1.1 over asyncio, chunked body, SSE frames."""

    def __init__(self, port: int, cookie: str) -> None:
        self.port, self.cookie = port, cookie
        self.opened = asyncio.Event()  # 200 and the retry line, or failed
        self.error: str | None = None
        self.ended = False
        self.arrived: dict[int, float] = {}
        self.counts = 0
        self.writer: asyncio.StreamWriter | None = None

    async def run(self, gate: asyncio.Semaphore) -> None:
        try:
            async with gate:
                reader = await self._connect()
                if reader is None:
                    return
                await self._until_open(reader)
            await self._read(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            self.error = self.error or f"{type(error).__name__}: {error}"
        finally:
            self.ended = True
            self.opened.set()

    async def _connect(self) -> asyncio.StreamReader | None:
        reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port, limit=2**20)
        self.writer.write(
            f"GET /events/ HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Cookie: {self.cookie}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status = int(head.split(" ", 2)[1])
        self.chunked = "transfer-encoding: chunked" in head.lower()
        self.buffer = b""
        if status != 200:
            body = await asyncio.wait_for(self._body(reader), 5)
            self.error = f"HTTP {status}: {body.decode(errors='replace')[:160]!r}"
            return None
        return reader

    async def _body(self, reader: asyncio.StreamReader) -> bytes:
        if not self.chunked:
            return await reader.read(65536)
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        data = await reader.readexactly(size + 2)
        return data[:-2]

    def _frames(self, data: bytes, now: float) -> None:
        self.buffer += data
        while b"\n\n" in self.buffer:
            raw, self.buffer = self.buffer.split(b"\n\n", 1)
            event, payload = "", ""
            for line in raw.decode().split("\n"):
                if line.startswith("retry:"):
                    self.opened.set()
                elif line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    payload = line[6:]
            if event == "alert":
                self.arrived.setdefault(json.loads(payload)["id"], now)
            elif event == "count":
                self.counts += 1

    async def _until_open(self, reader: asyncio.StreamReader) -> None:
        while not self.opened.is_set():
            data = await self._body(reader)
            if not data:
                raise ValueError("the stream ended before its retry line")
            self._frames(data, time.time())

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while True:
            data = await self._body(reader)
            if not data:
                return
            self._frames(data, time.time())

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def measure(
    db: str, env: dict, port: int, server: subprocess.Popen, cookies: list[str], args, world, tag
) -> dict:
    streams = [Stream(port, cookies[i % len(cookies)]) for i in range(args.streams)]
    gate = asyncio.Semaphore(OPEN_AT_ONCE)
    started = time.monotonic()
    tasks = [asyncio.create_task(s.run(gate)) for s in streams]
    with contextlib.suppress(TimeoutError):  # those not open by then are counted as failed
        await asyncio.wait_for(asyncio.gather(*(s.opened.wait() for s in streams)), OPEN_TIMEOUT)
    open_s = time.monotonic() - started
    live = [s for s in streams if s.opened.is_set() and not s.ended and s.error is None]
    await asyncio.sleep(1.0)  # the streams' first polls
    processes = server_processes(server.pid)
    before = {"memory": memory(processes), "pg_connections": pg_connections(db)}
    raiser = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--child",
        "raise",
        *map(str, (world["organisation_id"], world["case_id"], tag, args.alerts, *args.spacing)),
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    committed: dict[int, float] = {}
    setting = None
    async for line in raiser.stdout:
        row = json.loads(line)
        if "ready" in row:
            setting = row["live_push_setting"]
        else:
            committed[row["id"]] = row["t"]
    await raiser.wait()
    if raiser.returncode != 0:
        raise RuntimeError(f"the raiser failed ({raiser.returncode})")
    # late deliveries are waited for as long as they keep coming; missing ones are not
    last, progress_at, cap = -1, time.monotonic(), time.monotonic() + SETTLE_CAP
    while any(len(s.arrived) < len(committed) for s in live):
        now, arrived = time.monotonic(), sum(len(s.arrived) for s in live)
        if arrived != last:
            last, progress_at = arrived, now
        if now - progress_at > args.settle or now > cap:
            break
        await asyncio.sleep(0.1)
    settled_s = time.monotonic() - (cap - SETTLE_CAP)
    after = {"memory": memory(processes), "pg_connections": pg_connections(db)}
    ended_early = sum(1 for s in live if s.ended)
    for s in streams:
        s.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    delays = [s.arrived[a] - t for s in streams for a, t in committed.items() if a in s.arrived]
    expected = args.streams * len(committed)
    failures: dict[str, int] = {}
    for s in streams:
        error = s.error or (None if s in live else f"not open after {OPEN_TIMEOUT:.0f} s")
        if error:
            failures[error] = failures.get(error, 0) + 1
    result = {
        "live_push_setting": setting,
        "streams": args.streams,
        "streams_open": len(live),
        "open_all_s": round(open_s, 2),
        "stream_failures": failures,
        "streams_ended_early": ended_early,
        "alerts": len(committed),
        "deliveries_expected": expected,
        "deliveries_received": len(delays),
        "deliveries_missing": expected - len(delays),
        "count_frames": sum(s.counts for s in streams),
        "waited_after_last_commit_s": round(settled_s, 1),
        "before_alerts": before,
        "after_alerts": after,
    }
    if delays:
        result["delay_ms"] = summary(delays)
        # per alert: its first stream (how long until the server sends anything) and
        # the spread to its last one (how long it takes to write to every stream)
        first, spread = [], []
        for alert_id, t in committed.items():
            times = [s.arrived[alert_id] for s in streams if alert_id in s.arrived]
            if times:
                first.append(min(times) - t)
                spread.append(max(times) - min(times))
        result["first_stream_ms"] = summary(first)
        result["first_to_last_stream_ms"] = summary(spread)
    return result


def summary(values: list[float]) -> dict:
    """p50, p90, p99, min, max and mean of seconds, in milliseconds."""
    ms = {f"p{int(p * 100)}": percentile(values, p) for p in (0.5, 0.9, 0.99)}
    ms |= {"min": min(values), "max": max(values), "mean": statistics.fmean(values)}
    return {k: round(1000 * v, 1) for k, v in ms.items()}


# --- the benchmark ------------------------------------------------------------------


def serve(env: dict, port: int, log: Path, collect: bool) -> subprocess.Popen:
    command = [str(BIN / "casecenter"), "serve", "--workers", "1", "--port", str(port)]
    if not collect:
        command.append("--no-collectstatic")
    return subprocess.Popen(  # noqa: S603 - our own command
        command,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def run_mode(db, env, data_dir, world, cookies, mode, args, first) -> tuple[dict, list[str]]:
    load = os.getloadavg()
    port, log = free_port(), Path(data_dir) / f"serve-{mode}.log"
    env = {**env, "CASECENTER_LIVE_PUSH": mode}
    server = serve(env, port, log, collect=first)
    client_cpu = os.times()
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(base, 60)
        if not cookies:
            started = time.monotonic()
            cookies = [log_in(base, name) for name in world["names"]]
            print(
                f"{db}: {len(cookies)} logins in {time.monotonic() - started:.1f} s",
                file=sys.stderr,
            )
        idle = memory(server_processes(server.pid))
        tag = f"{mode}-{int(time.time())}"
        result = asyncio.run(measure(db, env, port, server, cookies, args, world, tag))
    finally:
        stop(server)
    cpu = os.times()
    result = {
        "mode": mode,
        "db": db,
        "loadavg_at_start": [round(v, 2) for v in load],
        "memory_no_streams": idle,
        **result,
        "client_cpu_s": round(cpu.user + cpu.system - client_cpu.user - client_cpu.system, 2),
        "server_log": server_errors(log),
    }
    if result["deliveries_missing"]:
        print(
            f"!!! {db}/{mode}: {result['deliveries_missing']} of "
            f"{result['deliveries_expected']} deliveries MISSING "
            f"({result['streams_open']}/{args.streams} streams open)",
            file=sys.stderr,
        )
    return result, cookies


def bench_db(db: str, args) -> list[dict]:
    data_dir = tempfile.mkdtemp(prefix=f"cc-bench-sse-{db}-")
    env = child_env(db, data_dir, PG_NAME)
    if db == "postgres":
        reset_postgres(PG_NAME)
    modes = ["poll", "notify"] if args.mode == "both" else [args.mode]
    if db == "sqlite":
        modes = ["poll"]  # SQLite has no notification channel
    try:
        world = run_child(__file__, env, "setup", args.users)
        results, cookies = [], []
        for i, mode in enumerate(modes):
            result, cookies = run_mode(db, env, data_dir, world, cookies, mode, args, i == 0)
            results.append(result)
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            print(f"{db}: kept {data_dir}", file=sys.stderr)
    for r in results:  # the stream's limits: a run must stay well inside them
        r |= {k: world[k] for k in ("stream_poll_s", "stream_seconds", "max_events")}
    return results


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--mode", choices=["poll", "notify", "both"], default="both")
    parser.add_argument("--users", type=int, default=50, help="officers logged in")
    parser.add_argument("--streams", type=int, default=500, help="streams, spread over them")
    parser.add_argument("--alerts", type=int, default=100)
    parser.add_argument(
        "--spacing",
        type=float,
        nargs=2,
        default=[0.05, 0.25],
        metavar=("MIN", "MAX"),
        help="seconds between two alerts (uniform)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=10.0,
        help="seconds without a new delivery before the missing ones are given up",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data folder (server logs)")
    args = parser.parse_args()
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = [r for db in dbs for r in bench_db(db, args)]
    print(
        json.dumps(
            {
                "benchmark": "sse_delay",
                "what": "ms from an alert's commit to its arrival on each open SSE stream",
                "cpus": os.cpu_count(),
                "users": args.users,
                "spacing_s": args.spacing,
                "results": results,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
