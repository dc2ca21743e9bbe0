"""A detention centre's remote meeting rooms are managed in the admin. Lawyers,
detainees and bookings are not: every change to them goes through a service,
so it is checked, clocked and audited."""

from django.contrib import admin

from casecenter.meetings.models import Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "centre", "terminal", "active"]
    list_filter = ["centre", "active"]
    search_fields = ["code", "name", "terminal"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "centre":  # a room belongs to a detention centre
            from casecenter.accounts.models import Organisation, OrganisationKind

            kwargs["queryset"] = Organisation.objects.filter(kind=OrganisationKind.DETENTION_CENTRE)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
