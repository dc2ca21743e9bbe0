from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "casecenter.incidents"
    label = "incidents"
