"""The 48-hour fast track (48小时速裁, F7.3): one shared record of a case's way from
capture to judgment through police, legal aid, procuratorate and court.

The ``FastTrack`` row is the hand-over protocol's state, not any organisation's
case file: it holds the stages with their targets and the moments they were
reached (planned vs actual), who reached them and the packages that carried the
case along. Each organisation sees it through its own record — the police
through their case, the others through the matter their package opened — and
never the others' tables. Its ``case`` and ``suspect`` are the police's side.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class FastTrack(models.Model):
    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        CLOSED = "closed", _("Closed")
        ABANDONED = "abandoned", _("Moved to the ordinary procedure")

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="fast_track")
    suspect = models.ForeignKey("cases.Party", on_delete=models.PROTECT, related_name="+")
    #: the shared view's name of the case: number and title (no one's name in full)
    case_number = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    police = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="fast_tracks"
    )
    captured_at = models.DateTimeField(_("captured at"))
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    # the eligibility checklist (CPL Art. 222–223), as confirmed
    admits_guilt = models.BooleanField(_("admits guilt and accepts punishment (认罪认罚)"))
    facts_clear = models.BooleanField(_("facts clear, evidence reliable and sufficient"))
    expected_sentence_months = models.PositiveSmallIntegerField(_("expected sentence (months)"))
    no_exclusion = models.BooleanField(_("none of CPL Art. 223's exclusions applies"))
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-captured_at", "-id"]
        verbose_name = _("fast track")

    def __str__(self) -> str:
        return f"{self.case_number} (fast track)"


class Stage(models.Model):
    """One stage of a fast track: its target (capture + the stage's hours) and
    when, by whom and which organisation it was reached."""

    fast_track = models.ForeignKey(FastTrack, on_delete=models.CASCADE, related_name="stages")
    code = models.CharField(max_length=20)
    position = models.PositiveSmallIntegerField()
    target_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    #: what happened, in both languages ({"zh": …, "en": …}); no personal data
    note = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["fast_track_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["fast_track", "code"], name="fast_track_stage_once")
        ]

    def __str__(self) -> str:
        return f"{self.fast_track_id}:{self.code}"
