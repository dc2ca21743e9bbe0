"""The outbox's events on NATS JetStream (事件总线), for other systems to subscribe.

The relay (``supervision.worker.relay_outbox``) hands each batch of outbox rows
to :func:`publish` *inside* its transaction and marks the rows relayed only
after JetStream has acknowledged every message of the batch. A relay killed
between the acks and the commit publishes the batch again on restart; each
message carries its event id as ``Nats-Msg-Id``, so JetStream drops the
re-sends within the stream's duplicate window (docs/events.md).

nats-py is asyncio; the relay is synchronous. One event loop runs in a daemon
thread of its own and keeps one connection for the life of the process; the
relay submits a batch to it and waits. A connection per batch
(``asyncio.run`` each time) costs a TCP and JetStream handshake every batch —
measured in docs/events.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from casecenter.outbox.models import OutboxEvent

log = logging.getLogger(__name__)

ACK_TIMEOUT = 10.0  # seconds for JetStream to acknowledge a whole batch


def enabled() -> bool:
    return bool(settings.CASECENTER_NATS_URL)


def prefix() -> str:
    return settings.CASECENTER_NATS_SUBJECT_PREFIX.strip(".")


def subject_for(topic: str) -> str:
    """``<prefix>.<aggregate>.<event>``: the outbox topic is ``<aggregate>.<event>``."""
    return f"{prefix()}.{topic}"


def event_id(event: OutboxEvent) -> str:
    """Unique across sites sharing a stream: the site's prefix and the outbox row."""
    return f"{prefix()}:{event.pk}"


def envelope(event: OutboxEvent) -> dict:
    """The message body: a CloudEvents 1.0 structured event (JSON).

    ``outboxseq`` is the outbox row's number: it grows in the order the relay
    publishes, so a consumer can check its own order.
    """
    return {
        "specversion": "1.0",
        "id": event_id(event),
        "source": prefix(),
        "type": event.topic,
        "time": event.created_at.isoformat(),
        "datacontenttype": "application/json",
        "outboxseq": event.pk,
        "data": event.payload,
    }


@dataclass(frozen=True)
class Message:
    subject: str
    msg_id: str
    body: bytes


def message_for(event: OutboxEvent) -> Message:
    body = json.dumps(envelope(event), separators=(",", ":"), ensure_ascii=False)
    return Message(subject_for(event.topic), event_id(event), body.encode())


def stream_config() -> dict:
    return {
        "name": settings.CASECENTER_NATS_STREAM,
        "subjects": [f"{prefix()}.>"],
        "retention": settings.CASECENTER_NATS_RETENTION,
        "max_age": settings.CASECENTER_NATS_MAX_AGE_DAYS * 86400,
        "duplicate_window": settings.CASECENTER_NATS_DUPLICATE_WINDOW_SECONDS,
        "storage": "file",
    }


class Publisher:
    """One NATS connection on an event loop in a thread of its own."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="nats-publisher", daemon=True
        )
        self._thread.start()
        self._nc = None
        self._js = None
        try:
            self._call(self._connect(), timeout=30)
        except BaseException:
            self.close()
            raise

    def _call(self, coroutine, timeout: float):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _connect(self) -> None:
        import nats
        from nats.js.api import RetentionPolicy, StorageType, StreamConfig
        from nats.js.errors import NotFoundError

        async def error(e: Exception) -> None:  # nats-py prints a traceback otherwise
            log.warning("NATS at %s: %s", self.url, e)

        self._nc = await nats.connect(
            [u.strip() for u in self.url.split(",") if u.strip()],
            connect_timeout=2,
            max_reconnect_attempts=3,
            name="casecenter-outbox",
            error_cb=error,
        )
        self._js = self._nc.jetstream(timeout=ACK_TIMEOUT)
        wanted = stream_config()
        config = StreamConfig(
            name=wanted["name"],
            subjects=wanted["subjects"],
            retention=RetentionPolicy(wanted["retention"]),
            max_age=wanted["max_age"],
            duplicate_window=wanted["duplicate_window"],
            storage=StorageType(wanted["storage"]),
        )
        try:
            info = await self._js.stream_info(config.name)
        except NotFoundError:
            await self._js.add_stream(config)
            log.info("created JetStream stream %s for %s", config.name, config.subjects)
            return
        # keep subjects other sites added to a shared stream
        subjects = sorted({*(info.config.subjects or []), *config.subjects})
        config.subjects = subjects
        await self._js.update_stream(config)

    async def _publish(self, messages: list[Message]) -> int:
        futures = []
        for m in messages:  # sent in order on one connection: stored in order
            futures.append(
                await self._js.publish_async(m.subject, m.body, headers={"Nats-Msg-Id": m.msg_id})
            )
        acks = await asyncio.wait_for(asyncio.gather(*futures), ACK_TIMEOUT)
        return sum(1 for a in acks if a.duplicate)

    def publish(self, messages: list[Message]) -> int:
        """Publish in order and wait for every ack; the number JetStream had already."""
        if not messages:
            return 0
        return self._call(self._publish(messages), timeout=ACK_TIMEOUT + 5)

    def close(self) -> None:
        if self._nc is not None:
            try:
                self._call(self._nc.close(), timeout=5)
            except Exception:  # noqa: BLE001 - closing a broken connection
                log.debug("closing the NATS connection failed", exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()


_publisher: Publisher | None = None
_lock = threading.Lock()
#: what this process published, and how many of those JetStream already had
counts = {"published": 0, "duplicates": 0}


def publish(events: Iterable[OutboxEvent]) -> int:
    """Publish ``events`` (in the order given) and wait for JetStream's acks.

    Raises on any failure, so the caller's transaction rolls back and the batch
    is published again next round; the broken connection is dropped and the next
    call connects afresh (and creates or updates the stream).
    """
    global _publisher
    messages = [message_for(e) for e in events]
    with _lock:
        if _publisher is None or _publisher.url != settings.CASECENTER_NATS_URL:
            if _publisher is not None:
                _publisher.close()
                _publisher = None
            _publisher = Publisher(settings.CASECENTER_NATS_URL)
        try:
            duplicates = _publisher.publish(messages)
        except BaseException:
            _publisher.close()
            _publisher = None
            raise
    counts["published"] += len(messages)
    counts["duplicates"] += duplicates
    return duplicates


def connect() -> None:
    """Connect and create or update the stream now (the relay calls it on start)."""
    publish([])


def disconnect() -> None:
    global _publisher
    with _lock:
        if _publisher is not None:
            _publisher.close()
            _publisher = None
