"""Administration of organisations, units and users (the administrator's work).

Cases, incidents and people have no admin pages on purpose: every change to
them must go through the services, which check permissions and write the audit
log.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from casecenter.accounts.models import ApiToken, Organisation, Unit, User


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent")
    list_filter = ("kind",)
    search_fields = ("code", "name", "name_en")


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "organisation")
    list_filter = ("kind", "organisation")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "role", "organisation", "is_active")
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


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens can be seen and revoked, never read: only their digest is stored."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "name", "prefix", "digest", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False
