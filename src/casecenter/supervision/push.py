"""Live push of alerts on PostgreSQL: a notification at commit, one listener per web process.

Writing side: every change of an alert (raised, escalated, acknowledged,
resolved, reopened) is announced with ``NOTIFY casecenter_alerts`` inside the
transaction that makes it (``announce``). PostgreSQL delivers a notification
when, and only when, its transaction commits, to every session listening on
the channel: every web process of every node learns of the change at once, and
a rolled-back change is never announced.

Reading side: each web process under ``casecenter serve`` holds one ``Hub`` on
its event loop: one listening connection (not from the pool: LISTEN needs a
session of its own, so through PgBouncer set ``CASECENTER_LIVE_LISTEN_URL`` to
the server itself), and the open streams of the process (``Subscriber``). On a
notification the hub asks the database once per changed alert who of the
streaming users sees it (``selectors.alert_viewers``), builds each frame once
per language, and queues it on those users' streams; then it recounts the open
alerts of the users the change touched. No stream queries the database between
changes: 500 open pages cost nothing while nothing happens.

Only alerts announce: a notification takes a lock at commit that serialises the
committing transactions that notify (PostgreSQL's notification queue), which is
cheap for alerts and would not be for every write.

If the listening connection drops, the hub reconnects and catches up on the
alerts raised meanwhile (ids above the highest it saw) and recounts. On SQLite
(no notifications) and under ``CASECENTER_LIVE_PUSH=poll`` the streams poll
instead (``live``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
from django.conf import settings
from django.db import close_old_connections, connection, connections
from django.db.models import Max
from django.utils import translation

from casecenter.accounts.models import User
from casecenter.supervision.models import Alert, AlertState

log = logging.getLogger(__name__)

CHANNEL = "casecenter_alerts"
#: changes after which the alert is pushed to the people it is (newly) addressed to
PUSHED = frozenset({"raised", "reopened", "escalated"})
#: alert ids in one notification
ANNOUNCED_AT_ONCE = 400
#: the shortest time between two recounts of the open alerts (a count may lag this much)
COUNT_SECONDS = 0.5
#: how long the hub waits before connecting again after losing its connection
RECONNECT_SECONDS = 1.0


def enabled() -> bool:
    """Streams are fed by notifications: PostgreSQL, unless the operator chose polling."""
    mode = getattr(settings, "CASECENTER_LIVE_PUSH", "") or "notify"
    return mode == "notify" and connection.vendor == "postgresql"


def announce(alert_ids: Iterable[int], change: str) -> None:
    """Tell the web processes about ``change`` of these alerts when the caller's
    transaction commits (PostgreSQL); nothing on SQLite, whose streams poll."""
    if connection.vendor != "postgresql":
        return
    ids = sorted(set(alert_ids))
    with connection.cursor() as cursor:
        for start in range(0, len(ids), ANNOUNCED_AT_ONCE):  # a payload holds < 8,000 bytes
            some = ids[start : start + ANNOUNCED_AT_ONCE]
            payload = json.dumps({"alerts": some, "change": change})
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, payload])


@dataclass(eq=False)
class Subscriber:
    """One open stream: whose, from where, what it has sent, and its frames to send."""

    user: User
    after: int
    english: bool
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    sent: set[int] = field(default_factory=set)
    cursor: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.cursor = self.after

    def take(self, alert_id: int) -> int | None:
        """Mark ``alert_id`` sent; its frame's ``id:`` (the highest sent), or None
        if this stream sent it already (by its resume, or by an earlier change)."""
        with self.lock:
            if alert_id in self.sent:
                return None
            self.sent.add(alert_id)
            self.cursor = max(self.cursor, alert_id)
            return self.cursor


class Hub:
    """The listener of one web process and the streams it feeds (see the module)."""

    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.changes: asyncio.Queue[dict] = asyncio.Queue()
        self.listening = asyncio.Event()
        self.highest = 0  # the highest alert id this hub knows of
        self.tasks: list[asyncio.Task] = []
        self.recount: set[int] = set()  # users whose open-alert count changed
        self.recount_wanted = asyncio.Event()
        # the hub's queries run on a thread of their own, with its own connection;
        # the counts on another, so recounting many users never holds an alert back
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="alert-push")
        self.count_executor = ThreadPoolExecutor(1, thread_name_prefix="alert-count")

    def start(self) -> None:
        if self.tasks:
            return
        self.loop = asyncio.get_running_loop()
        self.tasks = [
            self.loop.create_task(self._listen(), name="alert-push-listen"),
            self.loop.create_task(self._deliver(), name="alert-push-deliver"),
            self.loop.create_task(self._count(), name="alert-push-count"),
        ]

    def subscribe(self, subscriber: Subscriber) -> None:
        self.start()
        self.subscribers.add(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    async def _run(self, work, *args, executor: ThreadPoolExecutor | None = None):
        assert self.loop is not None
        return await self.loop.run_in_executor(
            executor or self.executor, _on_own_connection, work, *args
        )

    async def _listen(self) -> None:
        first = True
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    listen_conninfo(), autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    if first:
                        self.highest = await self._run(_highest_alert)
                    else:  # what was raised while the hub was not listening
                        self.changes.put_nowait({"catch_up": True})
                    first = False
                    self.listening.set()
                    async for note in conn.notifies():
                        change = _parsed(note.payload)
                        if change is not None:
                            self.changes.put_nowait(change)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database restarted, the network dropped: reconnect
                log.warning("alert push: listening connection lost; reconnecting", exc_info=True)
            self.listening.clear()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _deliver(self) -> None:
        while True:
            batch = [await self.changes.get()]
            while not self.changes.empty():
                batch.append(self.changes.get_nowait())
            try:
                await self._deliver_batch(batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("alert push: a batch of %d changes not delivered", len(batch))

    async def _deliver_batch(self, batch: list[dict]) -> None:
        subscribers = list(self.subscribers)
        changes: dict[int, set[str]] = defaultdict(set)
        catch_up = any(c.get("catch_up") for c in batch)
        for change in batch:
            for alert_id in change.get("alerts", ()):
                if isinstance(alert_id, int):
                    changes[alert_id].add(str(change.get("change", "")))
        if catch_up:
            for alert_id in await self._run(_raised_after, self.highest):
                changes[alert_id].add("raised")
        if not changes and not catch_up:
            return
        frames, touched, found = await self._run(_frames, dict(changes), subscribers)
        # the highest id the database holds, not the highest a notification named:
        # a forged notification must not move the catch-up's starting point
        self.highest = max(self.highest, found)
        for subscriber, chunk in frames:
            subscriber.queue.put_nowait(chunk)
        if catch_up:
            touched = {s.user.pk for s in subscribers}
        if touched:
            self.recount |= touched
            self.recount_wanted.set()

    async def _count(self) -> None:
        """Recount the open alerts of the users changes touched, all that are
        waiting at once, at most every ``COUNT_SECONDS``: under a flood of alerts
        a count lags a little, never an alert."""
        while True:
            await self.recount_wanted.wait()
            self.recount_wanted.clear()
            users, self.recount = self.recount, set()
            subscribers = [s for s in self.subscribers if s.user.pk in users]
            try:
                counted = await self._run(_counts, subscribers, executor=self.count_executor)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("alert push: the open alerts of %d users not recounted", len(users))
                continue
            for subscriber, chunk in counted:
                subscriber.queue.put_nowait(chunk)
            # at most one round a COUNT_SECONDS: under a flood the changes meanwhile
            # are counted together, and the alerts keep the database and the CPU
            await asyncio.sleep(COUNT_SECONDS)


def _parsed(payload: str) -> dict | None:
    """A notification's change, or None (logged) if it is not one of ours: anyone
    who can connect may NOTIFY, so a payload is only a hint to look in the database."""
    try:
        change = json.loads(payload)
    except ValueError:
        change = None
    if not isinstance(change, dict) or not isinstance(change.get("alerts"), list):
        log.warning("alert push: a notification that is not an alert change ignored")
        return None
    return change


def listen_conninfo() -> str:
    """Where the hub listens: ``CASECENTER_LIVE_LISTEN_URL``, else the default database."""
    url = getattr(settings, "CASECENTER_LIVE_LISTEN_URL", "")
    if url:
        return url
    db = connections["default"].settings_dict
    options = {
        k: v
        for k, v in (db.get("OPTIONS") or {}).items()
        if k in {"sslmode", "sslrootcert", "sslcert", "sslkey", "passfile", "service"}
    }
    params = {
        "dbname": db.get("NAME"),
        "user": db.get("USER"),
        "password": db.get("PASSWORD"),
        "host": db.get("HOST"),
        "port": db.get("PORT"),
        "application_name": "casecenter-alert-push",
        **options,
    }
    return psycopg.conninfo.make_conninfo("", **{k: v for k, v in params.items() if v})


# --- the hub's queries (on its own thread) -------------------------------------------


def _on_own_connection(work, *args):
    """Run ``work`` on the hub's thread, giving the connection back to the pool after."""
    try:
        return work(*args)
    finally:
        close_old_connections()


def _highest_alert() -> int:
    return Alert.objects.aggregate(last=Max("id"))["last"] or 0


def _raised_after(alert_id: int) -> list[int]:
    return list(Alert.objects.filter(pk__gt=alert_id).values_list("pk", flat=True)[:500])


def _frames(
    changes: dict[int, set[str]], subscribers: list[Subscriber]
) -> tuple[list[tuple[Subscriber, str]], set[int], int]:
    """The alert frames of these changes for these streams, the users whose
    open-alert count the changes touched, and the highest changed alert id found."""
    from casecenter.supervision import live
    from casecenter.supervision.selectors import alert_viewers

    streams: dict[int, list[Subscriber]] = defaultdict(list)
    for subscriber in subscribers:
        streams[subscriber.user.pk].append(subscriber)
    out: list[tuple[Subscriber, str]] = []
    touched: set[int] = set()
    alerts = Alert.objects.filter(pk__in=changes).select_related("case", "deadline", "organisation")
    found = 0
    for alert in alerts.order_by("pk"):
        found = alert.pk
        if not streams:
            continue
        viewers = set(alert_viewers(alert).filter(pk__in=streams).values_list("pk", flat=True))
        touched |= viewers
        kinds = changes[alert.pk]
        if alert.state != AlertState.OPEN or not kinds & PUSHED:
            continue
        if kinds & {"raised", "reopened"}:
            told = viewers
        else:  # escalated: the people its newest rung tells
            rung = alert.audience.filter(level=alert.level)
            told = set(
                alert_viewers(alert, audience=rung)
                .filter(pk__in=streams)
                .values_list("pk", flat=True)
            )
        payloads: dict[bool, dict] = {}
        for user_id in told:
            for subscriber in streams[user_id]:
                event_id = subscriber.take(alert.pk)
                if event_id is None:
                    continue
                english = subscriber.english
                if english not in payloads:
                    with translation.override("en" if english else "zh-hans"):
                        payloads[english] = live.alert_payload(alert, english=english)
                out.append((subscriber, live.frame("alert", payloads[english], event_id)))
    return out, touched, found


def _counts(subscribers: list[Subscriber]) -> list[tuple[Subscriber, str]]:
    """A count frame for each of these streams: one query per user."""
    from casecenter.supervision import live
    from casecenter.supervision.selectors import open_alert_count

    counted: dict[int, str] = {}
    out = []
    for subscriber in subscribers:
        user = subscriber.user
        if user.pk not in counted:
            counted[user.pk] = live.frame("count", {"open": open_alert_count(user)})
        out.append((subscriber, counted[user.pk]))
    return out


_hub: Hub | None = None


def wake_all() -> None:
    """Wake every stream of this process (the server is stopping: ``live.stop_streams``);
    safe from a signal handler or another thread."""
    if _hub is None or _hub.loop is None:
        return
    for subscriber in list(_hub.subscribers):
        _hub.loop.call_soon_threadsafe(subscriber.queue.put_nowait, "")


def hub() -> Hub:
    """The hub of this process (made on the first stream, on the server's loop)."""
    global _hub
    if _hub is None:
        _hub = Hub()
    return _hub
