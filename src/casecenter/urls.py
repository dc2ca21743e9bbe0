"""URL map: the web UI, the JSON API under /api/, the admin, language switch."""

from django.contrib import admin
from django.urls import include, path

from casecenter.api import api

urlpatterns = [
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("casecenter.web.urls")),
]

handler404 = "casecenter.web.views.error_404"
handler500 = "casecenter.web.views.error_500"
