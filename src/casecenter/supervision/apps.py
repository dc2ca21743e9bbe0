from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_catalogue(sender, **kwargs) -> None:  # type: ignore[no-untyped-def]
    from casecenter.supervision.catalogue import sync_rules

    sync_rules()


class SupervisionConfig(AppConfig):
    name = "casecenter.supervision"
    label = "supervision"

    def ready(self) -> None:
        # The catalogue follows law.RULES after every migrate (new rules appear,
        # names and bases stay current); local tuning is kept.
        post_migrate.connect(_sync_catalogue, sender=self)
        from casecenter.supervision import subscribers  # noqa: F401 - registers handlers
