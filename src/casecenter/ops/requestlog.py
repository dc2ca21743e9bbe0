"""A request id on every log line of a request, and log lines as JSON.

:class:`RequestIdMiddleware` takes the id a trusted reverse proxy sent in
``X-Request-ID`` (only from an address in ``CASECENTER_TRUSTED_PROXIES``, and
only a short token: a client must not write arbitrary text into our logs), or
makes one (uuid4, hex). It names the id on the response and keeps it in a
context variable for the request: a context variable, not a thread-local,
because under ASGI one thread serves many requests and asgiref copies the
context into the threads that run sync code, so the id follows the request
under ASGI and WSGI alike. It is cleared when the request is finished
(``request_finished``): under WSGI the next request of the thread sets its own,
under ASGI each request runs in its own task and context. :class:`RequestIdFilter`
copies it onto each record.

:class:`JsonFormatter` writes one JSON object per line. The standard library
does it in a few lines; python-json-logger would be one more dependency for
the same (and it is not in the package mirror here).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.core.signals import request_finished

from casecenter.ops.middleware import AroundRequest

HEADER = "X-Request-ID"
#: what a proxy's id may look like (nginx's $request_id, a uuid, a trace id)
_TOKEN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def _incoming_id(request) -> str:
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    remote = request.META.get("REMOTE_ADDR")
    if given and remote in settings.CASECENTER_TRUSTED_PROXIES and _TOKEN.match(given):
        return given
    return uuid.uuid4().hex


class RequestIdMiddleware(AroundRequest):
    """Outermost: every log line of the request, other middlewares' included, has the id."""

    def __init__(self, get_response) -> None:
        super().__init__(get_response)
        request_finished.connect(forget_request_id, dispatch_uid="casecenter.ops.requestlog")

    def before(self, request) -> None:
        request.request_id = _incoming_id(request)
        request_id.set(request.request_id)

    def after(self, request, response, before: None):
        response[HEADER] = request.request_id
        return response


def forget_request_id(**kwargs) -> None:
    """The request is over (its answer sent and closed): later lines of this thread
    are no longer its own. Not at the end of the middleware, because Django writes
    a 4xx/5xx answer's log line ("Not Found: …") after the middlewares returned."""
    request_id.set("-")


class RequestIdFilter(logging.Filter):
    """Puts ``request_id`` on every record ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


#: attributes every LogRecord has; anything else was passed in ``extra=``. Django's
#: ``request`` (the HttpRequest, its path already in the message, after the portal's
#: token filter) and ``server_time`` are left out too.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request",
    "server_time",
}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message,
    request_id, the ``extra=`` fields, and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id.get()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)
