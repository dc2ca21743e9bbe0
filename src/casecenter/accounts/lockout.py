"""The hooks django-axes calls: who is logging in, from where, how long a lockout
lasts, and what a locked-out client is told.

django-axes counts failed logins per account and per client address (each on
its own, ``AXES_LOCKOUT_PARAMETERS``) and refuses every login, the right
password included, once either reaches ``CASECENTER_LOCKOUT_FAILURES``. The
lockout lasts ``CASECENTER_LOCKOUT_MINUTES`` the first time and doubles at each
new lockout of the same account or address within :data:`MEMORY`, up to
``CASECENTER_LOCKOUT_MAX_HOURS`` (the :class:`~casecenter.accounts.models.Lockout`
rows remember them).
"""

from __future__ import annotations

import ipaddress
import json
import math
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from casecenter.accounts.models import Lockout

#: how long a lockout counts towards the length of the next one
MEMORY = timedelta(days=7)


def client_address(request: HttpRequest) -> str | None:
    """The client's address: the connection's, or a trusted proxy's word for it.

    ``X-Forwarded-For`` is believed only when the connection comes from an
    address named in ``CASECENTER_TRUSTED_PROXIES``; then the right-most entry
    that is not itself a trusted proxy is the client (entries further left were
    written by the client and prove nothing).
    """
    remote = request.META.get("REMOTE_ADDR") or None
    trusted = set(settings.CASECENTER_TRUSTED_PROXIES)
    if not trusted or remote not in trusted:
        return remote
    chain = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for address in reversed(chain):
        if address and address not in trusted:
            try:
                return str(ipaddress.ip_address(address))
            except ValueError:
                return remote  # a proxy that forwards garbage: fall back to the connection
    return remote


def login_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The username a login attempt names (form field, API body or credentials).

    Remembered on the request, because axes asks for the cool-off with the
    request alone (:func:`cool_off`).
    """
    name = None
    if credentials:
        name = credentials.get("username")
    if not name:
        name = request.POST.get("username")
    if name:
        request.casecenter_login_username = str(name)[:150]
    return name


def _request_username(request: HttpRequest) -> str | None:
    name = getattr(request, "casecenter_login_username", None)
    if name:
        return name
    if request.content_type == "application/json" and request.body:
        try:
            body = json.loads(request.body)
        except ValueError:
            return None
        if isinstance(body, dict) and isinstance(body.get("username"), str):
            return body["username"][:150]
    return request.POST.get("username")


def base_cool_off() -> timedelta:
    return timedelta(minutes=settings.CASECENTER_LOCKOUT_MINUTES)


def grown_cool_off(earlier_lockouts: int) -> timedelta:
    """The length of a lockout after ``earlier_lockouts`` recent ones: doubled each time."""
    cap = timedelta(hours=settings.CASECENTER_LOCKOUT_MAX_HOURS)
    return min(base_cool_off() * (2 ** min(earlier_lockouts, 30)), cap)


def recent_lockouts(username: str | None, ip_address: str | None) -> int:
    """How many lockouts are remembered of this account, or of this address: the larger."""
    since = timezone.now() - MEMORY
    rows = Lockout.objects.filter(locked_at__gte=since, unlocked_at__isnull=True)
    counts = [0]
    if username:
        counts.append(rows.filter(kind=Lockout.Kind.ACCOUNT, username=username).count())
    if ip_address:
        counts.append(rows.filter(kind=Lockout.Kind.ADDRESS, ip_address=ip_address).count())
    return max(counts)


def cool_off(request: HttpRequest | None = None) -> timedelta:
    """``AXES_COOLOFF_TIME``: how long failures count and a lockout lasts.

    The newest lockout of the account or address sets it: with ``n`` lockouts
    remembered it is the base doubled ``n - 1`` times (the one in force counts).
    """
    if request is None:
        return base_cool_off()
    username = _request_username(request)
    address = getattr(request, "axes_ip_address", None) or client_address(request)
    earlier = recent_lockouts(username, address)
    return grown_cool_off(max(earlier - 1, 0))


def retry_after(request: HttpRequest, username: str | None) -> int:
    """Seconds until the lockouts in force for this account or address end (at least 1)."""
    address = getattr(request, "axes_ip_address", None)
    now = timezone.now()
    which = Q(kind=Lockout.Kind.ACCOUNT, username=username or "\0")
    if address:
        which |= Q(kind=Lockout.Kind.ADDRESS, ip_address=address)
    ends = [
        row.locked_at + row.duration
        for row in Lockout.objects.filter(
            which, unlocked_at__isnull=True, locked_at__gte=now - MEMORY
        )
    ]
    end = max(ends, default=now + cool_off(request))
    return max(1, math.ceil((end - now).total_seconds()))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: 429 with Retry-After; JSON for the API, a page for people."""
    from casecenter.errors import DomainError

    username = login_username(request, credentials) or _request_username(request)
    seconds = retry_after(request, username)
    minutes = max(1, math.ceil(seconds / 60))
    if request.path.startswith("/api/"):
        error = DomainError(
            "auth.locked_out",
            f"登录失败次数过多，已锁定。请 {minutes} 分钟后再试，或请管理员解锁。",
            f"Too many failed logins: locked. Try again in {minutes} minutes "
            "or ask an administrator to unlock.",
            retry_after=seconds,
        )
        response: HttpResponse = JsonResponse(error.as_dict(), status=429)
    else:
        response = render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(seconds)
    return response
