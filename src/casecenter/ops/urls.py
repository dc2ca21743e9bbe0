"""The operator's endpoints, at the root: ``/healthz``, ``/readyz``, ``/metrics``."""

from django.urls import path

from casecenter.ops import probes, scrape

urlpatterns = [
    path("healthz", probes.healthz, name="healthz"),
    path("readyz", probes.readyz, name="readyz"),
    path("metrics", scrape.metrics, name="metrics"),
]
