"""The event bus's tests run against a real NATS server with JetStream.

``CASECENTER_TEST_NATS_URL`` (default nats://127.0.0.1:4222, which ``./run
test`` starts); each test gets a stream and subject prefix of its own, deleted
at the end, so runs and pytest-xdist workers never read each other's messages.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest

from casecenter.outbox import bus

NATS_URL = os.environ.get("CASECENTER_TEST_NATS_URL", "nats://127.0.0.1:4222")
SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "events"


def nats_reachable() -> bool:
    address = urlparse(NATS_URL)
    try:
        socket.create_connection((address.hostname, address.port or 4222), timeout=1).close()
    except OSError:
        return False
    return True


@dataclass
class Received:
    subject: str
    msg_id: str
    body: dict
    stream_seq: int


@dataclass
class Stream:
    name: str
    prefix: str

    def read_all(self, expected: int, idle: float = 3.0) -> list[Received]:
        """Every message of the stream, in stream order, through an ordered consumer."""
        return asyncio.run(_read_all(self.name, self.prefix, expected, idle))

    def info(self):  # type: ignore[no-untyped-def]
        return asyncio.run(_stream_info(self.name))


async def _read_all(name: str, prefix: str, expected: int, idle: float) -> list[Received]:
    import nats

    nc = await nats.connect(NATS_URL)
    try:
        js = nc.jetstream()
        sub = await js.subscribe(f"{prefix}.>", stream=name, ordered_consumer=True)
        got: list[Received] = []
        while len(got) < expected:
            try:
                msg = await sub.next_msg(timeout=idle)
            except nats.errors.TimeoutError:
                break
            got.append(
                Received(
                    msg.subject,
                    (msg.headers or {}).get("Nats-Msg-Id", ""),
                    json.loads(msg.data),
                    msg.metadata.sequence.stream,
                )
            )
        await sub.unsubscribe()
        return got
    finally:
        await nc.close()


async def _stream_info(name: str):  # type: ignore[no-untyped-def]
    import nats

    nc = await nats.connect(NATS_URL)
    try:
        return await nc.jetstream().stream_info(name)
    finally:
        await nc.close()


async def _delete_stream(name: str) -> None:
    import nats
    from nats.js.errors import NotFoundError

    nc = await nats.connect(NATS_URL)
    try:
        await nc.jetstream().delete_stream(name)
    except NotFoundError:
        pass
    finally:
        await nc.close()


@pytest.fixture
def nats_stream(settings):
    """Settings pointing the relay at a stream of this test's own; deleted after."""
    if not nats_reachable():
        pytest.skip(
            f"no NATS server at {NATS_URL}: start one with JetStream "
            "(`nats-server -js`, as ./run test does) or set CASECENTER_TEST_NATS_URL"
        )
    tag = uuid.uuid4().hex[:10]
    stream = Stream(name=f"CCTEST_{tag}", prefix=f"cctest{tag}.site")
    settings.CASECENTER_NATS_URL = NATS_URL
    settings.CASECENTER_NATS_STREAM = stream.name
    settings.CASECENTER_NATS_SUBJECT_PREFIX = stream.prefix
    settings.CASECENTER_NATS_DUPLICATE_WINDOW_SECONDS = 600
    try:
        yield stream
    finally:
        bus.disconnect()
        asyncio.run(_delete_stream(stream.name))


@pytest.fixture(scope="session")
def validators():
    """A JSON Schema validator per event type, from docs/events/."""
    from jsonschema import Draft202012Validator

    return {
        path.name.removesuffix(".schema.json"): Draft202012Validator(
            json.loads(path.read_text(encoding="utf-8")),
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        for path in sorted(SCHEMAS.glob("*.schema.json"))
    }
