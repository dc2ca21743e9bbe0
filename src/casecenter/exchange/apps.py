from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    """Hand-over packages (移交材料包) between police, procuratorate, court and legal aid."""

    name = "casecenter.exchange"
    label = "exchange"
    verbose_name = "移交与协作"

    def ready(self) -> None:
        from casecenter.supervision import subjects

        subjects.register("package", "package-detail")
        subjects.register("matter", "matter-detail")
