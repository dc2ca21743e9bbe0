"""A read-only admin for the audit log: entries can be looked at, never added, changed or deleted.

The database refuses changes anyway (see :mod:`casecenter.audit.triggers`); the
admin simply never offers them. Viewing needs the ``audit.view_auditentry``
permission.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from casecenter.audit.canonical import format_at
from casecenter.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("id", "seq", "at", "actor_name", "action", "object_type", "object_id")
    search_fields = ("=object_id", "=actor_name", "=action")
    ordering = ("-id",)
    # No list_filter or date_hierarchy: their DISTINCT queries scan the whole log,
    # and so would a COUNT(*) on every page.
    show_full_result_count = False
    fields = (
        "id",
        "seq",
        "at_utc",
        "actor_id",
        "actor_name",
        "action",
        "object_type",
        "object_id",
        "reason",
        "data",
        "leaf",
        "leaf_hash_hex",
    )
    readonly_fields = fields

    @admin.display(description="at (UTC, as hashed)")
    def at_utc(self, entry: AuditEntry) -> str:
        return format_at(entry.at)

    @admin.display(description="leaf hash")
    def leaf_hash_hex(self, entry: AuditEntry) -> str:
        return bytes(entry.leaf_hash).hex()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
