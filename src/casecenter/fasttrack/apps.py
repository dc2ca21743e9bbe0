from django.apps import AppConfig


def _on_accept(actor, package, matter) -> None:  # type: ignore[no-untyped-def]
    """``fasttrack.services.on_accept``, imported when a package is accepted: the
    services (with the exchange's and the dossiers') are not imported at start-up."""
    from casecenter.fasttrack.services import on_accept

    on_accept(actor, package, matter)


class FastTrackConfig(AppConfig):
    name = "casecenter.fasttrack"
    label = "fasttrack"
    verbose_name = "48小时速裁"

    def ready(self) -> None:
        from casecenter.exchange.hooks import ON_ACCEPT
        from casecenter.supervision import subjects

        if _on_accept not in ON_ACCEPT:
            ON_ACCEPT.append(_on_accept)
        subjects.register("fasttrack", "fasttrack-detail")
        subjects.register("ftstage", "fasttrack-stage")
