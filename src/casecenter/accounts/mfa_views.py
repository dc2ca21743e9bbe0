"""The MFA pages: enrol an authenticator, type a code after the password, reset.

Thin: each page parses its form, calls :mod:`casecenter.accounts.mfa` and
renders. The QR code is an SVG image in a ``data:`` URI (no script, no inline
style), the secret is printed beside it for typing in by hand.
"""

from __future__ import annotations

from base64 import b32encode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from casecenter.accounts import mfa
from casecenter.errors import DomainError
from casecenter.web.forms import add_domain_error


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Verification code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )


def _next(request: HttpRequest) -> str:
    """Where to go once verified: the page asked for, if it is one of ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


def _with_query(name: str, request: HttpRequest) -> str:
    query = request.GET.urlencode()
    return reverse(name) + (f"?{query}" if query else "")


def _secret_groups(device) -> str:
    """The base32 secret in groups of four, as authenticator apps accept it typed."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    """Add an authenticator: scan, type its code, keep the recovery codes (shown once).

    Enrolled already: the page says so and offers the reset (which needs a code).
    """
    user = request.user
    if mfa.is_enrolled(user):
        if not user.is_verified():
            return redirect(_with_query("mfa-verify", request))
        return render(
            request,
            "accounts/mfa_status.html",
            {
                "form": CodeForm(),
                "codes_left": mfa.recovery_codes_left(user),
                "required": mfa.mfa_required(user),
            },
        )
    device = mfa.start_enrolment(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enrolment = mfa.confirm_enrolment(user, form.cleaned_data["code"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            otp_login(request, enrolment.device)
            return render(
                request,
                "accounts/mfa_recovery_codes.html",
                {"codes": enrolment.recovery_codes, "next": _next(request)},
            )
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "accounts/mfa_enrol.html",
        {
            "form": form,
            # inline SVG: drawn by segno from our own URI, so safe to embed; no
            # img-src or script needed under the Content-Security-Policy
            "qr": mark_safe(qr.svg_inline(scale=4, dark="#000", light="#fff")),  # noqa: S308
            "secret": _secret_groups(device),
            "required": mfa.mfa_required(user),
            "next": _next(request),
        },
    )


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of the login: a code of the authenticator or a recovery code."""
    user = request.user
    if not mfa.is_enrolled(user):
        return redirect(_with_query("mfa-enrol", request))
    if user.is_verified():
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = mfa.verify_code(user, form.cleaned_data["code"], via="web")
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            otp_login(request, device)
            left = mfa.recovery_codes_left(user)
            if device.persistent_id.startswith("otp_static."):
                messages.warning(
                    request,
                    _(
                        "You used a recovery code: %(left)s left. Reset your "
                        "authenticator on your MFA page if you lost it."
                    )
                    % {"left": left},
                )
            return redirect(_next(request))
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": _next(request)})


@login_required
@require_POST
def reset(request: HttpRequest) -> HttpResponse:
    """Remove my authenticator and recovery codes (a current code proves it is me)."""
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            mfa.reset_own_mfa(request.user, form.cleaned_data["code"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Your authenticator and recovery codes were removed."))
    return redirect("mfa-enrol")
