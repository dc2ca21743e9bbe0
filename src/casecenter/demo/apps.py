from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "casecenter.demo"
    label = "demo"
