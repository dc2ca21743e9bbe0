"""Holiday notices in the admin: to read only.

A notice changes only through ``calendars.services.load_notice`` (the
``casecenter law calendar-load`` command), which validates it and writes the
audit entry; an admin form would bypass both.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from casecenter.calendars.models import HolidayNotice


@admin.register(HolidayNotice)
class HolidayNoticeAdmin(admin.ModelAdmin):
    list_display = ["year", "source", "loaded_by", "loaded_at"]
    ordering = ["year"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
