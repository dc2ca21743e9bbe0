from django.apps import AppConfig


class FastTrackConfig(AppConfig):
    name = "casecenter.fasttrack"
    label = "fasttrack"
    verbose_name = "48小时速裁"

    def ready(self) -> None:
        from casecenter.exchange.services import ON_ACCEPT
        from casecenter.fasttrack.services import on_accept
        from casecenter.supervision import subjects

        if on_accept not in ON_ACCEPT:
            ON_ACCEPT.append(on_accept)
        subjects.register("fasttrack", "fasttrack-detail")
        subjects.register("ftstage", "fasttrack-stage")
