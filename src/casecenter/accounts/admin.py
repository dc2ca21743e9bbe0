"""Administration of organisations, units, users and API tokens (the administrator's work).

Cases, incidents and people have no admin pages on purpose: every change to
them must go through the services, which check permissions and write the audit
log. What is here is audited too (``casecenter.adminsite``), and the user
admin's sensitive steps go through the account services: a password set here
is a reset (the user must change it, their tokens are revoked), switching an
account off disables it (sessions and tokens end), unlock and MFA reset are
actions calling their services.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from casecenter.accounts import mfa, services
from casecenter.accounts.models import ApiToken, Organisation, Unit, User
from casecenter.errors import DomainError


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent")
    list_filter = ("kind",)
    search_fields = ("code", "name", "name_en")


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "organisation")
    list_filter = ("kind", "organisation")


class PasswordResetForm(AdminPasswordChangeForm):
    """The admin's password form as a reset: a password is always set (never
    'unusable'), and saving it is :func:`services.reset_password`."""

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields.pop("usable_password", None)
        self.fields["password1"].required = True
        self.fields["password2"].required = True


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "role", "organisation", "is_active", "mfa_on")
    list_filter = ("role", "organisation", "is_active")
    search_fields = ("username", "display_name", "badge_number")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            _("Work"),
            {"fields": ("display_name", "badge_number", "sex", "role", "organisation", "unit")},
        ),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Work"), {"fields": ("display_name", "role", "organisation", "unit")}),
    )
    change_password_form = PasswordResetForm
    actions = ["unlock_accounts", "reset_mfa", "disable_accounts"]

    def get_queryset(self, request):
        enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(_mfa_on=Exists(enrolled))

    @admin.display(boolean=True, description=_("MFA"), ordering="_mfa_on")
    def mfa_on(self, user: User) -> bool:
        return user._mfa_on

    # Only account administrators (role admin or superuser) change accounts: the
    # services refuse anyone else, so the admin does not offer it.
    def has_add_permission(self, request):
        return services.is_account_admin(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return services.is_account_admin(request.user) and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request, obj=None):
        return services.is_account_admin(request.user) and super().has_delete_permission(
            request, obj
        )

    def save_model(self, request, obj, form, change):
        """Switching an account off is :func:`services.disable_account`; an account
        added here has the administrator's password, changed at the first login."""
        if not change:
            obj.must_change_password = True
        disabling = change and "is_active" in form.changed_data and not obj.is_active
        if disabling:
            obj.is_active = True  # the service switches it off, with its tokens and sessions
        super().save_model(request, obj, form, change)
        if disabling:
            services.disable_account(request.user, obj)
            obj.is_active = False

    def user_change_password(self, request, id, form_url=""):
        """Setting a password here is a reset (:func:`services.reset_password`)."""
        user = self.get_object(request, unquote(id))
        if request.method == "POST" and user is not None:
            if not self.has_change_permission(request, user):
                return super().user_change_password(request, id, form_url)  # refuses
            form = self.change_password_form(user, request.POST)
            if form.is_valid():
                try:
                    services.reset_password(request.user, user, form.cleaned_data["password1"])
                except DomainError as exc:
                    messages.error(request, exc.message)
                    return HttpResponseRedirect(request.get_full_path())
                messages.success(
                    request,
                    _("Password reset: %(user)s must choose a new one at the next login.")
                    % {"user": user.get_username()},
                )
                return HttpResponseRedirect(reverse("admin:accounts_user_change", args=(user.pk,)))
        return super().user_change_password(request, id, form_url)

    def _each(self, request, queryset, call, done_message):
        done = 0
        for user in queryset:
            try:
                call(user)
            except DomainError as exc:
                self.message_user(request, f"{user.username}: {exc.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Unlock the selected accounts"), permissions=["change"])
    def unlock_accounts(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda user: services.unlock_account(request.user, user.username),
            _("%(count)d account(s) unlocked."),
        )

    @admin.action(description=_("Reset MFA of the selected accounts"), permissions=["change"])
    def reset_mfa(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda user: mfa.reset_mfa(request.user, user),
            _("MFA reset for %(count)d account(s): they set it up again at the next login."),
        )

    @admin.action(description=_("Disable the selected accounts"), permissions=["change"])
    def disable_accounts(self, request, queryset):
        self._each(
            request,
            queryset.filter(is_active=True),
            lambda user: services.disable_account(request.user, user),
            _("%(count)d account(s) disabled."),
        )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens can be seen and revoked, never read: only their digest is stored."""

    list_display = (
        "name",
        "user",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    search_fields = ("user__username", "name", "prefix")
    fields = ("user", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row stays, as evidence of what the token did

    @admin.action(description=_("Revoke the selected tokens"), permissions=["view"])
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            try:
                services.revoke_api_token(request.user, token)
            except DomainError as exc:
                self.message_user(request, f"{token}: {exc.message}", messages.ERROR)
            else:
                count += 1
        self.message_user(
            request, _("%(count)d token(s) revoked.") % {"count": count}, messages.SUCCESS
        )
