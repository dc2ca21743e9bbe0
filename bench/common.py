"""What the benchmarks share: throw-away databases, child processes, a free port,
waiting for a server, percentiles. Imported by the scripts beside it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("PGTEST_URL", "postgres://postgres@127.0.0.1:5432/casecenter")


def pg_url(name: str) -> str:
    """The URL of database ``name`` on the test cluster."""
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def pg_admin(statement: str) -> list:
    """Run one statement in the cluster's ``postgres`` database (autocommit)."""
    import psycopg

    with psycopg.connect(pg_url("postgres"), autocommit=True) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def reset_postgres(name: str) -> None:
    pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    pg_admin(f"CREATE DATABASE {name}")


def child_env(db: str, data_dir: str | Path, pg_name: str) -> dict[str, str]:
    """The environment of a child process on ``db`` ("sqlite" or "postgres")."""
    env = {
        **os.environ,
        "CASECENTER_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "casecenter.settings",
    }
    if db == "postgres":
        env["DATABASE_URL"] = pg_url(pg_name)
    else:
        env.pop("DATABASE_URL", None)
    return env


def run_child(script: str, env: dict, step: str, *args: object, quiet: bool = True) -> dict:
    """Run ``script --child step args…`` and return the JSON of its last output line
    (``quiet=False`` lets the child's stderr through, for progress)."""
    out = subprocess.run(
        [sys.executable, script, "--child", step, *map(str, args)],
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if quiet else None,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(base: str, seconds: float = 30) -> None:
    """Wait until the server at ``base`` answers its health endpoint."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/health", timeout=1)  # noqa: S310 - loopback
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def percentile(values: list[float], p: float) -> float:
    """The ``p`` quantile (0–1) with linear interpolation."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)
