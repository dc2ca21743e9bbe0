"""Public case progress (办案进度查询): receipts and the guard on public access."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from casecenter.privacy.fields import EncryptedTextField

LANGUAGES = [("zh-hans", "中文"), ("en", "English")]


class Receipt(models.Model):
    """A case acceptance receipt (受案回执) given to a reporter or victim.

    The QR link carries a random token of 192 bits; only its SHA-256 is kept,
    so the database alone cannot open any case's public page. Reissuing a
    receipt revokes the old one (and with it the old link).
    """

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="receipts")
    party = models.ForeignKey("cases.Party", on_delete=models.PROTECT, related_name="receipts")
    number = models.CharField(_("receipt number"), max_length=40, unique=True)
    token_digest = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    #: the party's language: the printed receipt and every notification use it
    language = models.CharField(_("language"), max_length=10, choices=LANGUAGES, default="zh-hans")

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("acceptance receipt")

    def __str__(self) -> str:
        return self.number


class Attempt(models.Model):
    """One counted attempt under a key, at a time: the log a sliding window counts.

    Keys are ``client:<address>`` (wrong answers from one client),
    ``receipt:<id>`` (wrong answers about one existing receipt) and
    ``message:<id>`` (a receipt's messages). Only counted attempts are rows: a
    refused request adds none, a receipt number that does not exist counts
    under its client only, and rows older than the longest window are deleted
    as new ones come, so the table stays as small as the recent traffic.
    """

    key = models.CharField(max_length=100)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["key", "at"], name="attempt_key_at"),
            models.Index(fields=["at"], name="attempt_at"),
        ]

    def __str__(self) -> str:
        return f"{self.key} at {self.at:%Y-%m-%d %H:%M:%S}"


class Rating(models.Model):
    """A party's rating (网上评价) of the handling after one public milestone.

    ``milestone`` names the milestone as the public timeline does ("case:41",
    "measure:7"); one rating per receipt and milestone, never edited.
    """

    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="ratings")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="ratings")
    milestone = models.CharField(max_length=40)
    stars = models.PositiveSmallIntegerField(_("rating"))
    comment = EncryptedTextField(_("comment"), blank=True, context="portal.rating.comment")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("rating")
        constraints = [
            models.UniqueConstraint(fields=["receipt", "milestone"], name="rating_once"),
            models.CheckConstraint(
                condition=models.Q(stars__gte=1, stars__lte=5), name="rating_stars_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stars}/5"


class Message(models.Model):
    """A party's message (留言) to the handling unit, and the unit's answer."""

    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="messages")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="messages")
    body = EncryptedTextField(_("message"), context="portal.message.body")
    at = models.DateTimeField()
    answer = EncryptedTextField(_("answer"), blank=True, context="portal.message.answer")
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("message")
        indexes = [models.Index(fields=["case", "answered_at"], name="message_case_answered")]

    def __str__(self) -> str:
        return f"message #{self.pk}"

    @property
    def subject(self) -> str:
        """How the message's reply clock names it."""
        return f"message:{self.pk}"


class Notification(models.Model):
    """A short message sent to a party at a public milestone (SMS or e-mail).

    One per receipt, milestone and channel: the outbox may hand the same
    milestone over twice, the party hears of it once.
    """

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("e-mail")

    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="notifications")
    milestone = models.CharField(max_length=40)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    to_masked = models.CharField(max_length=60)
    text = models.TextField()
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["receipt", "milestone", "channel"], name="notification_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.to_masked}"
