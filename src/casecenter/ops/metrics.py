"""The Prometheus metrics each process keeps (prometheus-client).

These count what happens in one process: requests it served, SSE streams it
holds open, device events its ingester applied, sweeps its worker ran. With
several processes, run them with ``PROMETHEUS_MULTIPROC_DIR`` set to one
empty folder per machine (cleared at start): prometheus-client then keeps
each process's values in files there, and ``/metrics`` adds them up
(``casecenter.ops.scrape``). What the database knows (outbox and sequencer
lag, stored device events) is computed at scrape time, not kept here.

Labels stay few: the route *pattern* (``cases/<int:pk>/``, never the path with
its ids or a portal link's token), the method, the status class (``2xx``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram

HTTP_SECONDS = Histogram(
    "casecenter_http_request_duration_seconds",
    "Time from the request reaching Django to its response (headers, for a stream).",
    ["route", "method", "status"],
)
SSE_STREAMS = Gauge(
    "casecenter_sse_streams_open",
    "Alert streams (Server-Sent Events) being served now.",
    multiprocess_mode="livesum",
)
INGEST_EVENTS = Counter(
    "casecenter_ingest_events",
    "Device events the MQTT ingester handled, by outcome.",
    ["outcome"],
)
INGEST_LAG = Histogram(
    "casecenter_ingest_lag_seconds",
    "From a device event's own time to the commit that applied it (ingester).",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, float("inf")),
)
WORKER_RUN_SECONDS = Histogram(
    "casecenter_worker_run_seconds",
    "One worker round: due clocks swept, alerts escalated, the outbox relayed.",
)

#: the methods kept as a label value; anything else is counted as "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    HTTP_SECONDS.labels(
        route=route, method=method if method in METHODS else "other", status=f"{status // 100}xx"
    ).observe(seconds)


def record_ingest(
    device_times: Iterable[datetime],
    applied_at: datetime,
    *,
    new: int,
    duplicates: int,
    refused: int,
) -> None:
    """One committed ingest batch: its outcomes, and each event's lag behind its device."""
    INGEST_EVENTS.labels(outcome="new").inc(new)
    INGEST_EVENTS.labels(outcome="duplicate").inc(duplicates)
    INGEST_EVENTS.labels(outcome="refused").inc(refused)
    for at in device_times:
        INGEST_LAG.observe(max(0.0, (applied_at - at).total_seconds()))
