"""Supervision (智能监测提醒): the rule catalogue, clocks as rows, alerts.

A ``Deadline`` is one running statutory clock: computed by ``law`` when its
trigger happens, then left alone until it is met, cancelled, or falls due. The
worker only ever reads rows whose ``next_check_at`` has come (a partial index
over running rows), so its cost grows with the clocks falling due, never with
the open cases.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Severity(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


class Rule(models.Model):
    """A catalogue entry (F6.1). Names, basis and statutory periods come from
    ``law.RULES``; severity, audience, warning lead and escalation are local
    practice an administrator tunes — and, for policy rules only, the period."""

    code = models.CharField(max_length=60, primary_key=True)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=150)
    basis = models.CharField(max_length=200)
    kind = models.CharField(
        max_length=10, choices=[("statute", _("Statute")), ("policy", _("Policy"))]
    )
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    audience = models.JSONField(default=list, help_text="roles told besides the case's officers")
    warn_before = models.DurationField(
        null=True, blank=True, help_text="how long before the due time to warn"
    )
    escalate_after = models.DurationField(
        null=True, blank=True, help_text="unacknowledged this long: escalate"
    )
    escalation = models.JSONField(default=list, help_text="roles of each escalation level")
    policy_length = models.PositiveIntegerField(null=True, blank=True)
    policy_unit = models.CharField(
        max_length=10,
        blank=True,
        choices=[("hour", "hour"), ("day", "day"), ("month", "month"), ("workday", "workday")],
    )
    enabled = models.BooleanField(default=True)
    #: a rule's local thresholds (vital signs: {"hr_max": 120, ...}), tuned like the rest
    params = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("rule")

    def __str__(self) -> str:
        return self.code


class DeadlineState(models.TextChoices):
    RUNNING = "running", _("Running")
    MET = "met", _("Met")
    BREACHED = "breached", _("Breached")
    CANCELLED = "cancelled", _("Cancelled")


class Deadline(models.Model):
    """One running clock (期限) of a rule, for a case and, where it applies, a person.

    A clock of another organisation's own record — the procuratorate's review of
    a hand-over package, a detention centre's arranging of a lawyer's meeting —
    has no police ``case``: ``subject`` names what it is about and ``reference``
    the number people know it by. ``organisation`` is whose clock it is: its
    alerts go to that organisation's people.
    """

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="deadlines")
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="deadlines"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="deadlines"
    )
    #: the number shown for the clock's subject (a case's clocks show the case number)
    reference = models.CharField(max_length=60, blank=True)
    party = models.ForeignKey(
        "cases.Party", null=True, blank=True, on_delete=models.CASCADE, related_name="deadlines"
    )
    item = models.ForeignKey(
        "property.Item", null=True, blank=True, on_delete=models.CASCADE, related_name="deadlines"
    )
    measure = models.ForeignKey(
        "measures.Measure",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deadlines",
    )
    variant = models.CharField(max_length=30, default="default")
    #: what the clock is about when it is none of the above, as "kind:id"
    #: (a party's message: "message:12"); lets one clock of many be met.
    subject = models.CharField(max_length=60, blank=True, db_index=True)
    trigger_at = models.DateTimeField()
    warn_at = models.DateTimeField()
    due_at = models.DateTimeField()
    state = models.CharField(
        max_length=10, choices=DeadlineState.choices, default=DeadlineState.RUNNING
    )
    warned_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    next_check_at = models.DateTimeField(null=True, blank=True)
    computation = models.JSONField(default=dict)  # the law's explanation, zh and en

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(
                fields=["next_check_at"],
                name="deadline_next_check",
                condition=models.Q(state="running"),
            ),
            models.Index(fields=["case", "state"], name="deadline_case_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(case__isnull=True, subject=""),
                name="deadline_has_a_subject",
            )
        ]
        verbose_name = _("deadline")

    def __str__(self) -> str:
        return f"{self.rule_id} · {self.shown_reference} · {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def shown_reference(self) -> str:
        """What the clock is about as people name it: its ``reference`` where one was
        given (a fast-track stage: the case number and the stage), else the case number."""
        return self.reference or (self.case.number if self.case_id else "")


class Extension(models.Model):
    """An approved extension: who, why, and the clock before and after."""

    deadline = models.ForeignKey(Deadline, on_delete=models.CASCADE, related_name="extensions")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField()
    old_variant = models.CharField(max_length=30)
    new_variant = models.CharField(max_length=30)
    old_due_at = models.DateTimeField()
    new_due_at = models.DateTimeField()
    at = models.DateTimeField(auto_now_add=True)


class AlertState(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class Alert(models.Model):
    """An alert (预警/告警) that explains itself: rule, facts, article, computation.

    ``key`` makes raising idempotent: the worker raising the same warning twice
    (after a crash, or two workers at once) hits the unique constraint instead
    of telling anyone twice.
    """

    class Kind(models.TextChoices):
        WARNING = "warning", _("Due soon")
        BREACH = "breach", _("Breached")
        EVENT = "event", _("Rule broken")

    key = models.CharField(max_length=120, unique=True)
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="alerts"
    )
    deadline = models.ForeignKey(
        Deadline, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    #: the record the alert is about as "kind:id" ("stay:12"): the page it opens
    #: (``subjects.alert_page``) and what repeats of one rule are grouped by
    subject = models.CharField(max_length=60, blank=True, db_index=True)
    state = models.CharField(max_length=15, choices=AlertState.choices, default=AlertState.OPEN)
    level = models.PositiveSmallIntegerField(default=0, help_text="escalation level reached")
    raised_at = models.DateTimeField()
    escalate_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    #: what the person who acknowledged it said (required when many are acknowledged at once)
    acknowledgement = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.TextField(blank=True)
    title_zh = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200)
    explanation_zh = models.TextField()
    explanation_en = models.TextField()
    facts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(
                fields=["escalate_at"], name="alert_escalate", condition=models.Q(state="open")
            ),
            models.Index(fields=["organisation", "state"], name="alert_org_state"),
        ]
        verbose_name = _("alert")

    def __str__(self) -> str:
        return self.key


class AlertAudience(models.Model):
    """A role that is told of an alert (besides the case's own officers): in the
    alert's organisation scope, or — ``organisation`` set — in that organisation
    (a custody alert escalated to the case-management group of the case's own
    station). Escalation adds the next rung's roles."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="audience")
    role = models.CharField(max_length=30)
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    level = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "role", "organisation"], name="audience_unique_where"
            )
        ]
