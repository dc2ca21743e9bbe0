"""Live push of alerts to the browser (F6.2): one Server-Sent Events stream per page.

The worker raises alerts in another process, so the stream asks the database
about once a second for alerts the user may see (``visible_alerts``) above the
last id it sent — a primary-key range over the newest rows, cheap at any size.
This is the embedded default: no broker. Under ``casecenter serve`` (ASGI) a
stream is ``alert_events_async``, which waits on the event loop between polls; under a
WSGI server or the test client it is ``alert_events``, one thread per open page.
A stream ends after ``STREAM_SECONDS``, and at once when the server shuts down
(``stop_streams``): the browser's EventSource reconnects by itself and sends
``Last-Event-ID``, so nothing is missed and nothing is held forever.

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

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from casecenter.accounts.models import User
from casecenter.supervision import push, subjects
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
#: How long a pushed stream waits for its process to listen before it polls instead.
LISTEN_WAIT_SECONDS = 10.0
#: What EventSource waits before reconnecting (milliseconds).
RETRY_MS = 3000
#: Alerts older than this are not pushed on a resume: they are on the alerts page.
RESUME_WINDOW = timedelta(minutes=15)
#: Alerts sent per poll, and per stream before it ends early (the client resumes).
BATCH = 50
MAX_EVENTS = 500

_open = 0
_open_lock = threading.Lock()
_stopping = threading.Event()


def open_streams() -> int:
    """How many streams are being served right now by this process."""
    return _open


def latest_alert_id() -> int:
    """Where a stream with nothing to resume from starts: after every alert so far."""
    return Alert.objects.aggregate(last=Max("id"))["last"] or 0


def opening(after: int) -> str:
    """A stream's first frame: how long to wait before reconnecting, and where it
    starts. The ``id:`` makes the browser's next ``Last-Event-ID`` this stream's
    starting point even if no alert comes before the connection drops: alerts
    raised while it reconnects are then found, not skipped by a fresh start."""
    return f"retry: {RETRY_MS}\nid: {after}\n\n"


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


class _Stream:
    """What one stream has sent so far, and the frames of its next poll."""

    def __init__(
        self,
        user: User,
        *,
        after: int,
        english: bool,
        take: Callable[[int], int | None] | None = None,
    ) -> None:
        self.user, self.after, self.english = user, after, english
        self.started = time.monotonic()
        self.sent: set[int] = set()
        self.cursor = after
        self.counted_at, self.beat_at = -1e9, time.monotonic()
        self.take = take or self._take

    def _take(self, alert_id: int) -> int | None:
        """Mark an alert sent; the frame's ``id:`` (the highest id sent)."""
        self.sent.add(alert_id)
        self.cursor = max(self.cursor, alert_id)
        return self.cursor

    def poll(self) -> list[str]:
        now = time.monotonic()
        frames = []
        fresh = list(
            visible_alerts(self.user)
            .filter(pk__gt=self.after, raised_at__gte=timezone.now() - RESUME_WINDOW)
            .exclude(pk__in=self.sent)
            .select_related("case", "deadline")
            .order_by("pk")[:BATCH]
        )
        for alert in fresh:
            event_id = self.take(alert.pk)
            if event_id is not None:  # None: the hub pushed it already
                payload = alert_payload(alert, english=self.english)
                frames.append(frame("alert", payload, event_id))
        if fresh or now - self.counted_at >= COUNT_SECONDS:
            frames.append(frame("count", {"open": open_alert_count(self.user)}))
            self.counted_at = now
        if now - self.beat_at >= HEARTBEAT_SECONDS:
            frames.append(": keep-alive\n\n")
            self.beat_at = now
        return frames

    @property
    def done(self) -> bool:
        """Long enough, sent enough, or the server is shutting down (``stop_streams``)."""
        return (
            time.monotonic() - self.started >= STREAM_SECONDS
            or len(self.sent) >= MAX_EVENTS
            or _stopping.is_set()
        )


def stop_streams() -> None:
    """End every stream of this process at its next poll: the server is shutting down.

    ``casecenter serve`` calls this on SIGTERM, so a graceful shutdown does not
    wait for ``STREAM_SECONDS``; the browsers reconnect (to another node, or to
    this one once it is back) with ``Last-Event-ID`` and miss nothing.
    """
    _stopping.set()
    push.wake_all()


def alert_events(user: User, *, after: int, english: bool) -> Iterator[str]:
    """The frames of one stream for ``user``, starting after alert id ``after``
    (a thread per stream: WSGI, ``runserver`` and the test client)."""
    global _open
    with _open_lock:
        _open += 1
    try:
        yield opening(after)
        stream = _Stream(user, after=after, english=english)
        while True:
            yield from stream.poll()
            if stream.done:
                return
            time.sleep(POLL_SECONDS)
    finally:
        with _open_lock:
            _open -= 1


async def alert_events_async(user: User, *, after: int, english: bool) -> AsyncIterator[str]:
    """The same frames for an ASGI server (``casecenter serve``): fed by
    notifications on PostgreSQL (``push``), else polling without holding a thread.

    Django's ASGI handler would read a synchronous iterator to its end before
    sending a byte, which for a stream is never."""
    pushed = await sync_to_async(push.enabled)()
    events = (
        _pushed(user, after=after, english=english)
        if pushed
        else _polled(user, after=after, english=english)
    )
    async for chunk in events:
        yield chunk


async def _polled(user: User, *, after: int, english: bool) -> AsyncIterator[str]:
    """Poll: between polls the stream waits on the event loop; each poll's queries
    run on the request's own thread (``sync_to_async``, thread-sensitive), which
    gives its connection back after each poll and is idle in between."""
    global _open
    with _open_lock:
        _open += 1
    try:
        await sync_to_async(close_old_connections)()  # as in _pushed
        yield opening(after)
        async for chunk in _polls(user, after=after, english=english):
            yield chunk
    finally:
        with _open_lock:
            _open -= 1


async def _polls(user: User, *, after: int, english: bool) -> AsyncIterator[str]:
    stream = _Stream(user, after=after, english=english)
    poll = sync_to_async(_released(stream.poll))
    while True:
        for chunk in await poll():
            yield chunk
        if stream.done:
            return
        await asyncio.sleep(POLL_SECONDS)


async def _pushed(user: User, *, after: int, english: bool) -> AsyncIterator[str]:
    """Push: the stream is on the process's hub before it looks back, so an alert
    committed meanwhile is queued, not lost; it looks back once (what came after
    ``after``: a reconnection's ``Last-Event-ID``), then only sends what the hub
    queues and a keep-alive now and then. It never queries the database itself."""
    global _open
    with _open_lock:
        _open += 1
    hub = push.hub()
    subscriber = push.Subscriber(user=user, after=after, english=english)
    hub.subscribe(subscriber)
    started = time.monotonic()
    try:
        # the connection the request's middleware used goes back now: hundreds of
        # pages opening at once must not wait for the listener holding the pool
        await sync_to_async(close_old_connections)()
        yield opening(after)
        # look back only once the process listens: what commits after the look-back
        # is then announced to it (a process's first stream waits for the listener)
        try:
            async with asyncio.timeout(LISTEN_WAIT_SECONDS):
                await hub.listening.wait()
        except TimeoutError:  # the database takes no listener now: poll meanwhile
            hub.unsubscribe(subscriber)
            async for chunk in _polls(user, after=after, english=english):
                yield chunk
            return
        stream = _Stream(user, after=after, english=english, take=subscriber.take)
        yield "".join(await sync_to_async(_released(stream.poll))())
        while not _stopping.is_set():
            left = STREAM_SECONDS - (time.monotonic() - started)
            if left <= 0 or len(subscriber.sent) >= MAX_EVENTS:
                return
            try:
                async with asyncio.timeout(min(HEARTBEAT_SECONDS, left)):
                    chunk = await subscriber.queue.get()
            except TimeoutError:
                chunk = ": keep-alive\n\n"
            while not subscriber.queue.empty():  # what came meanwhile goes in one write
                chunk += subscriber.queue.get_nowait()
            if chunk:  # "" is stop_streams waking the stream
                yield chunk
    finally:
        hub.unsubscribe(subscriber)
        with _open_lock:
            _open -= 1


def _released(poll):
    """``poll``, then the database connection goes back (to the pool, or closed):
    an open stream must not hold one of a process's few connections."""

    def run() -> list[str]:
        try:
            return poll()
        finally:
            close_old_connections()

    return run
