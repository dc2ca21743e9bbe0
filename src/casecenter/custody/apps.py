from datetime import datetime

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

#: the live rules that set timers (``custody.rules.TIMER_CHECKS``)
TIMER_RULES = ("custody.recording", "custody.two_officers")


def _timer_came_due(deadline, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """``custody.rules.timer_came_due``, imported when a timer comes due: the rules,
    with the law and the clocks' services they use, are not imported at start-up."""
    from casecenter.custody import rules

    rules.timer_came_due(deadline, now)


class CustodyConfig(AppConfig):
    name = "casecenter.custody"
    label = "custody"
    verbose_name = "Custody area (办案区)"

    def ready(self) -> None:
        from casecenter.supervision import subjects, timers

        for code in TIMER_RULES:
            timers.register(code, _timer_came_due)
        # a custody alert opens the person's stay: the center's staff may open it,
        # the station's case they may not
        subjects.register("stay", "custody-stay", _("Stay in the area"))
