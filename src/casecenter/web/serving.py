"""The ASGI application as ``casecenter serve`` runs it: Django's, plus the lifespan
hook that ends the live streams when the server is told to stop.

uvicorn answers SIGTERM (and Ctrl-C) by refusing new connections and waiting for
the open ones to finish, up to its graceful-shutdown timeout. An alert stream
never finishes by itself, so at start-up (ASGI lifespan) this module chains
``live.stop_streams`` in front of the server's own signal handler: every stream
ends at its next poll, in-flight requests finish, and the process exits well
inside the timeout. The browsers reconnect with ``Last-Event-ID``.
"""

from __future__ import annotations

import os
import signal
import warnings
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casecenter.settings")
django_application = get_asgi_application()

from casecenter.supervision import live  # noqa: E402 - needs Django set up

# WhiteNoise answers with a file iterator, which Django's ASGI handler reads in a
# thread (the largest static file, compressed, is about 1 MB) and warns about at
# every static file. The alert stream is asynchronous (live.alert_events_async).
warnings.filterwarnings(
    "ignore", message="StreamingHttpResponse must consume synchronous iterators"
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


def _chain_stop_signals() -> None:
    """Put ``live.stop_streams`` in front of the handlers the server installed."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue

        def handler(signum, frame, previous=previous):
            live.stop_streams()
            previous(signum, frame)

        signal.signal(sig, handler)


async def application(
    scope: Scope,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    if scope["type"] != "lifespan":
        await django_application(scope, receive, send)
        return
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            _chain_stop_signals()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            live.stop_streams()
            await send({"type": "lifespan.shutdown.complete"})
            return
