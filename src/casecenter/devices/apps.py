from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "casecenter.devices"
    label = "devices"
    verbose_name = "Devices (MQTT / HTTP ingestion)"
