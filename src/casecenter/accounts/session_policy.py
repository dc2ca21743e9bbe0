"""How long a session lives: an idle limit and an absolute one, kept server-side.

The session stores when the user logged in and when they last did something
(seconds since the epoch). :class:`~casecenter.accounts.middleware.SessionPolicyMiddleware`
ends a session past ``CASECENTER_SESSION_IDLE_MINUTES`` without activity or
``CASECENTER_SESSION_MAX_HOURS`` after login. Requests the page makes by itself
(the alert stream, the live map's poll) are not activity: they never refresh
the last-activity time, so an unattended screen still times out.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

LOGIN_AT = "casecenter.login_at"
SEEN_AT = "casecenter.seen_at"
#: the header a page's own background requests carry (``hx-headers``)
BACKGROUND_HEADER = "X-Casecenter-Background"
#: last-activity is written at most this often, not on every request
REFRESH_SECONDS = 30


def start_session(request: HttpRequest) -> None:
    """Stamp a fresh login (called when a user logs in)."""
    session = getattr(request, "session", None)
    if session is None:
        return
    now = int(time.time())
    session[LOGIN_AT] = now
    session[SEEN_AT] = now


def is_background(request: HttpRequest) -> bool:
    """A request the page makes by itself, not the user: the alert stream (an
    EventSource cannot send headers, so it is known by its address) or any
    request carrying :data:`BACKGROUND_HEADER`."""
    if request.headers.get(BACKGROUND_HEADER) == "1":
        return True
    return request.path == reverse("events")


def expired(request: HttpRequest, now: float | None = None) -> str | None:
    """``"idle"`` or ``"absolute"`` when the session is past a limit, else None."""
    session = request.session
    now = time.time() if now is None else now
    login_at = session.get(LOGIN_AT)
    seen_at = session.get(SEEN_AT)
    if login_at is None or seen_at is None:
        # a session from before these limits: it starts counting now
        start_session(request)
        return None
    if now - login_at > settings.CASECENTER_SESSION_MAX_HOURS * 3600:
        return "absolute"
    if now - seen_at > settings.CASECENTER_SESSION_IDLE_MINUTES * 60:
        return "idle"
    return None


def note_activity(request: HttpRequest, now: float | None = None) -> None:
    now = time.time() if now is None else now
    if now - request.session.get(SEEN_AT, 0) >= REFRESH_SECONDS:
        request.session[SEEN_AT] = int(now)
