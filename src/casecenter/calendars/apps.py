from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "casecenter.calendars"
    label = "calendars"
