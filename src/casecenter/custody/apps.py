from django.apps import AppConfig


class CustodyConfig(AppConfig):
    name = "casecenter.custody"
    label = "custody"
    verbose_name = "Custody area (办案区)"
