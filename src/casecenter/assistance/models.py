"""Three-level response (三级响应, F7.5): a case officer asks a specialised unit for help.

"In the center's joint-operations command room, the specialised police units
stationed there answer under a three-level response mechanism, on an on-site
seat or remotely online, and point the case officers of key and difficult
cases to directions of interrogation and investigation at once" (seed 000).

An ``AssistanceRequest`` (求助) is asked by an officer assigned to a police case
of a unit in the case's reach (the center's criminal-investigation, economic-
crime, narcotics or public-order unit, the branch's legal-affairs unit) at level
1, 2 or 3; each level has its response target, a policy clock
(``response.level1``…``3``). A member of the unit answers — on the seat in the
command room or remotely — the asker closes it (helpful or not), asks a
follow-up (the same level, a new clock) or, while it waits, raises the level;
the center's commander may raise it too. Every step is a row of its
``AssistanceEvent`` timeline.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from casecenter.accounts.models import Unit


class Level(models.IntegerChoices):
    """1 is the most urgent. Targets are the rules ``response.level<N>``."""

    ONE = 1, _("Level 1 (一级响应)")
    TWO = 2, _("Level 2 (二级响应)")
    THREE = 3, _("Level 3 (三级响应)")


#: the units that answer requests for help (专业警种 and the legal-affairs unit)
HELPING_UNITS = (
    Unit.Kind.LEGAL_AFFAIRS,
    Unit.Kind.CRIMINAL_INVESTIGATION,
    Unit.Kind.ECONOMIC_CRIME,
    Unit.Kind.NARCOTICS,
    Unit.Kind.PUBLIC_ORDER,
)


class Topic(models.TextChoices):
    """What help is asked for (提示讯问、侦查方向, legal opinion, evidence…)."""

    INTERROGATION = "interrogation", _("Interrogation direction (讯问方向)")
    INVESTIGATION = "investigation", _("Investigation direction (侦查方向)")
    LEGAL_OPINION = "legal_opinion", _("Legal opinion (法律意见)")
    EVIDENCE = "evidence", _("Evidence: collecting and securing it (证据收集固定)")
    QUALIFICATION = "qualification", _("Qualifying the offence (案件定性)")
    OTHER = "other", _("Other")


class State(models.TextChoices):
    OPEN = "open", _("Awaiting an answer")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed by the asker")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Channel(models.TextChoices):
    """How the unit answered."""

    ON_SITE = "on_site", _("On-site seat (现场席位)")
    REMOTE = "remote", _("Remote online (远程在线)")


class AssistanceRequest(models.Model):
    """A request for help (求助), numbered per answering organisation and year.

    ``organisation`` is the unit's organisation: the request is in its inbox,
    numbered in its series, and its clocks are its own (their alerts go to its
    specialists and legal-affairs officers, then its commander). ``round`` counts
    the questions asked (1, and one more for each follow-up); an answer names
    the round it answers, so an answer written to a question already followed
    up is refused instead of answering the new one. ``due_at`` is the running
    clock's due moment (None when the rule is switched off or nothing runs).
    """

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="assistance_requests"
    )
    number = models.CharField(_("number"), max_length=40, unique=True)
    year = models.PositiveSmallIntegerField()
    serial = models.PositiveIntegerField()
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="assistance_requests"
    )
    unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, related_name="assistance_requests"
    )
    asker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assistance_asked"
    )
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices)
    question = models.TextField(_("question"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    round = models.PositiveSmallIntegerField(default=1)
    asked_at = models.DateTimeField(_("asked at"))
    #: when the running clock started: asked, followed up, or raised to this level
    clock_from = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("answered by"), max_length=10, choices=Channel.choices, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    helpful = models.BooleanField(null=True, blank=True)
    #: the moment of the latest step (a step stated for an earlier moment is refused)
    last_step_at = models.DateTimeField()

    class Meta:
        ordering = ["-asked_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "year", "serial"], name="assistance_serial_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(level__in=[1, 2, 3]), name="assistance_level"
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "state"], name="assistance_unit_state"),
            models.Index(fields=["organisation", "state"], name="assistance_org_state"),
        ]
        verbose_name = _("request for help")
        verbose_name_plural = _("requests for help")

    def __str__(self) -> str:
        return self.number

    @property
    def is_waiting(self) -> bool:
        """Waiting for the unit (its clock runs)."""
        return self.state == State.OPEN

    @property
    def rule_code(self) -> str:
        return rule_for(self.level)


def rule_for(level: int) -> str:
    """The policy rule of a level's response target."""
    return f"response.level{level}"


class AssistanceEvent(models.Model):
    """One step of a request's history (its timeline): who, when, what was said."""

    class Kind(models.TextChoices):
        ASKED = "asked", _("Asked for help")
        ANSWERED = "answered", _("Answered")
        FOLLOWED_UP = "followed_up", _("Asked a follow-up")
        ESCALATED = "escalated", _("Level raised")
        CLOSED = "closed", _("Closed by the asker")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    request = models.ForeignKey(AssistanceRequest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    #: the request's level after the step (from_level: before an escalation)
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    from_level = models.PositiveSmallIntegerField(null=True, blank=True, choices=Level.choices)
    round = models.PositiveSmallIntegerField(default=1)
    #: the question, the answer, the reason or the closing note
    text = models.TextField(blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    helpful = models.BooleanField(null=True, blank=True)
    #: the running clock's due moment after the step (asked, followed up, escalated)
    due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["request_id", "at", "id"]
        verbose_name = _("step of a request for help")

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"
