"""Incidents (警情): what comes in by 110 call, walk-in or online report."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from casecenter.cases.models import Category


class Channel(models.TextChoices):
    CALL_110 = "call_110", _("110 call")
    WALK_IN = "walk_in", _("Walk-in")
    ONLINE = "online", _("Online report")


class IncidentState(models.TextChoices):
    OPEN = "open", _("Pending")
    CONVERTED = "converted", _("Turned into a case")
    CLOSED = "closed", _("Closed without a case")


class Incident(models.Model):
    """An incident (警情), numbered per organisation and year.

    The reporter is a ``Person`` (name and phone; the ID number when given).
    ``case`` links the case made from it (F1.3).
    """

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="incidents"
    )
    number = models.CharField(_("incident number"), max_length=40, unique=True)
    year = models.PositiveSmallIntegerField()
    serial = models.PositiveIntegerField()
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    received_at = models.DateTimeField(_("received at"))
    place = models.CharField(_("place"), max_length=200)
    category = models.CharField(_("category"), max_length=30, choices=Category.choices)
    summary = models.TextField(_("summary"))
    reporter = models.ForeignKey(
        "cases.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=20, choices=IncidentState.choices, default=IncidentState.OPEN
    )
    closing_reason = models.TextField(blank=True)
    case = models.OneToOneField(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="incident"
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "year", "serial"], name="incident_serial_unique"
            )
        ]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self) -> str:
        return self.number
