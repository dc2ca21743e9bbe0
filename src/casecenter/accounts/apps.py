from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "casecenter.accounts"
    label = "accounts"

    def ready(self) -> None:
        from casecenter.accounts import signals  # noqa: F401 - connects the receivers
