"""The worker's sweep with 10,000 and with 1,000,000 running clocks (PostgreSQL), as JSON.

    .venv/bin/python bench/worker_sweep.py [--due 100] [--rounds 7] [--large 1000000]

Issue 4 asks that the worker's cost grow with the clocks falling due, never
with the clocks running. The figure to watch is ``ratio_1m_vs_10k``: the time
of one ``run_once()`` with K clocks due among 10,000 running ones, against the
same K among 1,000,000. It stays near 1 because the sweep reads only the
partial index ``deadline_next_check`` (``next_check_at`` of running clocks):
the clocks not yet due are never visited. ``idle_ratio_1m_vs_10k`` is the same
for a round with nothing due — a worker's every poll.

Two throw-away databases, ``casecenter_bench_worker`` (1M) and
``casecenter_bench_worker_10k``, are created and dropped; nothing here touches
the demo's. In each, the K due clocks are opened through
``supervision.services.open_deadline`` (as a detention would open them) and
the R running clocks around them are bulk-loaded with one ``INSERT … SELECT
generate_series`` (due times spread over six months, over the clocked rules
and several cases), then vacuumed and analysed. Each round re-arms the K
clocks (running again, their alerts deleted) and times one ``run_once()``: it
warns and breaches each of them (2K alerts with their audit entries and
outbox events) and relays the events. Rounds alternate between the two
databases (ABBA…) so that drift on a shared machine hits both alike; the
figures are medians of ``--rounds`` rounds after one warm-up. Absolute times
depend on the machine; the ratios are the figures to watch.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("PGTEST_URL", "postgres://postgres@127.0.0.1:5432/casecenter")
DB_NAME = "casecenter_bench_worker"  # the 1M clocks
SMALL_DB = "casecenter_bench_worker_10k"
SMALL = 10_000
CASES = 50


def admin_url() -> str:
    return PG_URL.rsplit("/", 1)[0] + "/postgres"


def create_databases() -> None:
    import psycopg

    with psycopg.connect(admin_url(), autocommit=True) as conn:
        for name in (DB_NAME, SMALL_DB):
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")


def drop_databases() -> None:
    import psycopg

    with psycopg.connect(admin_url(), autocommit=True) as conn:
        for name in (DB_NAME, SMALL_DB):
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- inside the child process --------------------------------------------------------

#: Bulk rows: R running clocks, none due, spread over CASES cases, the clocked
#: rules and six months; a quarter already warned (next check = due time).
LOAD_SQL = """
INSERT INTO supervision_deadline
    (rule_id, case_id, party_id, measure_id, variant, trigger_at, warn_at, due_at,
     state, warned_at, closed_at, closed_by_id, next_check_at, computation)
SELECT
    (%(rules)s::text[])[1 + g %% cardinality(%(rules)s::text[])],
    (%(cases)s::bigint[])[1 + g %% cardinality(%(cases)s::bigint[])],
    NULL, NULL, 'default',
    due - interval '3 days', due - interval '1 day', due,
    'running',
    CASE WHEN g %% 4 = 0 THEN now() ELSE NULL END,
    NULL, NULL,
    CASE WHEN g %% 4 = 0 THEN due ELSE due - interval '1 day' END,
    %(computation)s::jsonb
FROM (
    SELECT g, now() + interval '2 days'
              + make_interval(mins => ((g::bigint * 7919) %% 259200)::int) AS due  -- 180 days
    FROM generate_series(%(first)s, %(last)s) AS g
) AS rows
"""


def load(first: int, last: int, rules: list[str], cases: list[int]) -> float:
    from django.db import connection

    computation = json.dumps(
        {
            "zh": "自2026-01-01起3日：最后一日2026-01-04为工作日，期间至该日24时届满。",
            "en": "3 days from 2026-01-01: last day 2026-01-04 is a working day; "
            "the period ends at 24:00 that day (CPL Art. 105).",
            "basis": "CPL Art. 105",
            "calendar": "chinese-calendar 1.11.0",
            "period": None,
        },
        ensure_ascii=False,
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            LOAD_SQL,
            {
                "rules": rules,
                "cases": cases,
                "computation": computation,
                "first": first,
                "last": last,
            },
        )
    loaded = time.perf_counter() - started
    settle()
    return loaded


def settle() -> None:
    """Leave the table as a long-running system has it: vacuumed, analysed, and
    checkpointed, so neither autovacuum nor the checkpointer runs during the
    timed rounds (a 1M-row insert would set both off, and that is not the
    worker's cost)."""
    from django.db import DatabaseError, connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) supervision_deadline")
        with suppress(DatabaseError):  # not a superuser: the checkpoint comes when it comes
            cursor.execute("CHECKPOINT")


def sweep_plan() -> str:
    """The plan of the sweep's query, as the worker sends it."""
    from django.db import connection, transaction
    from django.utils import timezone

    from casecenter.supervision import worker
    from casecenter.supervision.models import Deadline, DeadlineState

    query = worker._locked(
        Deadline.objects.filter(state=DeadlineState.RUNNING, next_check_at__lte=timezone.now())
        .select_related("rule", "case", "party__person")
        .order_by("next_check_at", "id")
    )[:200]
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def rearm(due_ids: list[int]) -> None:
    """Make the K clocks due again, as if they had never been swept."""
    from django.db import transaction

    from casecenter.supervision.models import Alert, Deadline, DeadlineState

    with transaction.atomic():
        Alert.objects.filter(deadline_id__in=due_ids).delete()
        for deadline in Deadline.objects.filter(pk__in=due_ids):
            deadline.state, deadline.warned_at = DeadlineState.RUNNING, None
            deadline.next_check_at = deadline.warn_at
            deadline.save(update_fields=["state", "warned_at", "next_check_at"])


def use(database: str) -> None:
    """Point the default connection at ``database`` (the next query reconnects)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = database


def one_round(due_ids: list[int]) -> float:
    """Milliseconds of one ``run_once()`` that warns and breaches the K clocks."""
    from casecenter.supervision.worker import run_once

    rearm(due_ids)
    started = time.perf_counter()
    totals = run_once()
    elapsed = (time.perf_counter() - started) * 1000
    if totals["warning"] != len(due_ids) or totals["breach"] != len(due_ids):
        raise RuntimeError(f"expected {len(due_ids)} of each, got {totals}")
    return elapsed


def idle_round() -> float:
    """Milliseconds of one ``run_once()`` with nothing due: the cost of a worker's
    every poll, where a scan of the running clocks would show most plainly."""
    from casecenter.supervision.worker import run_once

    started = time.perf_counter()
    totals = run_once()
    elapsed = (time.perf_counter() - started) * 1000
    if any(totals.values()):
        raise RuntimeError(f"an idle round did something: {totals}")
    return elapsed


def prepare(due: int, size: int) -> tuple[list[int], float, int]:
    """Migrate, open the K due clocks through the services, bulk-load ``size``
    running clocks that are not due. Returns the due ids, load time, running count."""
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from casecenter import law
    from casecenter.accounts.models import Organisation, OrganisationKind, Role, User
    from casecenter.cases.services import accept_case
    from casecenter.supervision import services
    from casecenter.supervision.models import Deadline

    call_command("migrate", verbosity=0)
    org = Organisation.objects.create(
        code="bench", kind=OrganisationKind.POLICE_STATION, name="基准派出所"
    )
    officer = User.objects.create(username="bench", role=Role.CASE_OFFICER, organisation=org)
    cases = [
        accept_case(officer, kind="criminal", category="theft", title=f"基准案件{i}")
        for i in range(CASES)
    ]
    with transaction.atomic():  # due an hour ago: each will warn and breach
        trigger = timezone.now() - timedelta(hours=25)
        due_ids = [
            services.open_deadline(
                officer, "detention.to_house", cases[i % CASES], trigger_at=trigger
            ).pk
            for i in range(due)
        ]
    rules = sorted(code for code, spec in law.RULES.items() if spec.clocked)
    loaded = load(1, size, rules, [c.pk for c in cases])
    return due_ids, loaded, Deadline.objects.filter(state="running").count()


def measure(due: int, rounds: int, large: int) -> dict:
    """Runs inside the child process: prepare both databases, then time rounds
    alternately on each (ABBA…), so that drift on a shared machine hits both alike."""
    import django

    django.setup()
    sizes = {SMALL_DB: SMALL, DB_NAME: large}
    due_ids, load_s, running = {}, {}, {}
    for database, size in sizes.items():
        use(database)
        due_ids[database], load_s[database], running[database] = prepare(due, size)

    timed: dict[str, list[float]] = {db: [] for db in sizes}
    idle: dict[str, list[float]] = {db: [] for db in sizes}
    for n in range(rounds + 1):
        for database in list(sizes)[:: 1 if n % 2 else -1]:
            use(database)
            busy = one_round(due_ids[database])
            quiet = idle_round()
            if n:  # the first round warms caches
                timed[database].append(busy)
                idle[database].append(quiet)
    use(DB_NAME)
    rearm(due_ids[DB_NAME])
    plan = sweep_plan()
    small_ms, large_ms = (statistics.median(timed[db]) for db in (SMALL_DB, DB_NAME))
    idle_small, idle_large = (statistics.median(idle[db]) for db in (SMALL_DB, DB_NAME))
    return {
        "sweep_ms_10k": round(small_ms, 2),
        "sweep_ms_1m": round(large_ms, 2),
        "ratio_1m_vs_10k": round(large_ms / small_ms, 3),
        "due_per_round": due,
        "alerts_per_round": 2 * due,
        "idle_round_ms_10k": round(idle_small, 2),
        "idle_round_ms_1m": round(idle_large, 2),
        "idle_ratio_1m_vs_10k": round(idle_large / idle_small, 3),
        "rounds": rounds,
        "running_clocks": {"small": running[SMALL_DB], "large": running[DB_NAME]},
        "load_s": {"small": round(load_s[SMALL_DB], 1), "large": round(load_s[DB_NAME], 1)},
        "sweep_uses_partial_index": "deadline_next_check" in plan,
        "sweep_plan_1m": plan.splitlines(),
    }


# --- the parent ----------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--due", type=int, default=100, help="clocks due per round (K)")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per size")
    parser.add_argument("--large", type=int, default=1_000_000, help="running clocks, large")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT / "src"))
        print(json.dumps(measure(args.due, args.rounds, args.large)))
        return
    create_databases()
    try:
        env = {
            **os.environ,
            "CASECENTER_DATA_DIR": tempfile.mkdtemp(prefix="cc-bench-worker-"),
            "DJANGO_SETTINGS_MODULE": "casecenter.settings",
            "DATABASE_URL": PG_URL.rsplit("/", 1)[0] + f"/{DB_NAME}",
        }
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--due",
                str(args.due),
                "--rounds",
                str(args.rounds),
                "--large",
                str(args.large),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
    finally:
        drop_databases()
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise SystemExit(out.returncode)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps({"benchmark": "worker_sweep", **result}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
