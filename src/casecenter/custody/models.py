"""The custody area (智能办案区): zones and cameras of a center, devices, stays,
presence, recording segments and vital signs.

A *stay* is one person's time in the area, from entry registration to exit
registration. Presence rows are derived from the wristband's events, ordered by
the device's own time, so a late or repeated event changes nothing it should
not (see ``custody.tracking``). Every event keeps both the device's time and the
time the system received it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from casecenter.privacy.fields import EncryptedTextField


class ZoneKind(models.TextChoices):
    """The zone types of F3.1."""

    REGISTRATION = "registration", _("Registration hall")
    WAITING = "waiting", _("Waiting room")
    INTERROGATION = "interrogation", _("Interrogation room")
    JUVENILE = "juvenile", _("Juvenile room")
    MEDICAL = "medical", _("Medical room")
    PROPERTY = "property", _("Property room")
    DRUG_STORE = "drug_store", _("Drug store")
    APPRAISAL_PRICE = "appraisal_price", _("Price appraisal room")
    APPRAISAL_INJURY = "appraisal_injury", _("Injury appraisal room")
    LAWYER = "lawyer", _("Lawyer / remote meeting room")
    COMMAND = "command", _("Command room")
    CORRIDOR = "corridor", _("Corridor")


#: Where a defence lawyer meets the suspect: never monitored (CPL Art. 39).
UNMONITORED = frozenset({ZoneKind.LAWYER})
#: Where interrogation may take place (F3.5).
INTERROGATION_ZONES = frozenset({ZoneKind.INTERROGATION, ZoneKind.JUVENILE})


class Zone(models.Model):
    """A room or area of a center, drawn on the floor plan at (x, y, w, h)."""

    center = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="zones"
    )
    code = models.CharField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=ZoneKind.choices)
    x = models.PositiveSmallIntegerField(default=0)
    y = models.PositiveSmallIntegerField(default=0)
    w = models.PositiveSmallIntegerField(default=10)
    h = models.PositiveSmallIntegerField(default=10)

    class Meta:
        ordering = ["center", "code"]
        verbose_name = _("zone")
        constraints = [models.UniqueConstraint(fields=["center", "code"], name="zone_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def label(self) -> str:
        """The zone's name in the language of the request (the Chinese one where it
        has no English name)."""
        english = (get_language() or "").startswith("en")
        return self.name_en if english and self.name_en else self.name

    @property
    def monitored(self) -> bool:
        return self.kind not in UNMONITORED


class Camera(models.Model):
    """A camera of a zone; it records video and, where the law allows, audio."""

    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="cameras")
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    audio = models.BooleanField(_("records audio"), default=True)
    #: what the camera last confirmed (status events), and when (device time)
    recording = models.BooleanField(default=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    #: what casecenter last asked of it
    wanted = models.BooleanField(default=False)
    #: the fault it last reported ("" when it reports none): the code it sent in
    #: ``fault``, or "not_recording" when it answered a record command without recording
    fault = models.CharField(_("fault"), max_length=40, blank=True)
    fault_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("camera")

    def __str__(self) -> str:
        return self.code

    @property
    def state(self) -> str:
        """What the map shows of it: "failed" (asked to record, and it reported a
        fault or that it does not record), "on" (confirmed recording), "stray"
        (recording with nobody tracked in its zone: told to stop), "asked"
        (asked, not confirmed yet), "off"."""
        if self.wanted and self.fault:
            return "failed"
        if self.recording:
            return "on" if self.wanted else "stray"
        return "asked" if self.wanted else "off"


class Device(models.Model):
    """A wristband (智能手环) worn by a person in custody, or a staff badge."""

    class Kind(models.TextChoices):
        WRISTBAND = "wristband", _("Wristband")
        BADGE = "badge", _("Staff badge")

    center = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="devices"
    )
    code = models.CharField(_("device id"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    #: a badge's wearer; a wristband's wearer is its open stay
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="badges",
    )
    battery = models.PositiveSmallIntegerField(null=True, blank=True)
    strap_closed = models.BooleanField(default=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("device")

    def __str__(self) -> str:
        return self.code


class Stay(models.Model):
    """One person's time in the custody area, entry to exit registration (入区 → 出区)."""

    center = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="stays"
    )
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="stays")
    party = models.ForeignKey("cases.Party", on_delete=models.PROTECT, related_name="stays")
    measure = models.ForeignKey(
        "measures.Measure",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stays",
    )
    wristband = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.PROTECT, related_name="stays"
    )
    entered_at = models.DateTimeField()
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    searched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    identity_checked = models.BooleanField(default=False)
    health = EncryptedTextField(_("health check"), blank=True, context="custody.stay.health")
    injuries = models.BooleanField(_("visible injuries"), default=False)
    exited_at = models.DateTimeField(null=True, blank=True)
    exited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    exit_reason = models.CharField(_("leaves for"), max_length=200, blank=True)
    #: the latest vital signs, for the live map (the readings are in Vital)
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    systolic = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField(null=True, blank=True)
    vitals_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-entered_at", "-id"]
        verbose_name = _("stay")
        constraints = [
            models.UniqueConstraint(
                fields=["party"],
                condition=models.Q(exited_at__isnull=True),
                name="stay_one_open_per_party",
            ),
            models.UniqueConstraint(
                fields=["wristband"],
                condition=models.Q(exited_at__isnull=True),
                name="stay_one_open_per_wristband",
            ),
        ]

    def __str__(self) -> str:
        return f"stay #{self.pk}"


class Belonging(models.Model):
    """Something a person handed in at entry, returned at exit (随身物品)."""

    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="belongings")
    description = models.CharField(_("description"), max_length=200)
    quantity = models.PositiveSmallIntegerField(default=1)
    photo_sha256 = models.CharField(max_length=64, blank=True)
    photo = models.FileField(max_length=200, blank=True)
    photo_type = models.CharField(max_length=30, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description


class DeviceEvent(models.Model):
    """One event as a device sent it; unique per (device, seq): applied once."""

    class Kind(models.TextChoices):
        PRESENCE = "presence", _("Presence")
        VITALS = "vitals", _("Vital signs")
        STATUS = "status", _("Device status")

    center = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    device = models.CharField(max_length=40)
    seq = models.BigIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    device_time = models.DateTimeField()
    received_at = models.DateTimeField()
    payload = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "seq"], name="device_event_once")]
        indexes = [models.Index(fields=["device", "device_time"], name="device_event_time")]


class Presence(models.Model):
    """A stay's (or a badge's) time in one zone, by the device's clock."""

    stay = models.ForeignKey(
        Stay, null=True, blank=True, on_delete=models.CASCADE, related_name="presences"
    )
    badge = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.CASCADE, related_name="presences"
    )
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="presences")
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    enter_seq = models.BigIntegerField()
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["entered_at", "enter_seq"]
        indexes = [
            models.Index(
                fields=["zone"], condition=models.Q(left_at__isnull=True), name="presence_open"
            )
        ]


class Recording(models.Model):
    """A recording segment of one camera: asked for, confirmed, stopped.

    ``started_at``/``stopped_at`` are the camera's confirmations (device time);
    ``asked_at`` and ``stop_asked_at`` are when casecenter sent the commands.
    """

    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="recordings")
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="recordings")
    command = models.CharField(max_length=40, unique=True)
    audio = models.BooleanField(default=True)
    asked_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    confirmed_received_at = models.DateTimeField(null=True, blank=True)
    stop_command = models.CharField(max_length=40, blank=True)
    stop_asked_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "id"]


class CameraCommand(models.Model):
    """A command for a camera, written in the transaction that decided it and
    published after commit (resent until the camera confirms)."""

    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="commands")
    command_id = models.CharField(max_length=40, unique=True)
    action = models.CharField(max_length=10)  # "record" | "stop"
    audio = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    #: the zone entry that made it necessary (device time), for the latency figures
    cause_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(confirmed_at__isnull=True),
                name="camera_command_open",
            )
        ]


class Vital(models.Model):
    """One reading of a wristband's sensors."""

    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="vitals")
    at = models.DateTimeField()
    received_at = models.DateTimeField()
    heart_rate = models.PositiveSmallIntegerField(null=True)
    systolic = models.PositiveSmallIntegerField(null=True)
    diastolic = models.PositiveSmallIntegerField(null=True)
    spo2 = models.PositiveSmallIntegerField(null=True)

    class Meta:
        ordering = ["at", "id"]


class Session(models.Model):
    """An interrogation session opened at the one-button desk (一键启动式讯问台),
    with linked sub-sessions (remote arraignment, evidence display, command, meeting)."""

    class Kind(models.TextChoices):
        INTERROGATION = "interrogation", _("Interrogation")
        INTAKE = "intake", _("Remote case intake")
        ARRAIGNMENT = "arraignment", _("Remote arraignment")
        EVIDENCE = "evidence", _("Remote evidence display")
        COMMAND = "command", _("Remote command")
        MEETING = "meeting", _("Remote meeting")

    stay = models.ForeignKey(Stay, on_delete=models.PROTECT, related_name="sessions")
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="sessions")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    officers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    external_ref = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
