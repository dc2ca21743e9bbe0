"""The witness's submission prefix, ``/witness/`` (docs/witness.md)."""

from django.urls import path

from casecenter.audit import views

urlpatterns = [
    path("add-checkpoint", views.add_checkpoint, name="witness-add-checkpoint"),
]
