"""The admin site and the audit of every change made on it.

Every ModelAdmin registered on :class:`CaseCenterAdminSite` — ours, django-otp's,
django.contrib.auth's, any app's added later — is given
:class:`AuditedModelAdmin` at registration, so an admin that forgets it cannot
exist. Each add, change (form or list edit), delete (one or in bulk) and admin
action writes an audit entry (``admin.add``, ``admin.change``, ``admin.delete``,
``admin.action``) in the same transaction as the change, naming the model and
the *names* of the changed fields — never their values, so no password hash or
secret reaches the log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model, QuerySet
from django.forms import BaseFormSet, Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite

from casecenter.audit.services import record

#: Where the changed field names of the form being saved wait for its log call.
_CHANGES = "_casecenter_admin_changes"


def _form_changes(form: Form | None, formsets: list[BaseFormSet] | None) -> dict[str, Any]:
    """The names of the fields a save changed, and the inline rows it touched."""
    fields = sorted(form.changed_data) if form is not None else []
    related: list[dict[str, Any]] = []
    for formset in formsets or ():
        label = formset.model._meta.label_lower
        for obj in getattr(formset, "new_objects", ()):
            related.append({"model": label, "action": "add", "id": str(obj.pk)})
        for obj, changed in getattr(formset, "changed_objects", ()):
            related.append(
                {"model": label, "action": "change", "id": str(obj.pk), "fields": sorted(changed)}
            )
        for obj in getattr(formset, "deleted_objects", ()):
            related.append({"model": label, "action": "delete", "id": str(obj.pk)})
    return {"fields": fields, **({"related": related} if related else {})}


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose every write is an audit entry, like a service write."""

    def _audit(self, request: HttpRequest, action: str, obj: Model, **data: Any) -> None:
        with transaction.atomic():
            record(
                request.user,
                action,
                obj,
                data={"model": obj._meta.label_lower, "via": "admin", **data},
            )

    def construct_change_message(self, request, form, formsets, add=False):
        setattr(request, _CHANGES, _form_changes(form, formsets))
        return super().construct_change_message(request, form, formsets, add)

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._audit(request, "admin.add", obj, **getattr(request, _CHANGES, {"fields": []}))
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        self._audit(request, "admin.change", obj, **getattr(request, _CHANGES, {"fields": []}))
        return entry

    def delete_model(self, request, obj):
        with transaction.atomic():
            self._audit(request, "admin.delete", obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self._audit(request, "admin.delete", obj)
            super().delete_queryset(request, queryset)

    def get_actions(self, request):
        actions = super().get_actions(request)
        return {
            name: (
                (func, name, description)
                if name == "delete_selected"  # audited per object by delete_queryset
                else (self._audited_action(func, name), name, description)
            )
            for name, (func, name, description) in actions.items()
        }

    def _audited_action(self, func: Callable, name: str) -> Callable:
        label = self.model._meta.label_lower

        def run(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet):
            with transaction.atomic():
                ids = [str(pk) for pk in queryset.values_list("pk", flat=True)[:1000]]
                response = func(modeladmin, request, queryset)
                record(
                    request.user,
                    "admin.action",
                    data={"model": label, "via": "admin", "action": name, "ids": ids},
                )
            return response

        run.__name__ = getattr(func, "__name__", name)
        return run


def audited(admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    """``admin_class`` with the audit of :class:`AuditedModelAdmin` wrapped around it."""
    if issubclass(admin_class, AuditedModelAdmin):
        return admin_class
    return type(
        admin_class.__name__,
        (AuditedModelAdmin, admin_class),
        {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
    )


class CaseCenterAdminSite(OTPAdminSite):
    """Only active staff whose session passed MFA get in (django-otp's
    ``OTPAdminSite.has_permission``); logging in is the UI's own login page and
    code prompt, so lockout and MFA have one door, not two."""

    site_header = _("casecenter administration")
    site_title = _("casecenter administration")

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    def register(self, model_or_iterable, admin_class=None, **options):
        super().register(model_or_iterable, audited(admin_class or admin.ModelAdmin), **options)

    def password_change(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """One's own password is changed on the account page (its service ends the
        other sessions, revokes the tokens and writes the audit entry)."""
        return HttpResponseRedirect(reverse("account-password"))

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if request.user.is_authenticated:
            if self.has_permission(request):
                return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
            raise PermissionDenied  # logged in and verified, but not staff
        target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return HttpResponseRedirect(
            f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': target})}"
        )
