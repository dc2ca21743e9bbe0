from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "casecenter.audit"
    label = "audit"
