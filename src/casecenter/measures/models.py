"""Coercive measures (强制措施) and the moments that start and stop their clocks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MeasureKind(models.TextChoices):
    SUMMONS = "summons", _("Summons (传唤)")
    COMPELLED = "compelled_appearance", _("Compelled appearance (拘传)")
    CRIMINAL_DETENTION = "criminal_detention", _("Criminal detention (刑事拘留)")
    ARREST = "arrest", _("Arrest (逮捕)")
    BAIL = "bail", _("Bail pending trial (取保候审)")
    SURVEILLANCE = "residential_surveillance", _("Residential surveillance (监视居住)")
    ADMIN_DETENTION = "admin_detention", _("Administrative detention (行政拘留)")


class Measure(models.Model):
    """A measure applied to one person of a case, from ``started_at`` until it ends."""

    class State(models.TextChoices):
        IN_FORCE = "in_force", _("In force")
        ENDED = "ended", _("Ended")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="measures")
    party = models.ForeignKey("cases.Party", on_delete=models.PROTECT, related_name="measures")
    kind = models.CharField(_("measure"), max_length=30, choices=MeasureKind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.IN_FORCE)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)
    designated_residence = models.BooleanField(default=False)
    term_days = models.PositiveSmallIntegerField(null=True, blank=True)
    officers = models.JSONField(default=list)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("coercive measure")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.case_id}"


class MeasureEvent(models.Model):
    """A moment in a measure's life (arrival, family notified, sent to the house …)."""

    class Kind(models.TextChoices):
        STARTED = "started", _("Started")
        FAMILY_NOTIFIED = "family_notified", _("Family notified")
        INTERROGATED = "interrogated", _("Interrogated")
        SENT_TO_HOUSE = "sent_to_house", _("Sent to the detention house")
        ARREST_REQUESTED = "arrest_requested", _("Arrest approval requested")
        ARREST_APPROVED = "arrest_approved", _("Arrest approved")
        ARREST_REFUSED = "arrest_refused", _("Arrest not approved")
        ENDED = "ended", _("Ended")

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
