"""A relay killed with SIGKILL at random moments loses nothing and reorders nothing.

10,000 outbox events; ``casecenter outbox relay`` runs in a child process on the
test database itself (file SQLite or the PostgreSQL test database, so the test
commits for real) and is killed several times mid-stream, then two are left to finish together.
A JetStream consumer then reads the whole stream: after de-duplication by
event id every event is there exactly once, and each aggregate's events come
in the order they were written.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict

import pytest
from django.db import transaction

from casecenter.outbox.models import OutboxEvent
from tests.supervision.test_worker_process import CASECENTER, database_url

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = 10_000
KILLS = 8
AGGREGATES = 50


def write_events() -> list[OutboxEvent]:
    """Events of 50 incidents and 50 alerts, interleaved, each valid for its schema."""
    rows = []
    for i in range(EVENTS):
        n = i % AGGREGATES
        if i % 4 == 0:
            rows.append(
                OutboxEvent(
                    topic="incident.registered", payload={"incident_id": n, "number": f"J{i}"}
                )
            )
        elif i % 4 == 1:
            rows.append(OutboxEvent(topic="incident.closed", payload={"incident_id": n}))
        elif i % 4 == 2:
            rows.append(OutboxEvent(topic="alert.escalated", payload={"alert_id": n, "level": i}))
        else:
            rows.append(OutboxEvent(topic="alert.resolved", payload={"alert_id": n}))
    with transaction.atomic():
        OutboxEvent.objects.bulk_create(rows, batch_size=1000)
    return list(OutboxEvent.objects.order_by("id"))


def aggregate_of(topic: str, data: dict) -> tuple[str, int]:
    kind = topic.split(".")[0]
    return kind, data[f"{kind}_id"]


def relayed() -> int:
    return OutboxEvent.objects.filter(relayed_at__isnull=False).count()


def test_a_relay_killed_at_random_moments_delivers_every_event_once_in_order(
    nats_stream, settings, tmp_path, validators
):
    events = write_events()
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "PYTHONUNBUFFERED": "1",
        "CASECENTER_NATS_URL": settings.CASECENTER_NATS_URL,
        "CASECENTER_NATS_STREAM": nats_stream.name,
        "CASECENTER_NATS_SUBJECT_PREFIX": nats_stream.prefix,
        "CASECENTER_NATS_DUPLICATE_WINDOW_SECONDS": "600",
    }
    command = [str(CASECENTER)] if CASECENTER.exists() else [sys.executable, "-m", "casecenter.cli"]
    command += ["outbox", "-v", "2", "relay", "--interval", "0.02", "--batch", "200"]
    logs, progress_at_kill = [], []

    def start() -> subprocess.Popen[bytes]:
        log = tmp_path / f"relay-{len(logs)}.log"
        logs.append(log)
        with log.open("wb") as out:
            return subprocess.Popen(command, env=env, stdout=out, stderr=out)

    for _ in range(KILLS):
        before = relayed()
        if before == EVENTS:
            break
        child = start()
        try:
            deadline = time.monotonic() + 60
            while relayed() == before and child.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            assert child.poll() is None, logs[-1].read_text()
            time.sleep(rng.uniform(0, 0.1))  # somewhere in the next batches
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
        progress_at_kill.append(relayed())

    finishers = [start(), start()]  # two at once: they take turns, the order holds
    try:
        deadline = time.monotonic() + 180
        while relayed() < EVENTS and time.monotonic() < deadline:
            for child in finishers:
                assert child.poll() is None, logs[-1].read_text()
            time.sleep(0.05)
    finally:
        for child in finishers:
            child.send_signal(signal.SIGTERM)
        for child in finishers:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=10)
    assert relayed() == EVENTS, logs[-1].read_text()

    received = nats_stream.read_all(expected=EVENTS + 1)
    resent = sum(
        int(n) for log in logs for n in re.findall(r"batch=\d+ duplicates=(\d+)", log.read_text())
    )
    print(
        f"\nseed {seed}: killed at {progress_at_kill} of {EVENTS} relayed; "
        f"{len(received)} messages in the stream; a restarted relay re-sent {resent} "
        "events its killed predecessor had published, which JetStream dropped"
    )
    assert len(progress_at_kill) >= 3, "the relay finished before it was killed often enough"

    seen: dict[str, int] = defaultdict(int)
    for message in received:
        seen[message.msg_id] += 1
    assert sorted(seen) == sorted(f"{nats_stream.prefix}:{e.pk}" for e in events)  # none missing
    assert set(seen.values()) == {1}  # each exactly once (JetStream dropped the re-sends)
    assert nats_stream.info().state.messages == EVENTS

    written: dict[tuple[str, int], list[int]] = defaultdict(list)
    for e in events:
        written[aggregate_of(e.topic, e.payload)].append(e.pk)
    delivered: dict[tuple[str, int], list[int]] = defaultdict(list)
    for message in received:
        body = message.body
        delivered[aggregate_of(body["type"], body["data"])].append(body["outboxseq"])
    assert delivered == written  # per aggregate: in the order written
    assert [m.body["outboxseq"] for m in received] == [e.pk for e in events]  # and overall
    for message in received[:: EVENTS // 100]:
        validators[message.body["type"]].validate(message.body)
