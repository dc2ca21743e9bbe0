from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "casecenter.cases"
    label = "cases"

    def ready(self) -> None:
        from casecenter.supervision import subjects

        # a break-glass alert opens the grant's review page
        subjects.register("break_glass", "break-glass-detail", _("Break-glass review"))
