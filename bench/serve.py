"""Which ASGI server ``casecenter serve`` runs: uvicorn, granian, gunicorn + uvicorn workers.

    .venv/bin/python bench/serve.py [--db sqlite|postgres] [--seconds 4] [--connections 16]
                                    [--workers 2] [--rounds 3]

Each server serves the same application (``casecenter.web.serving``, hashed static
files, a connection pool on PostgreSQL) with the same number of worker processes
on the same machine, one after another. Per server:

1. ``health`` and ``page``: requests per second and p50/p99 latency of ``/api/health``
   and of the login page (template, CSRF cookie, session middleware), keep-alive
   connections from client processes; every server is started at once and measured
   in turn, ``--rounds`` times in a turning order (the median round counts), so a
   busy moment of the machine does not fall on one server only;
2. ``sse``: an alert stream is opened (time to its first frame: is it sent at once
   or held back), then the server gets SIGTERM with the stream open: how long until
   the stream ends, whether it ends cleanly (the chunked body's last chunk) or is
   cut, and how long until the server process has exited.

The ratios (each endpoint against uvicorn's, the page against the health endpoint
of the same server) are the figures to compare; the clients share the machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ROOT, child_env, free_port, percentile, reset_postgres, wait_up

PG_NAME = "casecenter_bench_serve"
APP = "casecenter.web.serving:application"
BIN = Path(sys.executable).parent


def commands(port: int, workers: int) -> dict[str, list[str]]:
    bind = ["--host", "127.0.0.1", "--port", str(port)]
    return {
        "uvicorn": [
            *(sys.executable, "-m", "casecenter.cli", "serve", *bind),
            *("--workers", str(workers), "--no-collectstatic"),
        ],
        "granian": [
            *(str(BIN / "granian"), "--interface", "asgi", *bind),
            *("--workers", str(workers), "--loop", "uvloop", "--log-level", "warning", APP),
        ],
        "gunicorn+uvicorn": [
            *(str(BIN / "gunicorn"), "-k", "uvicorn.workers.UvicornWorker"),
            *("-w", str(workers), "-b", f"127.0.0.1:{port}", "--graceful-timeout", "20", APP),
        ],
    }


# --- children -------------------------------------------------------------------


def make_session() -> dict:
    """Runs in a child: migrate, collect the static files, log an officer in."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from casecenter.accounts.models import Organisation, OrganisationKind, Role, User

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    org = Organisation.objects.create(
        code="bench", kind=OrganisationKind.POLICE_STATION, name="基准派出所"
    )
    user = User.objects.create(username="bench", role=Role.CASE_OFFICER, organisation=org)
    client = Client()
    client.force_login(user)
    return {"cookie": f"{settings.SESSION_COOKIE_NAME}={client.cookies['sessionid'].value}"}


def load(port: int, path: str, seconds: float, threads: int) -> dict:
    """Runs in a child: ``threads`` keep-alive connections asking for ``path``."""
    latencies: list[float] = []
    errors = [0]
    stop_at = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                errors[0] += 1
        conn.close()

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return {"latencies": latencies, "errors": errors[0]}


# --- the run ----------------------------------------------------------------------


PATHS = {"health": "/api/health", "page": "/login/"}


def run_load(env: dict, port: int, path: str, seconds: float, connections: int) -> dict:
    """Latencies (s) and errors of ``connections`` clients in a few processes."""
    processes = max(1, min(4, connections // 4))
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", "load", str(port), path, str(seconds)]
            + [str(connections // processes)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    results = [json.loads(c.communicate()[0].strip().splitlines()[-1]) for c in children]
    return {
        "latencies": [v for r in results for v in r["latencies"]],
        "errors": sum(r["errors"] for r in results),
    }


def summary(runs: list[dict], seconds: float) -> dict:
    """The median round's requests per second, latencies over all rounds."""
    rates = sorted(len(r["latencies"]) / seconds for r in runs)
    values = [v for r in runs for v in r["latencies"]]
    return {
        "rps": round(rates[len(rates) // 2], 1),
        "p50_ms": round(1000 * percentile(values, 0.5), 2) if values else None,
        "p99_ms": round(1000 * percentile(values, 0.99), 2) if values else None,
        "errors": sum(r["errors"] for r in runs),
    }


def sse_and_shutdown(server: subprocess.Popen, port: int, cookie: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    conn.request("GET", "/events/", headers={"Cookie": cookie})
    stream = conn.getresponse()
    first = stream.readline()
    first_frame_s = time.perf_counter() - started
    time.sleep(1.5)  # a poll or two
    term = time.perf_counter()
    server.send_signal(signal.SIGTERM)
    try:
        stream.read()
        ending = "clean"
    except (http.client.IncompleteRead, OSError) as error:
        ending = f"cut ({type(error).__name__})"
    stream_closed_s = time.perf_counter() - term
    try:
        code = server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        code = "killed after 60 s"
    return {
        "status": stream.status,
        "first_frame": first.decode().strip(),
        "first_frame_s": round(first_frame_s, 3),
        "stream_end_after_sigterm": ending,
        "stream_closed_after_sigterm_s": round(stream_closed_s, 2),
        "exit_after_sigterm_s": round(time.perf_counter() - term, 2),
        "exit_code": code,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="servers to measure (default: all)")
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="bench-serve-")
    if args.db == "postgres":
        reset_postgres(PG_NAME)
    env = {**child_env(args.db, data, PG_NAME), "CASECENTER_STATIC_HASHED": "1"}
    if args.db == "postgres":
        env["CASECENTER_DB_POOL"] = "1"
    env["PYTHONPATH"] = str(ROOT / "src")
    out = subprocess.run(
        [sys.executable, __file__, "--child", "session"],
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    cookie = json.loads(out.stdout.strip().splitlines()[-1])["cookie"]
    names = args.only or ["uvicorn", "granian", "gunicorn+uvicorn"]
    servers: dict[str, tuple[subprocess.Popen, int]] = {}
    runs: dict[str, dict[str, list[dict]]] = {n: {p: [] for p in PATHS} for n in names}
    results: dict = {}
    try:
        for name in names:  # all started at once, measured one at a time
            port = free_port()
            servers[name] = (
                subprocess.Popen(
                    commands(port, args.workers)[name],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                ),
                port,
            )
        for _, port in servers.values():
            wait_up(f"http://127.0.0.1:{port}", 60)
            for path in PATHS.values():
                run_load(env, port, path, 1, args.connections)  # warm-up
        for round_ in range(args.rounds):  # the order turns each round: no server always first
            order = names[round_ % len(names) :] + names[: round_ % len(names)]
            for name in order:
                for key, path in PATHS.items():
                    port = servers[name][1]
                    runs[name][key].append(
                        run_load(env, port, path, args.seconds, args.connections)
                    )
        for name, (server, port) in servers.items():
            results[name] = {key: summary(runs[name][key], args.seconds) for key in PATHS}
            results[name]["sse"] = sse_and_shutdown(server, port, cookie)
    finally:
        for server, _ in servers.values():
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    base = results.get("uvicorn")
    for figures in results.values():
        figures["page_vs_health"] = round(figures["page"]["rps"] / figures["health"]["rps"], 3)
        if base:
            for path in ("health", "page"):
                figures[f"{path}_vs_uvicorn"] = round(figures[path]["rps"] / base[path]["rps"], 3)
    print(
        json.dumps(
            {
                "db": args.db,
                "workers": args.workers,
                "connections": args.connections,
                "seconds": args.seconds,
                "rounds": args.rounds,
                "cpus": os.cpu_count(),
                "servers": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        step = sys.argv[2]
        if step == "session":
            print(json.dumps(make_session()))
        else:
            port, path = int(sys.argv[3]), sys.argv[4]
            print(json.dumps(load(port, path, float(sys.argv[5]), int(sys.argv[6]))))
    else:
        main()
