"""The audit log's figures on PostgreSQL: writes, concurrency, integration delay, verify.

    .venv/bin/python bench/audit.py [--entries 1000000] [--writes 2000] [--seconds 5]

1. ``write``: entries written through ``record()`` (one transaction each, as a
   service writes them) against a raw INSERT of the same rows (one transaction
   each, same connection): ``record_vs_raw``.
2. ``concurrency``: record() throughput of 8 writer processes against 1, for
   ``--seconds`` each (``eight_vs_one``). No lock is shared, so the writers
   wait only for their own commits.
3. ``integration``: four writers at 250 entries/s each with ``casecenter audit
   sequence`` running; the delay from an entry's time to the signed checkpoint
   that first covers it (p50, p99, max).
4. ``verify``: ``casecenter audit verify`` of ``--entries`` entries, wall time of
   the whole command (start-up included), against the start-up alone
   (``casecenter audit tail -n 1``) and a raw scan of the same leaves by psycopg.

Each run makes a throw-away database; nothing here touches the demo's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, child_env, percentile, pg_url, reset_postgres, run_child

PG_NAME = "casecenter_bench_audit"
CASECENTER = str(Path(sys.executable).with_name("casecenter"))


def _setup() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def child_migrate() -> dict:
    _setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return {}


def child_write(count: int) -> dict:
    """record() in its own transaction ``count`` times, then the same rows by raw INSERT."""
    _setup()
    from django.db import connection, transaction

    from casecenter.audit.models import AuditEntry
    from casecenter.audit.services import record

    def one(n: int) -> None:
        with transaction.atomic():
            record(None, "bench.write", reason="基准", data={"n": n, "fields": ["phone"]})

    for n in range(100):  # warm-up
        one(n)
    started = time.perf_counter()
    for n in range(count):
        one(n)
    record_s = time.perf_counter() - started

    rows = list(
        AuditEntry.objects.filter(action="bench.write")
        .order_by("id")
        .values_list("leaf", "leaf_hash")[:count]
    )
    table = AuditEntry._meta.db_table
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for leaf, digest in rows:
            with transaction.atomic():
                cursor.execute(
                    f'INSERT INTO "{table}" (leaf, leaf_hash) VALUES (%s, %s)',  # noqa: S608
                    [leaf, digest],
                )
    raw_s = time.perf_counter() - started
    return {
        "writes": count,
        "record_per_s": round(count / record_s, 1),
        "raw_insert_per_s": round(count / raw_s, 1),
        "record_vs_raw": round(raw_s / record_s, 3),
    }


def child_hammer(seconds: float, rate: float) -> dict:
    """record() as fast as possible (or at ``rate`` per second) for ``seconds``."""
    _setup()
    from django.db import transaction

    from casecenter.audit.services import record

    done = 0
    started = time.perf_counter()
    stop = started + seconds
    while (now := time.perf_counter()) < stop:
        if rate and done > (now - started) * rate:
            time.sleep(0.001)
            continue
        with transaction.atomic():
            record(None, "bench.hammer", data={"n": done})
        done += 1
    return {"writes": done, "seconds": time.perf_counter() - started}


def _hammer_processes(env: dict, processes: int, seconds: float, rate: float = 0) -> float:
    children = [
        subprocess.Popen(  # noqa: S603 - this script
            [sys.executable, __file__, "--child", "hammer", str(seconds), str(rate)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    total = 0.0
    for child in children:
        out, _ = child.communicate(timeout=seconds + 120)
        result = json.loads(out.strip().splitlines()[-1])
        total += result["writes"] / result["seconds"]
    return total


def child_delays() -> dict:
    """Per entry of the integration run: checkpoint time minus entry time, seconds."""
    _setup()
    from casecenter.audit.models import AuditCheckpoint, AuditEntry

    checkpoints = list(AuditCheckpoint.objects.order_by("size").values_list("size", "made_at"))
    entries = AuditEntry.objects.filter(action="bench.hammer", seq__isnull=False).order_by("seq")
    delays, k = [], 0
    for seq, at in entries.values_list("seq", "at").iterator(chunk_size=10_000):
        while checkpoints[k][0] <= seq:
            k += 1
        delays.append((checkpoints[k][1] - at).total_seconds())
    waiting = AuditEntry.objects.filter(seq__isnull=True).count()
    return {
        "entries": len(delays),
        "still_waiting": waiting,
        "delay_p50_s": round(percentile(delays, 0.5), 3),
        "delay_p99_s": round(percentile(delays, 0.99), 3),
        "delay_max_s": round(max(delays), 3),
    }


def child_fill(count: int) -> dict:
    """``count`` entries, made in SQL (fast), then sequenced and signed by the sequencer."""
    _setup()
    from django.db import connection

    from casecenter.audit import sequencer
    from casecenter.audit.models import AuditEntry

    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO "{table}" (leaf, leaf_hash)
            SELECT leaf, sha256('\\x00'::bytea || convert_to(leaf, 'UTF8')) FROM (
              SELECT '{{"action":"case.read_personal","actor_id":' || (g %% 50) ||
                ',"actor_name":"警官' || (g %% 50) || '","at":"' ||
                to_char(now() AT TIME ZONE 'UTC' - (g || ' ms')::interval,
                        'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') ||
                '","data":{{"fields":["id_number","phone"],"n":' || g ||
                '}},"object_id":"' || (g %% 9000) || '","object_type":"cases.case",' ||
                '"reason":"办案需要","v":2}}' AS leaf
              FROM generate_series(1, %s) AS g) AS made""",  # noqa: S608
            [count],
        )
    started = time.perf_counter()
    placed = sequencer.integrate_all(batch=20_000)
    return {"entries": placed, "sequence_s": round(time.perf_counter() - started, 1)}


def child_raw_scan(count: int) -> dict:
    """Fetch the leaves and hashes verify reads, without hashing: the floor of a verify."""
    _setup()
    from django.db import connection, transaction

    from casecenter.audit.models import AuditEntry

    table = AuditEntry._meta.db_table
    started = time.perf_counter()
    rows = 0
    with transaction.atomic(), connection.connection.cursor(name="scan", binary=True) as cursor:
        cursor.itersize = 65_536
        cursor.execute(
            f"SELECT '\\x00'::bytea || convert_to(leaf, 'UTF8'), leaf_hash "  # noqa: S608
            f'FROM "{table}" WHERE seq IS NOT NULL AND seq < %s ORDER BY seq',
            [count],
        )
        while batch := cursor.fetchmany(65_536):
            rows += len(batch)
    return {"rows": rows, "scan_s": time.perf_counter() - started}


def _timed(command: list[str], env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    return time.perf_counter() - started, (out.stdout + out.stderr).strip()


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        step, args = sys.argv[2], sys.argv[3:]
        functions = {
            "migrate": lambda: child_migrate(),
            "write": lambda: child_write(int(args[0])),
            "hammer": lambda: child_hammer(float(args[0]), float(args[1])),
            "delays": lambda: child_delays(),
            "fill": lambda: child_fill(int(args[0])),
            "raw_scan": lambda: child_raw_scan(int(args[0])),
        }
        print(json.dumps(functions[step]()))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--skip", nargs="*", default=[], help="parts to skip")
    args = parser.parse_args()

    results: dict = {}
    data_dir = tempfile.mkdtemp(prefix="cc-bench-audit-")
    env = child_env("postgres", data_dir, PG_NAME)
    script = __file__

    reset_postgres(PG_NAME)
    run_child(script, env, "migrate")
    if "write" not in args.skip:
        results["write"] = run_child(script, env, "write", args.writes)
    if "concurrency" not in args.skip:
        one = _hammer_processes(env, 1, args.seconds)
        eight = _hammer_processes(env, 8, args.seconds)
        results["concurrency"] = {
            "one_writer_per_s": round(one, 1),
            "eight_writers_per_s": round(eight, 1),
            "eight_vs_one": round(eight / one, 2),
        }
    if "integration" not in args.skip:
        reset_postgres(PG_NAME)
        run_child(script, env, "migrate")
        sequencer = subprocess.Popen(  # noqa: S603 - our own CLI
            [CASECENTER, "audit", "sequence"], env=env, stderr=subprocess.DEVNULL
        )
        try:
            rate = _hammer_processes(env, 4, args.seconds, rate=250)
            time.sleep(2)
        finally:
            sequencer.terminate()
            sequencer.wait(30)
        results["integration"] = {"rate_per_s": round(rate, 1), **run_child(script, env, "delays")}
    if "verify" not in args.skip:
        reset_postgres(PG_NAME)
        run_child(script, env, "migrate")
        fill = run_child(script, env, "fill", args.entries)
        os.sync()
        startup_s, _ = _timed([CASECENTER, "audit", "tail", "-n", "1"], env)
        scan = run_child(script, env, "raw_scan", args.entries)
        verify_s, said = _timed([CASECENTER, "audit", "verify"], env)
        results["verify"] = {
            "entries": fill["entries"],
            "sequence_s": fill["sequence_s"],
            "verify_s": round(verify_s, 2),
            "startup_s": round(startup_s, 2),
            "raw_scan_s": round(scan["scan_s"], 2),
            "verify_vs_raw_scan_plus_startup": round(verify_s / (scan["scan_s"] + startup_s), 2),
            "said": said.splitlines()[-1][:120] if said else "",
        }
    print(json.dumps({"benchmark": "audit", "database": pg_url(PG_NAME), **results}, indent=2))


if __name__ == "__main__":
    main()
