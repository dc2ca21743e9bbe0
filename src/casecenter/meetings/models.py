"""Remote lawyer video meetings (远程律师视频会见, F7.4): lawyers, detainees,
meeting rooms and bookings.

A detention centre (看守所) keeps its own records here: the detainees it holds
(在押人员) and its remote meeting rooms (远程会见室). A lawyer (律师) registers
their practising licence; the centre's staff verify it. A verified lawyer books
a slot (会见预约) to meet a detainee, stating the authority CPL Art. 39 asks for
(an engagement letter or a legal-aid letter); the centre confirms it with a
free room within 48 hours (``lawyer.meeting``), or refuses it with reasons.

Meetings are never recorded or listened to (CPL Art. 39): there is no field
here that could hold a recording, and the video link is opened with recording
off (``video.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from casecenter.privacy.fields import EncryptedTextField


class LawyerState(models.TextChoices):
    PENDING = "pending", _("Awaiting verification")
    VERIFIED = "verified", _("Verified")
    REFUSED = "refused", _("Refused")


class Practice(models.TextChoices):
    """The kind of practice, digit 9 of the licence number (``licence.PRACTICES``)."""

    FULL_TIME = "1", _("Full-time lawyer (专职律师)")
    PART_TIME = "2", _("Part-time lawyer (兼职律师)")
    HONG_KONG = "3", _("Hong Kong resident lawyer")
    MACAO = "4", _("Macao resident lawyer")
    TAIWAN = "5", _("Taiwan resident lawyer")
    PUBLIC = "6", _("Public-sector lawyer (公职律师)")
    COMPANY = "7", _("Company lawyer (公司律师)")
    LEGAL_AID = "8", _("Legal-aid lawyer (法律援助律师)")


class Lawyer(models.Model):
    """A lawyer's practising licence (律师执业证), registered by the lawyer.

    ``organisation`` is the law firm (a defence lawyer) or the legal-aid center
    (a duty lawyer) the lawyer practises from. Only a verified lawyer books.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="lawyer"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="lawyers"
    )
    licence_number = models.CharField(_("licence number"), max_length=17, unique=True)
    practice = models.CharField(_("kind of practice"), max_length=1, choices=Practice.choices)
    first_licensed = models.PositiveSmallIntegerField(_("first licensed"))
    state = models.CharField(
        _("state"), max_length=10, choices=LawyerState.choices, default=LawyerState.PENDING
    )
    registered_at = models.DateTimeField()
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    refused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    refused_at = models.DateTimeField(null=True, blank=True)
    refusal_reason = models.TextField(_("reason of refusal"), blank=True)

    class Meta:
        ordering = ["user__display_name", "pk"]
        verbose_name = _("lawyer")
        verbose_name_plural = _("lawyers")

    def __str__(self) -> str:
        return str(self.user)

    @property
    def is_verified(self) -> bool:
        return self.state == LawyerState.VERIFIED


class Detainee(models.Model):
    """A person held by a detention centre (在押人员): the centre's own record.

    Name and ID number are encrypted at rest; ``id_number_index`` (a blind
    index) finds the record from the number a lawyer gives. ``handling_*`` is
    the authority handling the case (办案单位) and its case number, as written on
    the detention paper — text, not a link into the police's tables.
    """

    centre = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="detainees"
    )
    name = EncryptedTextField(_("name"), context="meetings.detainee.name")
    id_number = EncryptedTextField(_("resident ID number"), context="meetings.detainee.id_number")
    id_number_index = models.CharField(max_length=64, editable=False, db_index=True)
    id_number_masked = models.CharField(max_length=18, editable=False)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1)
    handling_organisation = models.CharField(_("handling organisation"), max_length=200)
    case_number = models.CharField(_("case number"), max_length=60)
    received_at = models.DateTimeField(_("received"))
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["centre", "id_number_index"],
                condition=models.Q(released_at__isnull=True),
                name="detainee_held_once_per_centre",
            )
        ]
        verbose_name = _("detainee")
        verbose_name_plural = _("detainees")

    def __str__(self) -> str:
        return f"detainee #{self.pk}"

    @property
    def in_custody(self) -> bool:
        return self.released_at is None


class Room(models.Model):
    """A remote meeting room or terminal (远程会见室) of a detention centre.

    Managed in the Django admin; ``terminal`` is how the video system names it.
    """

    centre = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="meeting_rooms"
    )
    code = models.SlugField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=100)
    terminal = models.CharField(_("video terminal"), max_length=100, blank=True)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["centre", "code"]
        constraints = [
            models.UniqueConstraint(fields=["centre", "code"], name="meeting_room_code_once")
        ]
        verbose_name = _("meeting room")
        verbose_name_plural = _("meeting rooms")

    def __str__(self) -> str:
        return self.name


class BookingState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    CONFIRMED = "confirmed", _("Confirmed")
    REFUSED = "refused", _("Refused")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")
    MISSED = "missed", _("Missed")


class Authority(models.TextChoices):
    """What entitles the lawyer to meet the detainee (CPL Art. 39)."""

    ENGAGEMENT = "engagement", _("Engagement letter (委托书)")
    LEGAL_AID = "legal_aid", _("Legal-aid letter (法律援助公函)")


class Booking(models.Model):
    """A lawyer's booking of a remote meeting (会见预约), numbered per centre and year.

    ``requested`` → ``confirmed`` (a room assigned) or ``refused`` (reasons) →
    ``held`` (started, then ended: the moments staff record) / ``cancelled`` (by
    the lawyer, before it starts) / ``missed``. While a meeting is held its video
    session is open: ``video_session`` and the two join links (secret, so
    encrypted at rest) are what the video system handed out; nothing of the
    meeting itself is kept.
    """

    centre = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="meeting_bookings"
    )
    number = models.CharField(_("booking number"), max_length=40, unique=True)
    year = models.PositiveSmallIntegerField()
    serial = models.PositiveIntegerField()
    lawyer = models.ForeignKey(Lawyer, on_delete=models.PROTECT, related_name="bookings")
    detainee = models.ForeignKey(Detainee, on_delete=models.PROTECT, related_name="bookings")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    authority = models.CharField(_("authority"), max_length=12, choices=Authority.choices)
    authority_reference = models.CharField(_("letter reference"), max_length=100)
    state = models.CharField(
        _("state"), max_length=10, choices=BookingState.choices, default=BookingState.REQUESTED
    )
    requested_at = models.DateTimeField(_("requested"))
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="bookings"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    refusal_reason = models.TextField(_("reason of refusal"), blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason of cancellation"), max_length=500, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    missed_at = models.DateTimeField(_("marked missed"), null=True, blank=True)
    missed_reason = models.CharField(_("why it was missed"), max_length=500, blank=True)
    #: who marked the start, the end or the miss (the centre's staff)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    video_session = models.CharField(max_length=100, blank=True)
    lawyer_link = EncryptedTextField(blank=True, context="meetings.booking.lawyer_link")
    centre_link = EncryptedTextField(blank=True, context="meetings.booking.centre_link")

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["centre", "year", "serial"], name="meeting_booking_serial_once"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="meeting_booking_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["detainee", "state"], name="booking_detainee_state"),
            models.Index(fields=["lawyer", "state"], name="booking_lawyer_state"),
            models.Index(fields=["room", "state"], name="booking_room_state"),
            models.Index(fields=["centre", "state", "starts_at"], name="booking_centre_state"),
        ]
        verbose_name = _("meeting booking")
        verbose_name_plural = _("meeting bookings")

    def __str__(self) -> str:
        return self.number

    @property
    def subject(self) -> str:
        """The ``Deadline.subject`` of its clock."""
        return f"booking:{self.pk}"

    @property
    def in_progress(self) -> bool:
        return self.state == BookingState.HELD and self.ended_at is None
