"""The second factor before anything else.

A logged-in user who must pass MFA (:func:`casecenter.accounts.mfa.mfa_needed`)
and whose session is not yet verified by a device (django-otp's
``OTPMiddleware``, installed before this one) reaches only the MFA pages and
logout: every other page leads to the enrolment (no authenticator yet) or to the
code prompt, and the API answers 403 ``auth.mfa_required``. Bearer-token API
requests carry no session and pass; their token was issued only against a code
(``accounts.api.create_token``).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from casecenter.accounts import mfa


class MfaRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        # the sign-in is not over yet: base.html shows no menu and no alert count
        request.sign_in_pending = bool(
            user is not None
            and user.is_authenticated
            and not user.is_verified()
            and mfa.mfa_needed(user)
        )
        if request.sign_in_pending and not self._open_to_everyone(request.path):
            return self._refuse(request, enrolled=mfa.is_enrolled(user))
        return self.get_response(request)

    @staticmethod
    def _open_to_everyone(path: str) -> bool:
        """Pages an unverified session may still reach."""
        open_paths = (
            reverse("logout"),
            reverse("mfa-verify"),
            reverse("mfa-enrol"),
            reverse("set_language"),
            reverse("api:health"),
            reverse("api:create_token"),  # asks for the code itself
        )
        return path in open_paths or path.startswith("/" + settings.STATIC_URL.lstrip("/"))

    @staticmethod
    def _refuse(request: HttpRequest, *, enrolled: bool) -> HttpResponse:
        if request.path.startswith(reverse("api:api-root")):
            return JsonResponse(
                {
                    "code": "auth.mfa_required",
                    "message": "Verify your second factor (TOTP or recovery code) first.",
                    "message_zh": "请先完成多因素认证（动态验证码或恢复码）。",
                    "message_en": "Verify your second factor (TOTP or recovery code) first.",
                },
                status=403,
            )
        target = reverse("mfa-verify" if enrolled else "mfa-enrol")
        return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
