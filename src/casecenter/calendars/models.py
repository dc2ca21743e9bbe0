"""Holiday notices loaded by an administrator.

The ``law`` package knows the official holidays of the years the installed
``chinese_calendar`` release carries. Every December the State Council
publishes the next year's notice (国务院办公厅关于某年部分节假日安排的通知); until
a release of the package carries it, an administrator loads it here, and no
day or month period ending in that year can be computed before that (LAW.md:
never assume weekends only). A notice for a year the package knows overrides
the package: it is how an administrator corrects a wrong or changed calendar.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class HolidayNotice(models.Model):
    """One year's holiday arrangements (节假日安排通知), as loaded.

    Dates are stored as ISO ``YYYY-MM-DD`` strings in JSON lists: the notice is
    read whole, never queried day by day. Rows change only through
    ``calendars.services.load_notice``, which validates them and writes the
    audit entry; loading a year again replaces its row (the audit log keeps
    what it replaced).
    """

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    rest_days = models.JSONField(
        _("rest days"), default=list, help_text=_("Official holidays (放假日), ISO dates.")
    )
    make_up_workdays = models.JSONField(
        _("make-up working days"),
        default=list,
        help_text=_("Saturdays and Sundays declared working days (调休上班), ISO dates."),
    )
    source = models.TextField(_("source"), help_text=_("The notice's document number."))
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("loaded by"),
        help_text=_("Empty when loaded by the system (the command line)."),
    )
    loaded_at = models.DateTimeField(_("loaded at"), default=timezone.now)

    class Meta:
        ordering = ["year"]
        verbose_name = _("holiday notice")
        verbose_name_plural = _("holiday notices")

    def __str__(self) -> str:
        return f"{self.year}: {self.source}"
