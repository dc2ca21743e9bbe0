"""Cases (案件), the people in them, their officers and their timeline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from casecenter.privacy.fields import EncryptedTextField


class CaseKind(models.TextChoices):
    CRIMINAL = "criminal", _("Criminal")
    ADMINISTRATIVE = "administrative", _("Administrative")


class CaseState(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    FILED = "filed", _("Filed")
    NOT_FILED = "not_filed", _("Not filed")
    INVESTIGATING = "investigating", _("Investigating")
    TRANSFERRED = "transferred", _("Transferred for prosecution")
    DECIDED = "decided", _("Administrative decision made")
    CLOSED = "closed", _("Closed")


class Category(models.TextChoices):
    """Case and incident categories (案由), a working subset of the national list."""

    THEFT = "theft", _("Theft")
    FRAUD = "fraud", _("Fraud")
    ROBBERY = "robbery", _("Robbery")
    INJURY = "injury", _("Intentional injury")
    ASSAULT = "assault", _("Assault (beating others)")
    QUARREL = "quarrel", _("Picking quarrels and provoking trouble")
    DANGEROUS_DRIVING = "dangerous_driving", _("Dangerous driving")
    DRUGS = "drugs", _("Drug offences")
    GAMBLING = "gambling", _("Gambling")
    DAMAGE = "damage", _("Damage to property")
    TRAFFIC = "traffic", _("Traffic accident")
    DISPUTE = "dispute", _("Civil dispute")
    MISSING = "missing", _("Missing person")
    OTHER = "other", _("Other")


class Person(models.Model):
    """A person (人员) as one record gives them: one party of one case, or the
    reporter of one incident.

    Each record keeps its own row — the name, phone and e-mail its officers were
    given — so adding a party by ID number neither shows nor changes what another
    station (or another case of one's own station) recorded about the same
    person, and the contact a case's notifications and public page use is that
    case's own. The same real person across records is the same
    ``id_number_index``: a blind index (HMAC) of the ID number, which says
    "same number" and nothing anyone recorded (the custody area uses it to keep
    one person from being in two stays at once).

    The ID number, phone and e-mail are encrypted at rest. Birth date and sex
    are derived from the ID number when there is one.
    """

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    name = models.CharField(_("name"), max_length=100)
    id_number = EncryptedTextField(
        _("resident ID number"), blank=True, context="cases.person.id_number"
    )
    id_number_index = models.CharField(max_length=64, null=True, editable=False, db_index=True)
    id_number_masked = models.CharField(max_length=18, blank=True, editable=False)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    phone = EncryptedTextField(_("phone"), blank=True, context="cases.person.phone")
    email = EncryptedTextField(_("e-mail"), blank=True, context="cases.person.email")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return f"person #{self.pk}"


class Case(models.Model):
    """A case (案件) of one organisation, numbered per organisation, kind and year.

    ``version`` implements optimistic concurrency: every change bumps it, and a
    change made against an older version is refused instead of overwriting.
    """

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="cases"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=CaseKind.choices)
    number = models.CharField(_("case number"), max_length=40, unique=True)
    year = models.PositiveSmallIntegerField()
    serial = models.PositiveIntegerField()
    category = models.CharField(_("category"), max_length=30, choices=Category.choices)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    occurred_at = models.DateTimeField(_("time of the act"), null=True, blank=True)
    secret = models.BooleanField(_("secret (涉密)"), default=False)
    state = models.CharField(
        _("state"), max_length=20, choices=CaseState.choices, default=CaseState.ACCEPTED
    )
    version = models.PositiveIntegerField(default=1)
    accepted_at = models.DateTimeField(_("accepted at"))
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-accepted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind", "year", "serial"], name="case_serial_unique"
            )
        ]
        indexes = [models.Index(fields=["organisation", "state"])]
        verbose_name = _("case")
        verbose_name_plural = _("cases")

    def __str__(self) -> str:
        return self.number


class PartyRole(models.TextChoices):
    SUSPECT = "suspect", _("Suspect")
    VICTIM = "victim", _("Victim")
    WITNESS = "witness", _("Witness")
    REPORTER = "reporter", _("Reporter")
    GUARDIAN = "guardian", _("Guardian")
    LAWYER = "lawyer", _("Lawyer")


class Party(models.Model):
    """A person's role in a case (当事人).

    Age, the minor flag and the criminal-responsibility band (刑事责任年龄段) are
    computed when the person is added, at the time of the act, with the age
    counted from the day after the birthday (``law.criminal_age_on``).
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="parties")
    role = models.CharField(_("role"), max_length=20, choices=PartyRole.choices)
    minor_at_act = models.BooleanField(_("minor at the time of the act"), default=False)
    age_at_act = models.PositiveSmallIntegerField(null=True, blank=True)
    responsibility = models.CharField(
        _("criminal-responsibility age band"),
        max_length=10,
        blank=True,
        choices=[
            ("under_14", _("under 14: not criminally responsible")),
            ("14_to_16", _("14–16: responsible only for the gravest crimes")),
            ("16_to_18", _("16–18: responsible, as a minor")),
            ("adult", _("adult")),
        ],
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "person", "role"], name="party_unique")
        ]
        ordering = ["id"]

    @property
    def limited_responsibility(self) -> bool:
        """A suspect under 16 at the act: no or limited criminal responsibility."""
        return self.role == PartyRole.SUSPECT and self.responsibility in {"under_14", "14_to_16"}


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("Lead officer")
    ASSISTING = "assisting", _("Assisting officer")
    SUPERVISOR = "supervisor", _("Supervisor")


class Assignment(models.Model):
    """An officer's assignment to a case: the basis of need-to-know (PIPL Art. 34)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField(_("role"), max_length=20, choices=AssignmentRole.choices)
    assigned_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user"],
                condition=models.Q(ended_at__isnull=True),
                name="one_active_assignment",
            )
        ]
        ordering = ["id"]


class AccessGrant(models.Model):
    """A break-glass access (紧急查阅): an officer not assigned reads a case, with a
    reason, until ``expires_at``. Their supervisors are alerted at once and
    review it afterwards (``reviewed_*``)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="access_grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    reason = models.TextField()
    granted_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]


class CaseEvent(models.Model):
    """One entry of a case's timeline: every change, attributed and reasoned."""

    class Kind(models.TextChoices):
        ACCEPTED = "accepted", _("Case accepted")
        TRANSITION = "transition", _("State changed")
        UPDATED = "updated", _("Details edited")
        PARTY_ADDED = "party_added", _("Person added")
        ASSIGNED = "assigned", _("Officer assigned")
        UNASSIGNED = "unassigned", _("Officer released")
        BREAK_GLASS = "break_glass", _("Break-glass access")
        MEASURE = "measure", _("Coercive measure")
        PROPERTY = "property", _("Seized property")
        RECEIPT = "receipt", _("Acceptance receipt issued")
        RATING = "rating", _("Rated by a party")
        MESSAGE = "message", _("Party's message")
        CUSTODY = "custody", _("Custody area")
        FAST_TRACK = "fast_track", _("Fast track")
        HANDOVER = "handover", _("Hand-over to another organisation")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def state_label(self, value: str) -> str:
        return CaseState(value).label if value in CaseState.values else value

    @property
    def from_state_label(self) -> str:
        return self.state_label(self.from_state)

    @property
    def to_state_label(self) -> str:
        return self.state_label(self.to_state)

    @property
    def role_label(self) -> str:
        role = (self.data or {}).get("role", "")
        for choices in (PartyRole, AssignmentRole):
            if role in choices.values:
                return str(choices(role).label)
        return role
