from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "casecenter.privacy"
    label = "privacy"
