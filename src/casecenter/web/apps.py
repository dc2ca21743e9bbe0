from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "casecenter.web"
    label = "web"
