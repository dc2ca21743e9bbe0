"""Organisations, units, the people who work in them, their roles and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    POLICE_STATION = "police_station", _("Police station")
    CASE_CENTER = "case_center", _("Case-handling center")
    LEGAL_AFFAIRS = "legal_affairs", _("Legal-affairs unit")
    PROCURATORATE = "procuratorate", _("Procuratorate")
    COURT = "court", _("Court")
    LEGAL_AID = "legal_aid", _("Legal-aid center")
    DETENTION_CENTRE = "detention_centre", _("Detention centre")
    LAW_FIRM = "law_firm", _("Law firm")


class Organisation(models.Model):
    """An organisation (机构) working in its own space.

    ``parent`` links a police station to its branch bureau (分局), whose
    legal-affairs unit and case-handling center serve the stations below it.
    ``code`` is the short prefix of its case numbers (e.g. ``HDJ-ZGC``).
    """

    kind = models.CharField(_("kind"), max_length=30, choices=OrganisationKind.choices)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    code = models.SlugField(_("code"), max_length=30, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    phone = models.CharField(_("contact phone"), max_length=40, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """A unit inside an organisation (e.g. the station's case-management group 案管组)."""

    class Kind(models.TextChoices):
        TEAM = "team", _("Team")
        CASE_MANAGEMENT = "case_management", _("Case-management group")
        LEGAL_AFFAIRS = "legal_affairs", _("Legal-affairs section")
        CUSTODY = "custody", _("Custody-area duty")
        COMMAND = "command", _("Command room")
        # the specialised units stationed at a center (专业警种), asked for help (F7.5)
        CRIMINAL_INVESTIGATION = "criminal_investigation", _("Criminal investigation (刑侦)")
        ECONOMIC_CRIME = "economic_crime", _("Economic crime (经侦)")
        NARCOTICS = "narcotics", _("Narcotics (禁毒)")
        PUBLIC_ORDER = "public_order", _("Public order (治安)")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="units")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices, default=Kind.TEAM)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["organisation", "name"]
        verbose_name = _("unit")

    def __str__(self) -> str:
        return f"{self.organisation} · {self.name}"


class Role(models.TextChoices):
    """What a user does (PRODUCT.md, 'Who uses it')."""

    CASE_OFFICER = "case_officer", _("Case officer")
    CASE_MANAGEMENT = "case_management", _("Case-management group")
    LEGAL_AFFAIRS = "legal_affairs", _("Legal-affairs officer")
    CUSTODY_STAFF = "custody_staff", _("Custody-area staff")
    MEDICAL = "medical", _("Medical desk")
    COMMANDER = "commander", _("Commander")
    SPECIALIST = "specialist", _("Specialised-unit officer")
    PROSECUTOR = "prosecutor", _("Prosecutor")
    JUDGE = "judge", _("Judge")
    DUTY_LAWYER = "duty_lawyer", _("Duty lawyer")
    DEFENCE_LAWYER = "defence_lawyer", _("Defence lawyer")
    DETENTION_STAFF = "detention_staff", _("Detention-centre staff")
    ADMIN = "admin", _("Administrator")


#: Roles held by police officers: they may take part in enforcement actions.
POLICE_ROLES = frozenset(
    {
        Role.CASE_OFFICER,
        Role.CASE_MANAGEMENT,
        Role.LEGAL_AFFAIRS,
        Role.CUSTODY_STAFF,
        Role.COMMANDER,
        Role.SPECIALIST,
    }
)
#: The working roles of the other organisations: each sees its own organisation's
#: records and what was handed to it, never the police's tables.
PARTNER_ROLES = frozenset({Role.PROSECUTOR, Role.JUDGE, Role.DUTY_LAWYER, Role.DETENTION_STAFF})
#: Who is told of alerts: the police, a center's medical desk (vital signs), and
#: the partner organisations' people (the clocks of their own records).
ALERTED_ROLES = POLICE_ROLES | PARTNER_ROLES | {Role.MEDICAL}


class User(AbstractUser):
    """A person who works in the system (用户), always in one organisation."""

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT)
    role = models.CharField(
        _("role"), max_length=30, choices=Role.choices, default=Role.CASE_OFFICER
    )
    display_name = models.CharField(_("name"), max_length=100, blank=True)
    badge_number = models.CharField(_("badge number"), max_length=20, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    #: set by an administrator's password reset: every page leads to the
    #: password change until the user chose their own (accounts.middleware)
    must_change_password = models.BooleanField(_("must change password"), default=False)
    #: raised to end every session of the user at once (logout, disable): it is
    #: part of the session auth hash Django checks on every request
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    # Django keeps a hash of the password in each session and drops a session
    # whose hash no longer matches (django.contrib.auth.get_user). Mixing the
    # session generation into it ends every session of the user, on every
    # device, when the generation is raised, with no table of sessions to scan.
    def _session_hash(self, secret: str | None) -> str:
        key_salt = "casecenter.accounts.User.get_session_auth_hash"
        value = f"{self.password}:{self.session_generation}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()

    def get_session_auth_hash(self) -> str:
        return self._session_hash(None)

    def get_session_auth_fallback_hash(self):
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret)

    @property
    def is_police(self) -> bool:
        return self.role in POLICE_ROLES

    @property
    def is_partner(self) -> bool:
        """Of a partner organisation: procuratorate, court, legal aid, detention centre."""
        return self.role in PARTNER_ROLES

    @property
    def is_lawyer(self) -> bool:
        return self.role in (Role.DEFENCE_LAWYER, Role.DUTY_LAWYER)

    @property
    def receives_alerts(self) -> bool:
        return self.role in ALERTED_ROLES


class ApiToken(models.Model):
    """A bearer token for API clients. Only the SHA-256 of the token is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=8, help_text="first characters, to tell tokens apart")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    #: after this moment the token authenticates nobody (CASECENTER_API_TOKEN_DAYS)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Lockout(models.Model):
    """One lockout (账户锁定) of an account or of a client address.

    django-axes counts the failed logins; this row remembers that a lockout
    happened, so that the next one lasts longer (``accounts.lockout``), until an
    administrator unlocks (``unlocked_at``) or the memory window passes.
    """

    class Kind(models.TextChoices):
        ACCOUNT = "username", _("Account")
        ADDRESS = "ip_address", _("Client address")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    username = models.CharField(max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    locked_at = models.DateTimeField()
    duration = models.DurationField()
    unlocked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["username", "locked_at"], name="lockout_username"),
            models.Index(fields=["ip_address", "locked_at"], name="lockout_address"),
        ]


class NumberSeries(models.Model):
    """The last serial handed out in one numbering series of an organisation and year.

    Case numbers (per kind) and incident numbers are such series. The row is
    locked while a number is taken, so two concurrent requests never get the same.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    series = models.CharField(max_length=40)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "series", "year"], name="number_series_unique"
            )
        ]
