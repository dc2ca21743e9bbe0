"""The center's equipment is managed in the admin: zones (and where they sit on the
floor plan), cameras, wristbands and staff badges. Stays, presence and recordings
are records of what happened: read-only here, written only by the services."""

from django.contrib import admin

from casecenter.custody.models import Camera, Device, Zone


class CameraInline(admin.TabularInline):
    model = Camera
    fields = ["code", "name", "audio"]
    extra = 0


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "center", "x", "y", "w", "h"]
    list_filter = ["center", "kind"]
    search_fields = ["code", "name"]
    inlines = [CameraInline]


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "zone", "audio", "recording", "confirmed_at"]
    list_filter = ["zone__center", "zone__kind", "recording"]
    search_fields = ["code", "name"]
    readonly_fields = ["recording", "confirmed_at", "wanted"]


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "center", "user", "battery", "strap_closed", "last_seen_at"]
    list_filter = ["center", "kind", "active"]
    search_fields = ["code"]
    readonly_fields = ["battery", "strap_closed", "last_seen_at"]
