"""The outbox relay to NATS JetStream against the in-process relay alone, as JSON.

    .venv/bin/python bench/outbox_nats.py [--db sqlite|postgres|both] [--events 10000] [--batch 500]

``relay_outbox()`` drains ``--events`` pending outbox rows in batches, once with
``CASECENTER_NATS_URL`` set (each batch published with JetStream acks before
its rows are marked) and once without (subscribers only). ``nats_vs_inprocess``
is the ratio of the two rates. The NATS server is ``CASECENTER_BENCH_NATS_URL``
(default nats://127.0.0.1:4222); a throw-away stream is made and deleted. A
throw-away database per run (a temporary SQLite file, or
``casecenter_bench_outbox`` on PostgreSQL); nothing here touches the demo's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid

from common import ROOT, child_env, reset_postgres, run_child

PG_NAME = "casecenter_bench_outbox"
NATS_URL = os.environ.get("CASECENTER_BENCH_NATS_URL", "nats://127.0.0.1:4222")


def child(events: int, batch: int) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    from casecenter.outbox import bus
    from casecenter.outbox.models import OutboxEvent
    from casecenter.supervision.worker import relay_outbox

    call_command("migrate", verbosity=0)
    tag = uuid.uuid4().hex[:10]
    settings.CASECENTER_NATS_STREAM = f"BENCH_{tag}"
    settings.CASECENTER_NATS_SUBJECT_PREFIX = f"bench{tag}.site"

    def drain(url: str) -> float:
        settings.CASECENTER_NATS_URL = url
        with transaction.atomic():
            OutboxEvent.objects.bulk_create(
                [
                    OutboxEvent(topic="incident.closed", payload={"incident_id": i % 100})
                    for i in range(events)
                ],
                batch_size=1000,
            )
        if url:
            bus.connect()
        start = time.perf_counter()
        done = 0
        while n := relay_outbox(batch):
            done += n
        assert done == events
        return events / (time.perf_counter() - start)

    inprocess = drain("")
    nats = drain(NATS_URL)
    bus.disconnect()

    async def drop() -> None:
        import nats as client

        nc = await client.connect(NATS_URL)
        await nc.jetstream().delete_stream(settings.CASECENTER_NATS_STREAM)
        await nc.close()

    asyncio.run(drop())
    return {
        "events": events,
        "batch": batch,
        "inprocess_per_s": round(inprocess),
        "nats_per_s": round(nats),
        "nats_vs_inprocess": round(nats / inprocess, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--child", nargs="*")
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(int(args.child[1]), int(args.child[2]))))
        return
    results = {}
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        if db == "postgres":
            reset_postgres(PG_NAME)
        env = child_env(db, tempfile.mkdtemp(prefix="cc-bench-outbox-"), PG_NAME)
        results[db] = run_child(__file__, env, "relay", args.events, args.batch)
    print(json.dumps({"benchmark": "outbox_nats", "results": results}, indent=2))


if __name__ == "__main__":
    main()
