"""``/metrics``: the Prometheus text format, for the operator's networks only.

The client's address is the connection's, or a trusted proxy's word for it
(``accounts.lockout.client_address``, the login lockout's rule), and must lie
in ``CASECENTER_METRICS_ALLOWED_NETWORKS``; anyone else gets 403. The answer
is this process's metrics (or, with ``PROMETHEUS_MULTIPROC_DIR``, every
process's on this machine, added up) and the gauges :class:`DatabaseCollector`
reads from the database at scrape time.
"""

from __future__ import annotations

import ipaddress
import logging
import os

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from casecenter.accounts.lockout import client_address

log = logging.getLogger(__name__)


def allowed(request: HttpRequest) -> bool:
    address = client_address(request)
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    return any(ip in ipaddress.ip_network(n) for n in settings.CASECENTER_METRICS_ALLOWED_NETWORKS)


def _age(then, now) -> float:
    return max(0.0, (now - then).total_seconds()) if then else 0.0


class DatabaseCollector:
    """Gauges the database answers at scrape time, each with one cheap query:
    the outbox's and the audit queue's counts walk their partial indexes
    (``outbox_pending``, ``audit_queue``, which hold only the waiting rows), the
    oldest waiting row is the first of that index, the newest device event is
    the last of the primary key. The same for every process, so computed once
    per scrape whatever the number of processes."""

    def collect(self):
        from casecenter.audit.models import AuditEntry
        from casecenter.custody.models import DeviceEvent
        from casecenter.outbox.models import OutboxEvent

        up = GaugeMetricFamily(
            "casecenter_metrics_database_up", "Whether the database answered this scrape's queries."
        )
        try:
            now = timezone.now()
            pending = OutboxEvent.objects.filter(relayed_at__isnull=True)
            waiting = AuditEntry.objects.filter(seq__isnull=True)
            oldest_event = pending.order_by("id").values_list("created_at", flat=True).first()
            oldest_entry = waiting.order_by("id").values_list("at", flat=True).first()
            newest = (
                DeviceEvent.objects.order_by("-id")
                .values("id", "device_time", "received_at")
                .first()
            )
            families = [
                _gauge(
                    "casecenter_outbox_pending_events",
                    "Outbox events not yet relayed.",
                    pending.count(),
                ),
                _gauge(
                    "casecenter_outbox_oldest_pending_age_seconds",
                    "Age of the oldest outbox event not yet relayed (0: none).",
                    _age(oldest_event, now),
                ),
                _gauge(
                    "casecenter_audit_waiting_entries",
                    "Audit entries written but not yet sequenced into the log.",
                    waiting.count(),
                ),
                _gauge(
                    "casecenter_audit_oldest_waiting_age_seconds",
                    "Age of the oldest audit entry waiting for the sequencer (0: none).",
                    _age(oldest_entry, now),
                ),
            ]
            stored = CounterMetricFamily(
                "casecenter_ingest_events_stored",
                "Device events stored, all ingesters and the HTTP endpoint together "
                "(the highest id: rate() of it is the ingest rate).",
            )
            stored.add_metric([], newest["id"] if newest else 0)
            families.append(stored)
            families.append(
                _gauge(
                    "casecenter_ingest_newest_event_lag_seconds",
                    "The newest stored device event: from its device time to its arrival.",
                    _age(newest["device_time"], newest["received_at"]) if newest else 0.0,
                )
            )
            families.append(
                _gauge(
                    "casecenter_ingest_newest_event_age_seconds",
                    "How long ago the newest stored device event arrived (0: none yet).",
                    _age(newest["received_at"], now) if newest else 0.0,
                )
            )
        except DatabaseError:
            log.warning("metrics: the database did not answer", exc_info=True)
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        return [up, *families]


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation)
    family.add_metric([], value)
    return family


_database = CollectorRegistry(auto_describe=False)
_database.register(DatabaseCollector())


def _process_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        return HttpResponseForbidden(
            "metrics are for the operator's networks\n", content_type="text/plain"
        )
    body = generate_latest(_process_registry()) + generate_latest(_database)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
