"""The MFA pages, under /account/mfa/."""

from django.urls import path

from casecenter.accounts import mfa_views

urlpatterns = [
    path("", mfa_views.enrol, name="mfa-enrol"),
    path("verify/", mfa_views.verify, name="mfa-verify"),
    path("reset/", mfa_views.reset, name="mfa-reset"),
]
