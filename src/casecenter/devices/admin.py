from django.contrib import admin

from casecenter.devices.models import RejectedMessage


@admin.register(RejectedMessage)
class RejectedMessageAdmin(admin.ModelAdmin):
    """Read-only: the dead letters are evidence of what devices sent."""

    list_display = ["received_at", "source", "code", "center", "device", "topic"]
    list_filter = ["source", "code", "center"]
    search_fields = ["device", "topic", "message"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
