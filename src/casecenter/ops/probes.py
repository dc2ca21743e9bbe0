"""``/healthz`` and ``/readyz``: what a load balancer or an orchestrator asks.

``/healthz`` (liveness) answers from the process alone: no database, no
broker, so a database outage does not make every web process look dead and get
restarted. ``/readyz`` (readiness) says whether this process can do its work
now: the database answers ``SELECT 1``, and the MQTT broker
(``CASECENTER_MQTT_URL``) and the event bus (``CASECENTER_NATS_URL``) accept a
TCP connection within ``CASECENTER_READY_TIMEOUT_SECONDS``, each only when it is
configured (an empty setting: not used by this deployment). A TCP connect is
enough to tell "down or unreachable" from "up"; it does not log in.

Both are plain views outside ``/api/``: no login, no session, no personal data,
only the name and outcome of each check. They are not in the API because the
API's contract (``casecenter.apicontract``) is about the application's
resources for clients, documented and versioned in the OpenAPI document, while
probes are the operator's: fixed paths every orchestrator and proxy expects,
answering 503 with the failed checks named, which no API client needs.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

#: the default ports of the URL schemes the probes understand
PORTS = {"mqtt": 1883, "mqtts": 8883, "nats": 4222, "tls": 4222}


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def reachable(urls: str, timeout: float) -> bool:
    """Whether any of the comma-separated ``scheme://host:port`` URLs accepts a TCP
    connection (a NATS cluster is a list of servers; any one is enough)."""
    for url in urls.split(","):
        parts = urlsplit(url.strip())
        try:
            port = parts.port or PORTS.get(parts.scheme)
        except ValueError:
            continue
        if not parts.hostname or not port:
            continue
        try:
            with socket.create_connection((parts.hostname, port), timeout=timeout):
                return True
        except OSError:
            continue
    return False


def readiness() -> dict[str, str]:
    """Each check's outcome: ``ok``, ``failed``, or ``not configured``."""
    timeout = settings.CASECENTER_READY_TIMEOUT_SECONDS
    checks = {"database": "ok" if database_ok() else "failed"}
    for name, setting in (("broker", "CASECENTER_MQTT_URL"), ("event_bus", "CASECENTER_NATS_URL")):
        url = (getattr(settings, setting, "") or "").strip()
        if not url:
            checks[name] = "not configured"
        else:
            checks[name] = "ok" if reachable(url, timeout) else "failed"
    return checks


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when every configured dependency answers, else 503 naming which did not."""
    checks = readiness()
    failed = sorted(name for name, outcome in checks.items() if outcome == "failed")
    body = {"status": "failed" if failed else "ok", "checks": checks}
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=503 if failed else 200)
