"""Session limits and the forced password change, checked on every request.

Placed after Django's authentication middleware: ``request.user`` is the
session's user (bearer-token API clients have no session and pass through;
their tokens expire on their own, see ``ApiToken.expires_at``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from casecenter.accounts import session_policy
from casecenter.errors import DomainError, PermissionDenied


class SessionExpired(DomainError):
    status = 401


def _api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            why = session_policy.expired(request)
            if why is not None:
                return self._expired(request, why)
            if not session_policy.is_background(request):
                session_policy.note_activity(request)
            if getattr(user, "must_change_password", False):
                request.sign_in_pending = True  # base.html: no menu, no alert count yet
                if not self._exempt(request):
                    return self._change_first(request)
        return self.get_response(request)

    @staticmethod
    def _exempt(request: HttpRequest) -> bool:
        """Where a user who must change the password may still go."""
        allowed = {reverse("account-password"), reverse("logout"), reverse("set_language")}
        # the second factor comes first (accounts.mfa_middleware runs before this)
        allowed |= {reverse("mfa-verify"), reverse("mfa-enrol")}
        with suppress(NoReverseMatch):  # the admin site may be switched off
            allowed.add(reverse("admin:logout"))
        return request.path in allowed or request.path.startswith(settings.STATIC_URL)

    @staticmethod
    def _expired(request: HttpRequest, why: str) -> HttpResponse:
        """End this session only (not the user's others) and send to the login page."""
        from casecenter.accounts.services import note_session_expired

        note_session_expired(request.user, why)
        request.session.flush()
        request.user = AnonymousUser()
        if _api(request):
            error = SessionExpired(
                "auth.session_expired",
                "会话已过期，请重新登录。",
                "Your session has expired: log in again.",
            )
            return JsonResponse(error.as_dict(), status=401)
        if why == "idle":
            text = _("You were logged out after a period without activity. Log in again.")
        else:
            text = _("Your session reached its maximum length. Log in again.")
        messages.warning(request, text)
        login = resolve_url(settings.LOGIN_URL)
        target = f"{login}?{urlencode({'next': request.get_full_path()})}"
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)

    @staticmethod
    def _change_first(request: HttpRequest) -> HttpResponse:
        if _api(request):
            error = PermissionDenied(
                "auth.password_change_required",
                "请先修改密码。",
                "Change your password first.",
            )
            return JsonResponse(error.as_dict(), status=403)
        return redirect("account-password")
