from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    """Hand-over packages (移交材料包) between police, procuratorate, court and legal aid."""

    name = "casecenter.exchange"
    label = "exchange"
