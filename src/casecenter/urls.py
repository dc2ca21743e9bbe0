"""URL map: the web UI, the JSON API under /api/, the admin, language switch, the witness."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from casecenter.api import api


def _admin_site() -> list:
    """The admin site at CASECENTER_ADMIN_PATH, or nowhere when switched off."""
    if not settings.CASECENTER_ADMIN_ENABLED:
        return []
    return [path(settings.CASECENTER_ADMIN_PATH, admin.site.urls)]


urlpatterns = [
    path("api/", api.urls),
    *_admin_site(),
    path("account/mfa/", include("casecenter.accounts.mfa_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # C2SP tlog-witness for other organisations' audit logs (docs/witness.md)
    path("witness/", include("casecenter.audit.urls")),
    # the operator's: /healthz, /readyz, /metrics (casecenter.ops, docs/operations.md)
    path("", include("casecenter.ops.urls")),
    path("", include("casecenter.web.urls")),
]

handler400 = "casecenter.web.views.error_400"
handler404 = "casecenter.web.views.error_404"
handler500 = "casecenter.web.views.error_500"
