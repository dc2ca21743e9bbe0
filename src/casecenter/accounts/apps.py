from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "casecenter.accounts"
    label = "accounts"
