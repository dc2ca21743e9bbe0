"""/metrics: the operator's networks only, the Prometheus text format, the figures true."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction
from django.http import StreamingHttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from casecenter.audit import services as audit
from casecenter.custody.models import DeviceEvent
from casecenter.custody.tracking import Event
from casecenter.devices import protocol
from casecenter.devices.ingest import Ingester, Message
from casecenter.ops.httpmetrics import RequestMetricsMiddleware
from casecenter.outbox.models import OutboxEvent
from casecenter.outbox.services import emit
from casecenter.supervision.worker import run_once
from tests.devices.conftest import CENTER, build_world

pytestmark = pytest.mark.django_db

OUTCOMES = ("new", "duplicate", "refused")


def scrape(client: Client) -> dict[str, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.content.decode())
        for s in family.samples
    }


def value(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_metrics_are_refused_outside_the_operators_networks(db):
    response = Client(REMOTE_ADDR="203.0.113.7").get("/metrics")
    assert response.status_code == 403
    assert b"casecenter_" not in response.content


def test_metrics_answer_loopback_and_a_configured_network(settings):
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="10.8.0.5").get("/metrics").status_code == 403
    settings.CASECENTER_METRICS_ALLOWED_NETWORKS = ["10.8.0.0/16"]
    assert Client(REMOTE_ADDR="10.8.0.5").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 403


def test_a_forwarded_address_counts_only_from_a_trusted_proxy(settings):
    settings.CASECENTER_METRICS_ALLOWED_NETWORKS = ["10.8.0.0/16"]
    forwarded = {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "10.8.0.5"}
    assert Client(**forwarded).get("/metrics").status_code == 403
    settings.CASECENTER_TRUSTED_PROXIES = ["192.0.2.1"]
    assert Client(**forwarded).get("/metrics").status_code == 200
    spoofed = {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "10.8.0.5, 203.0.113.7"}
    assert Client(**spoofed).get("/metrics").status_code == 403


def test_every_metric_is_named_in_the_answer(client):
    text = client.get("/metrics").content.decode()
    for name in (
        "casecenter_http_request_duration_seconds",
        "casecenter_sse_streams_open",
        "casecenter_outbox_pending_events",
        "casecenter_outbox_oldest_pending_age_seconds",
        "casecenter_audit_waiting_entries",
        "casecenter_audit_oldest_waiting_age_seconds",
        "casecenter_ingest_events_stored_total",
        "casecenter_ingest_newest_event_lag_seconds",
        "casecenter_ingest_newest_event_age_seconds",
        "casecenter_ingest_lag_seconds",
        "casecenter_ingest_events_total",
        "casecenter_worker_run_seconds",
        "casecenter_metrics_database_up",
    ):
        assert f"# TYPE {name} " in text or f"# TYPE {name.removesuffix('_total')} " in text, name


def test_a_request_is_counted_in_the_latency_histogram_by_its_route_pattern(client, officers):
    labels = {"route": "healthz", "method": "GET", "status": "2xx"}
    before = (
        REGISTRY.get_sample_value("casecenter_http_request_duration_seconds_count", labels) or 0
    )
    client.get("/healthz")
    client.get("/healthz")
    samples = scrape(client)
    assert value(samples, "casecenter_http_request_duration_seconds_count", **labels) == before + 2


def test_a_path_with_ids_is_counted_under_its_pattern_not_its_path(client):
    client.get("/no/such/page/12345/")
    samples = scrape(client)
    routes = {dict(k[1]).get("route") for k in samples if k[0].startswith("casecenter_http_")}
    assert "<unmatched>" in routes
    assert not any("12345" in (r or "") for r in routes)


def test_the_sequencer_lag_shows_the_waiting_audit_entries(client):
    before = value(scrape(client), "casecenter_audit_waiting_entries")
    with transaction.atomic():
        for n in range(3):
            audit.record(None, "ops.test", data={"n": n})
    samples = scrape(client)
    assert value(samples, "casecenter_audit_waiting_entries") == before + 3
    assert value(samples, "casecenter_audit_oldest_waiting_age_seconds") >= 0
    assert value(samples, "casecenter_metrics_database_up") == 1


def test_the_outbox_lag_counts_unrelayed_events_and_the_oldest_ones_age(client):
    OutboxEvent.objects.filter(relayed_at__isnull=True).update(relayed_at=timezone.now())
    samples = scrape(client)
    assert value(samples, "casecenter_outbox_pending_events") == 0
    assert value(samples, "casecenter_outbox_oldest_pending_age_seconds") == 0
    with transaction.atomic():
        old = emit("ops.test", n=1)
        emit("ops.test", n=2)
    OutboxEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    samples = scrape(client)
    assert value(samples, "casecenter_outbox_pending_events") == 2
    assert 300 <= value(samples, "casecenter_outbox_oldest_pending_age_seconds") < 400


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_an_open_alert_stream_is_counted_until_it_is_closed(browser_of, officers):
    before = sample("casecenter_sse_streams_open")
    response = browser_of(officers["lead"]).get("/events/")
    assert response["Content-Type"].startswith("text/event-stream")
    first = next(iter(response.streaming_content))
    assert first.startswith(b"retry:")
    assert sample("casecenter_sse_streams_open") == before + 1
    response.close()
    assert sample("casecenter_sse_streams_open") == before


def test_a_worker_round_is_timed(db):
    before = sample("casecenter_worker_run_seconds_count")
    run_once()
    assert sample("casecenter_worker_run_seconds_count") == before + 1


@pytest.fixture
def world(make_case, officers):
    return build_world(make_case(), officers)


def test_the_ingester_counts_its_events_and_their_lag_behind_the_device(world):
    ingester = Ingester("mqtt://127.0.0.1:1883", client_id="ops-metrics-test")  # never connected
    at = timezone.now() - timedelta(seconds=30)

    def message(device: str, seq: int) -> Message:
        event = Event(CENTER, "vitals", device, seq, at, {"hr": 80})
        topic = protocol.topic_for(CENTER, "vitals", device)
        return Message(topic, protocol.encode(event), mid=seq, qos=0, generation=0)

    counts = {o: sample("casecenter_ingest_events_total", outcome=o) for o in OUTCOMES}
    lags = sample("casecenter_ingest_lag_seconds_count")
    lag_sum = sample("casecenter_ingest_lag_seconds_sum")
    ingester.process([message("wb-01", 1), message("wb-77", 1)])  # wb-77: no such wristband
    ingester.process([message("wb-01", 1)])  # delivered again
    assert {
        o: sample("casecenter_ingest_events_total", outcome=o) - counts[o] for o in OUTCOMES
    } == {"new": 1, "duplicate": 1, "refused": 1}
    assert sample("casecenter_ingest_lag_seconds_count") == lags + 2
    assert sample("casecenter_ingest_lag_seconds_sum") - lag_sum >= 60
    samples = scrape(Client())
    assert value(samples, "casecenter_ingest_events_stored_total") == DeviceEvent.objects.get().pk
    assert 29 <= value(samples, "casecenter_ingest_newest_event_lag_seconds") < 120


async def _stream():
    yield b"retry: 3000\n\n"
    yield b"event: count\ndata: {}\n\n"


def test_an_asynchronous_stream_is_counted_too():
    """Under the ASGI server the alert stream is an async iterator."""

    async def view(request):
        return StreamingHttpResponse(_stream(), content_type="text/event-stream")

    async def serve() -> list[float]:
        response = await RequestMetricsMiddleware(view)(RequestFactory().get("/events/"))
        seen = []
        async for _chunk in response.streaming_content:
            seen.append(sample("casecenter_sse_streams_open"))
        seen.append(sample("casecenter_sse_streams_open"))
        return seen

    before = sample("casecenter_sse_streams_open")
    assert async_to_sync(serve)() == [before + 1, before + 1, before]


def test_several_processes_are_added_up_in_multiprocess_mode(tmp_path):
    """PROMETHEUS_MULTIPROC_DIR: each process writes its figures there, /metrics sums them."""
    script = """
import django, os, sys
django.setup()
from django.test import Client
client = Client(HTTP_HOST="localhost")
for _ in range(int(sys.argv[1])):
    client.get("/healthz")
sys.stdout.write(client.get("/metrics").content.decode() if sys.argv[2] == "scrape" else "")
"""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR"}
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "casecenter.settings",
        "CASECENTER_DATA_DIR": str(tmp_path / "data"),  # no tables: the database gauges fail
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
    }

    def run(requests: int, scrape: bool) -> str:
        argv = [sys.executable, "-c", script, str(requests), "scrape" if scrape else "-"]
        return subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout

    run(3, scrape=False)
    text = run(2, scrape=True)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    labels = {"route": "healthz", "method": "GET", "status": "2xx"}
    assert value(samples, "casecenter_http_request_duration_seconds_count", **labels) == 5
    assert value(samples, "casecenter_metrics_database_up") == 0
    assert "casecenter_outbox_pending_events" not in text
