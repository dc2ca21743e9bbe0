from django.apps import AppConfig


class DossiersConfig(AppConfig):
    name = "casecenter.dossiers"
    label = "dossiers"
    verbose_name = "卷宗"

    def ready(self) -> None:
        from casecenter.cases.workflow import GUARDS
        from casecenter.dossiers.services import guard_step

        if guard_step not in GUARDS:
            GUARDS.append(guard_step)
