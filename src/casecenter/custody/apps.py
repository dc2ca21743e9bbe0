from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustodyConfig(AppConfig):
    name = "casecenter.custody"
    label = "custody"
    verbose_name = "Custody area (办案区)"

    def ready(self) -> None:
        from casecenter.custody import rules
        from casecenter.supervision import subjects

        rules.register_timers()
        # a custody alert opens the person's stay: the center's staff may open it,
        # the station's case they may not
        subjects.register("stay", "custody-stay", _("Stay in the area"))
