"""casecenter benchmarks: JSON figures, each a ratio against a baseline in the same run.

    .venv/bin/python bench/run.py [--db sqlite|postgres|both] [--cases 400] [--seconds 4]

1. ``create``: cases accepted per second through the service layer (checks,
   numbering, assignment, timeline, audit entry, outbox event — one transaction
   each) against a raw ``bulk_create`` of the same case rows.
2. ``http``: case-detail API requests per second (bearer auth, need-to-know
   check, audited read) against the trivial ``/api/health`` endpoint of the same
   server, with the same client threads, alternated in one run.

Each database gets a fresh, throw-away database; nothing here touches the demo's.
Absolute numbers depend on the machine; the ratios are the figures to watch.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from common import ROOT, child_env, free_port, reset_postgres

PG_NAME = "casecenter_bench"


def setup_world(cases: int) -> dict:
    """Runs inside the child process: migrate, make officers, time creation."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from casecenter.accounts.models import Organisation, OrganisationKind, Role, User
    from casecenter.accounts.services import issue_api_token
    from casecenter.cases.models import Case
    from casecenter.cases.services import accept_case

    org = Organisation.objects.create(
        code="bench", kind=OrganisationKind.POLICE_STATION, name="基准派出所"
    )
    officer = User.objects.create(username="bench", role=Role.CASE_OFFICER, organisation=org)

    started = time.perf_counter()
    made = [
        accept_case(officer, kind="criminal", category="theft", title=f"基准案件{i}")
        for i in range(cases)
    ]
    service_s = time.perf_counter() - started

    now = timezone.now()
    rows = [
        Case(
            organisation=org,
            kind="administrative",
            year=now.year,
            serial=i + 1,
            number=f"RAW-{i:06d}",
            category="theft",
            title=f"基准案件{i}",
            accepted_at=now,
            created_by=officer,
        )
        for i in range(cases)
    ]
    started = time.perf_counter()
    with transaction.atomic():
        Case.objects.bulk_create(rows, batch_size=500)
    raw_s = time.perf_counter() - started
    _, token = issue_api_token(officer, name="bench")
    return {
        "create": {
            "cases": cases,
            "service_per_s": round(cases / service_s, 1),
            "raw_bulk_per_s": round(cases / raw_s, 1),
            "service_vs_raw": round(raw_s / service_s, 4),
        },
        "token": token,
        "case_id": made[-1].pk,
    }


def hammer(url: str, headers: dict, seconds: float, threads: int) -> float:
    """Requests per second from ``threads`` keep-alive-less clients for ``seconds``."""
    count = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(n: int) -> None:
        request = urllib.request.Request(url, headers=headers)
        while time.perf_counter() < stop:
            with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310 - loopback
                r.read()
                assert r.status == 200
            count[n] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(count) / seconds


def bench_db(db: str, cases: int, seconds: float, threads: int) -> dict:
    data_dir = tempfile.mkdtemp(prefix=f"cc-bench-{db}-")
    env = child_env(db, data_dir, PG_NAME)
    if db == "postgres":
        reset_postgres(PG_NAME)
    out = subprocess.run(
        [sys.executable, __file__, "--child-setup", str(cases)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    world = json.loads(out.stdout.strip().splitlines()[-1])
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "casecenter"),
            "runserver",
            f"127.0.0.1:{port}",
            "--noreload",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/api/health", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.1)
        auth = {"Authorization": f"Bearer {world['token']}"}
        detail_url = f"{base}/api/cases/{world['case_id']}"
        hammer(detail_url, auth, 1, threads)  # warm-up
        rounds = []
        for _ in range(2):  # alternate so drift hits both alike
            rounds.append(
                (
                    hammer(f"{base}/api/health", auth, seconds / 2, threads),
                    hammer(detail_url, auth, seconds / 2, threads),
                )
            )
        trivial = sum(r[0] for r in rounds) / len(rounds)
        detail = sum(r[1] for r in rounds) / len(rounds)
    finally:
        server.terminate()
        server.wait(10)
    return {
        "create": world["create"],
        "http": {
            "threads": threads,
            "trivial_rps": round(trivial, 1),
            "case_detail_rps": round(detail, 1),
            "case_detail_vs_trivial": round(detail / trivial, 4),
        },
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child-setup":
        sys.path.insert(0, str(ROOT / "src"))
        print(json.dumps(setup_world(int(sys.argv[2]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = {db: bench_db(db, args.cases, args.seconds, args.threads) for db in dbs}
    print(json.dumps({"benchmark": "foundation", "results": results}, indent=2))


if __name__ == "__main__":
    main()
