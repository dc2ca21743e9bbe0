from django.apps import AppConfig


def _guard_step(case, step: str) -> None:  # type: ignore[no-untyped-def]
    """``dossiers.services.guard_step``, imported when a case takes a step: the
    services (with the file-type checks and Pillow) are not imported at start-up."""
    from casecenter.dossiers.services import guard_step

    guard_step(case, step)


class DossiersConfig(AppConfig):
    name = "casecenter.dossiers"
    label = "dossiers"
    verbose_name = "卷宗"

    def ready(self) -> None:
        from casecenter.cases.workflow import GUARDS

        if _guard_step not in GUARDS:
            GUARDS.append(_guard_step)
