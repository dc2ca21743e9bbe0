"""Public case progress (办案进度查询): receipts and the guard on public access."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("acceptance receipt")

    def __str__(self) -> str:
        return self.number


class Throttle(models.Model):
    """Attempts counted per key (a client, a receipt number) in a fixed time window."""

    key = models.CharField(max_length=100)
    window = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window"], name="throttle_unique")]
