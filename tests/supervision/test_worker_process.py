"""Real ``casecenter worker`` processes: killed with SIGKILL mid-work, and two at once.

The children run against the test database itself (a file on SQLite, the
``test_…`` database on PostgreSQL), so these tests commit for real
(``transaction=True``). Every child is killed in ``finally``; every wait has
a timeout.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from casecenter.audit.models import AuditEntry
from casecenter.audit.verify import verify_log
from casecenter.outbox.models import OutboxEvent
from casecenter.supervision import services, worker
from casecenter.supervision.models import Alert, Deadline, DeadlineState, Rule

pytestmark = pytest.mark.django_db(transaction=True)

CASECENTER = Path(sys.executable).with_name("casecenter")
DAY_LONG_RULES = [  # 24-hour clocks
    "detention.to_house",
    "detention.notify_family",
    "detention.interrogate",
    "arrest.notify_family",
    "property.hand_over",
]
ROUND_TIMEOUT = 120  # seconds for a worker to finish the whole job


def database_url() -> str:
    """The test database, as a DATABASE_URL a child process can use."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        if connection.is_in_memory_db():
            pytest.skip(
                "the test database is in memory, which a worker process cannot share: "
                "set CASECENTER_TEST_SQLITE to a file"
            )
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    if connection.vendor != "postgresql":
        pytest.skip(f"no worker process test for {connection.vendor}")
    user = quote(s.get("USER") or "", safe="")
    password = quote(s.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = s.get("HOST") or "localhost"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(s['NAME'], safe='')}"


@pytest.fixture
def start_worker(tmp_path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """``start_worker(*options)`` runs ``casecenter worker --interval 0.05 …``; all are
    killed at the end.

    Output goes to files, not pipes: a child never blocks on a full pipe.
    """
    env = {**os.environ, "DATABASE_URL": database_url(), "PYTHONUNBUFFERED": "1"}
    command = [str(CASECENTER)] if CASECENTER.exists() else [sys.executable, "-m", "casecenter.cli"]
    children: list[subprocess.Popen[bytes]] = []

    def start(*options: str) -> subprocess.Popen[bytes]:
        log = tmp_path / f"worker-{len(children)}.log"
        with log.open("wb") as out:
            child = subprocess.Popen(
                [*command, "worker", "--interval", "0.05", *options],
                env=env,
                stdout=out,
                stderr=out,
            )
        child.log = log  # type: ignore[attr-defined]
        children.append(child)
        return child

    try:
        yield start
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=10)


def output(child: subprocess.Popen[bytes]) -> str:
    return child.log.read_text(errors="replace")  # type: ignore[attr-defined]


def open_clocks(case, count: int, *, due_in: timedelta) -> list[int]:
    """``count`` clocks of hour rules through the service, all due ``due_in`` from now."""
    trigger = timezone.now() + due_in - timedelta(hours=24)
    with transaction.atomic():
        clocks = [
            services.open_deadline(
                None, DAY_LONG_RULES[i % len(DAY_LONG_RULES)], case, trigger_at=trigger
            )
            for i in range(count)
        ]
    assert all(c is not None and c.due_at == trigger + timedelta(hours=24) for c in clocks)
    return [c.pk for c in clocks if c is not None]


def running(ids: list[int]) -> int:
    return Deadline.objects.filter(pk__in=ids, state=DeadlineState.RUNNING).count()


def alerts(ids: list[int]) -> int:
    return Alert.objects.filter(deadline_id__in=ids).count()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    stop = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > stop:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def other_sessions() -> int:
    """Sessions on the test database besides this test's own (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return 0  # SQLite: a dead process holds nothing, and had nothing in flight
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
        )
        return cursor.fetchone()[0]


def stop(child: subprocess.Popen[bytes]) -> str:
    """SIGTERM: the worker ends its round and exits 0. Returns what it printed."""
    child.send_signal(signal.SIGTERM)
    child.wait(timeout=30)
    assert child.returncode == 0, output(child)
    return output(child)


def assert_one_warning_and_one_breach_each(ids: list[int]) -> None:
    rows = Alert.objects.filter(deadline_id__in=ids)
    per_clock_and_kind = rows.values("deadline_id", "kind").annotate(n=Count("id"))

    assert rows.count() == 2 * len(ids)  # nothing lost
    assert rows.values("key").distinct().count() == rows.count()  # nothing twice
    assert {(r["deadline_id"], r["kind"]) for r in per_clock_and_kind} == {
        (pk, kind) for pk in ids for kind in (Alert.Kind.WARNING, Alert.Kind.BREACH)
    }
    assert {r["n"] for r in per_clock_and_kind} == {1}
    assert Deadline.objects.filter(pk__in=ids, state=DeadlineState.BREACHED).count() == len(ids)
    # the alerts' audit entries and outbox events committed with them, once each
    alert_ids = {str(pk) for pk in rows.values_list("pk", flat=True)}
    raised = AuditEntry.objects.filter(action="alert.raised").values_list("object_id", flat=True)
    assert sorted(raised) == sorted(alert_ids)
    events = OutboxEvent.objects.filter(topic="alert.raised").values_list("payload", flat=True)
    assert sorted(str(p["alert_id"]) for p in events) == sorted(alert_ids)


def test_a_worker_killed_at_random_moments_loses_no_alert_and_raises_none_twice(
    make_case, start_worker
):
    clocks = open_clocks(make_case(), 1000, due_in=-timedelta(hours=1))
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    interrupted = 0

    for kill in range(4):
        if running(clocks) == 0:
            break
        before = alerts(clocks)
        child = start_worker()
        if kill == 0:
            time.sleep(rng.uniform(0.2, 2.0))  # during start-up, or anywhere in the first batch
        else:  # once it has committed a batch: somewhere in the next one
            wait_until(
                lambda before=before, child=child: (
                    alerts(clocks) > before or child.poll() is not None
                ),
                ROUND_TIMEOUT,
                f"the worker's first batch (seed {seed})",
            )
            time.sleep(rng.uniform(0, 0.5))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        assert child.returncode == -signal.SIGKILL, f"seed {seed}: {output(child)}"
        # its server session ends too: a COMMIT it sent just before dying lands now
        wait_until(lambda: other_sessions() == 0, 30, "the killed worker's session to end")
        left = running(clocks)
        # a batch is all or nothing: whole clocks, each with both alerts or none
        assert alerts(clocks) == 2 * (len(clocks) - left), f"seed {seed}"
        interrupted += left > 0

    assert interrupted >= 1, f"every kill came after the work was done (seed {seed})"
    last = start_worker("--once")  # one whole round: everything due, then exit
    last.wait(timeout=ROUND_TIMEOUT)
    assert last.returncode == 0, output(last)
    assert running(clocks) == 0

    assert worker.run_once() == {
        "warning": 0,
        "breach": 0,
        "timer": 0,
        "escalated": 0,
        "relayed": 0,
    }
    assert_one_warning_and_one_breach_each(clocks)
    assert verify_log().ok


TOTALS = re.compile(r"(warning|breach)=(\d+)")


def did(output: str) -> Counter[str]:
    """What a worker reported doing, summed over its rounds."""
    done: Counter[str] = Counter()
    for kind, n in TOTALS.findall(output):
        done[kind] += int(n)
    return done


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="several workers share the work on PostgreSQL (SKIP LOCKED); SQLite has one writer",
)
def test_two_workers_at_once_share_the_clocks_and_raise_each_alert_once(make_case, start_worker):
    case = make_case()
    # the workers start first; the clocks warn 8 s and fall due 12 s from now, so
    # both moments come when both workers are up and polling
    first, second = start_worker(), start_worker()
    Rule.objects.filter(code__in=DAY_LONG_RULES).update(warn_before=timedelta(seconds=4))
    clocks = open_clocks(case, 600, due_in=timedelta(seconds=12))

    wait_until(lambda: running(clocks) == 0, 12 + ROUND_TIMEOUT, "both workers")
    outputs = [stop(first), stop(second)]

    assert_one_warning_and_one_breach_each(clocks)
    shares = [did(out) for out in outputs]
    # each clock was taken by exactly one worker at each moment …
    assert sum(s["warning"] for s in shares) == len(clocks)
    assert sum(s["breach"] for s in shares) == len(clocks)
    # … and both took some
    assert all(s["warning"] + s["breach"] > 0 for s in shares), shares
    assert verify_log().ok
