"""Keep the QR link's token out of the logs.

The token in ``/p/t/<token>/`` opens a case's public page by itself, like a
password; a request log line ("GET /p/t/… 302"), a "Not Found: /p/t/…"
warning or a CSRF failure would otherwise write it down for whoever reads the
logs. :class:`HideLinkTokens` is installed (settings.LOGGING) on the loggers
that name request paths — ``django.server``, ``django.request``,
``django.security.csrf`` — and rewrites the path to ``/p/t/[token]/`` before
any handler sees the record.
"""

from __future__ import annotations

import logging
import re

LINK_TOKEN = re.compile(r"/p/t/[^/\s?#\"'<>]+")
HIDDEN = "/p/t/[token]"


def hide_link_tokens(text: str) -> str:
    return LINK_TOKEN.sub(HIDDEN, text)


class HideLinkTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = hide_link_tokens(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True
