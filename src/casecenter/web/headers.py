"""Response headers no page should be without (docs/security.md, browser hardening).

Django's SecurityMiddleware sets HSTS (over HTTPS), ``nosniff``, the
Referrer-Policy and the Cross-Origin-Opener-Policy, and django-csp the
Content-Security-Policy; this middleware adds the two they do not:

- ``Cache-Control: no-store`` on every answer that may carry personal data —
  every response to a logged-in user, and every response under ``/api/``,
  ``/p/`` (the public progress pages) and ``/admin/`` whoever asks — so no
  browser, shared computer or proxy keeps a copy of a case. Static files are
  left cacheable: they hold no data.
- ``Permissions-Policy`` (``CASECENTER_PERMISSIONS_POLICY``): camera,
  microphone and location are refused to every page, none needs them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

#: paths whose answers may carry personal data whoever asks
PRIVATE_PREFIXES = ("/api/", "/p/", "/admin/")


def carries_personal_data(request: HttpRequest) -> bool:
    """Whether the answer to ``request`` may hold personal data (and so is never stored)."""
    path = request.path_info
    static = "/" + settings.STATIC_URL.lstrip("/")
    if path.startswith(static):
        return False
    if path.startswith(PRIVATE_PREFIXES):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class PrivateResponseMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.permissions = getattr(settings, "CASECENTER_PERMISSIONS_POLICY", "")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.permissions:
            response.headers.setdefault("Permissions-Policy", self.permissions)
        if carries_personal_data(request):
            add_never_cache_headers(response)
        return response
