from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "casecenter.outbox"
    label = "outbox"
