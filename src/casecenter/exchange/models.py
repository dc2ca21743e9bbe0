"""Exchange between organisations (F7): their signing keys so far.

Each organisation signs the hand-over packages it sends with its own Ed25519
key (``manifest``). The private key is kept encrypted with the field keys; the
public key is what receivers — and ``casecenter package verify`` — trust.
A retired key still verifies the packages it signed.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from casecenter.privacy.fields import EncryptedTextField


class SigningKey(models.Model):
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="signing_keys"
    )
    key_id = models.CharField(max_length=16, unique=True)
    public_key = models.CharField(max_length=64)  # base64 of the 32 raw bytes
    private_key = EncryptedTextField(context="exchange.signing_key.private")
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation_id", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(retired_at__isnull=True),
                name="one_active_signing_key",
            )
        ]
        verbose_name = _("signing key")

    def __str__(self) -> str:
        return self.key_id
