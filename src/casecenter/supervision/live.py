"""Live push of alerts to the browser (F6.2): one Server-Sent Events stream per page.

The worker raises alerts in another process, so the stream asks the database
about once a second for alerts the user may see (``visible_alerts``) above the
last id it sent — a primary-key range over the newest rows, cheap at any size.
This is the embedded default: no broker, and it works under ``runserver``'s
threaded WSGI server, one thread per open page. That is why a stream ends
after ``STREAM_SECONDS``: the browser's EventSource reconnects by itself and
sends ``Last-Event-ID``, so nothing is missed and no thread is held forever.

Frames sent:

- ``event: alert`` with ``id:`` — ``{"id", "title", "severity", "kind",
  "case", "case_url", "page_label", "url"}``, the title in the user's language;
  ``case_url`` is the page the alert opens (``subjects.alert_page``), called
  ``page_label`` where that is not the case (a custody alert: the stay);
- ``event: count`` — ``{"open": n}``, the open alerts, at once, after alerts,
  and every ``COUNT_SECONDS`` (acknowledging elsewhere lowers it);
- ``: keep-alive`` comments every ``HEARTBEAT_SECONDS``, so proxies keep the
  connection; any write to a closed tab fails, which ends its stream.

Alerts of one worker batch commit together, but two PostgreSQL workers may
commit a higher id before a lower one. Within a stream, every id above the
starting point that was not sent yet is still looked for, so such a late
commit is delivered too; ``id:`` always carries the highest id sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from casecenter.accounts.models import User
from casecenter.supervision import subjects
from casecenter.supervision.models import Alert
from casecenter.supervision.selectors import open_alert_count, visible_alerts

#: How often the stream looks for new alerts (the worker sweeps about as often).
POLL_SECONDS = 1.0
#: How often the open-alert count is sent even when no alert came.
COUNT_SECONDS = 10.0
#: How often a keep-alive comment is sent.
HEARTBEAT_SECONDS = 15.0
#: A stream ends after this long; EventSource reconnects with Last-Event-ID.
STREAM_SECONDS = 600.0
#: What EventSource waits before reconnecting (milliseconds).
RETRY_MS = 3000
#: Alerts older than this are not pushed on a resume: they are on the alerts page.
RESUME_WINDOW = timedelta(minutes=15)
#: Alerts sent per poll, and per stream before it ends early (the client resumes).
BATCH = 50
MAX_EVENTS = 500

_open = 0
_open_lock = threading.Lock()


def open_streams() -> int:
    """How many streams are being served right now by this process."""
    return _open


def latest_alert_id() -> int:
    """Where a stream with nothing to resume from starts: after every alert so far."""
    return Alert.objects.aggregate(last=Max("id"))["last"] or 0


def frame(event: str, data: dict, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"{head}event: {event}\ndata: {body}\n\n"


def alert_payload(alert: Alert, *, english: bool) -> dict:
    page = subjects.alert_page(alert)
    return {
        "id": alert.pk,
        "title": alert.title_en if english else alert.title_zh,
        "severity": alert.severity,
        "kind": alert.kind,
        "case": alert.case.number if alert.case_id else None,
        # the record the alert is about, on a page the people told may open (a
        # custody alert: the stay, which the center's staff may open; a request
        # for help: the specialised unit's request, not the station's case)
        "case_url": page or None,
        "page_label": subjects.label_of(alert.subject),
        "url": reverse("alert-detail", args=[alert.pk]),
    }


def alert_events(user: User, *, after: int, english: bool) -> Iterator[str]:
    """The frames of one stream for ``user``, starting after alert id ``after``."""
    global _open
    with _open_lock:
        _open += 1
    try:
        yield f"retry: {RETRY_MS}\n\n"
        started = time.monotonic()
        sent: set[int] = set()
        cursor = after
        counted_at, beat_at = -1e9, time.monotonic()
        while True:
            now = time.monotonic()
            fresh = list(
                visible_alerts(user)
                .filter(pk__gt=after, raised_at__gte=timezone.now() - RESUME_WINDOW)
                .exclude(pk__in=sent)
                .select_related("case", "deadline")
                .order_by("pk")[:BATCH]
            )
            for alert in fresh:
                sent.add(alert.pk)
                cursor = max(cursor, alert.pk)
                yield frame("alert", alert_payload(alert, english=english), cursor)
            if fresh or now - counted_at >= COUNT_SECONDS:
                yield frame("count", {"open": open_alert_count(user)})
                counted_at = now
            if now - beat_at >= HEARTBEAT_SECONDS:
                yield ": keep-alive\n\n"
                beat_at = now
            if now - started >= STREAM_SECONDS or len(sent) >= MAX_EVENTS:
                return
            time.sleep(POLL_SECONDS)
    finally:
        with _open_lock:
            _open -= 1
