from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "casecenter.portal"
    label = "portal"
