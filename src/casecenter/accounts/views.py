"""The user's own account: password change, API tokens; the locked-out page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.password_validation import password_validators_help_texts
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from casecenter.accounts import services
from casecenter.accounts.models import ApiToken
from casecenter.errors import DomainError
from casecenter.web.forms import add_domain_error


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=gettext_lazy("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password1 = forms.CharField(
        label=gettext_lazy("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=gettext_lazy("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("The two new passwords differ."))
        return data


@login_required
def account_page(request: HttpRequest) -> HttpResponse:
    """My account: my API tokens (never their secret) and a way to revoke them."""
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at")
    return render(request, "accounts/account.html", {"tokens": tokens})


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = ApiToken.objects.filter(user=request.user, pk=pk).first()
    if token is not None:
        services.revoke_api_token(request.user, token)
        messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("account")


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Choose a new password; the other sessions end and the API tokens are revoked."""
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.change_password(
                request.user,
                form.cleaned_data["old_password"],
                form.cleaned_data["new_password1"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            update_session_auth_hash(request, user)  # this session stays, the others end
            messages.success(request, _("Your password was changed."))
            return redirect("account")
    return render(
        request,
        "accounts/password.html",
        {"form": form, "rules": password_validators_help_texts()},
    )
