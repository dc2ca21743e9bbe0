"""Request latency by route pattern, method and status class, and the open
Server-Sent Events streams (a middleware).

A stream is counted from its first frame until it ends (finished, or closed by
the server when the client went away), whichever view serves it: any streaming
answer of type ``text/event-stream`` is, so the alert stream
(``supervision.live``) needs to know nothing of metrics.
"""

from __future__ import annotations

import time

from casecenter.ops import metrics
from casecenter.ops.middleware import AroundRequest

UNMATCHED = "<unmatched>"


def _counted(content):
    """``content`` (a sync or an async iterator) counted in ``SSE_STREAMS`` while it runs."""
    if hasattr(content, "__aiter__"):

        async def frames():
            metrics.SSE_STREAMS.inc()
            try:
                async for chunk in content:
                    yield chunk
            finally:
                metrics.SSE_STREAMS.dec()
                if hasattr(content, "aclose"):
                    await content.aclose()

        return frames()

    def frames():
        metrics.SSE_STREAMS.inc()
        try:
            yield from content
        finally:
            metrics.SSE_STREAMS.dec()
            if hasattr(content, "close"):
                content.close()

    return frames()


def _route(request) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.route or match.view_name or UNMATCHED) if match else UNMATCHED


class RequestMetricsMiddleware(AroundRequest):
    """Near the outside, so the time includes the other middlewares' work."""

    def before(self, request) -> float:
        return time.perf_counter()

    def after(self, request, response, before: float):
        metrics.observe_request(
            _route(request), request.method, response.status_code, time.perf_counter() - before
        )
        if response.streaming and response.get("Content-Type", "").startswith("text/event-stream"):
            response.streaming_content = _counted(response.streaming_content)
        return response
