"""The organisations' signing keys: made on first use, rotated on demand, and the
public ones every verifier trusts."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.db import IntegrityError, transaction
from django.utils import timezone

from casecenter.accounts.models import Organisation
from casecenter.audit.services import record
from casecenter.exchange import manifest
from casecenter.exchange.models import SigningKey


def _create(organisation: Organisation) -> SigningKey:
    private = manifest.generate_key()
    public = private.public_key()
    key = SigningKey.objects.create(
        organisation=organisation,
        key_id=manifest.key_id(public),
        public_key=manifest.public_key_b64(public),
        private_key=base64.b64encode(manifest.private_key_bytes(private)).decode(),
    )
    record(None, "exchange.key_created", organisation, data={"key_id": key.key_id})
    return key


@transaction.atomic
def active_key(organisation: Organisation) -> SigningKey:
    """The organisation's key in use, made on first use (two first uses at once: one)."""
    key = SigningKey.objects.filter(organisation=organisation, retired_at__isnull=True).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return _create(organisation)
    except IntegrityError:
        return SigningKey.objects.get(organisation=organisation, retired_at__isnull=True)


def private_key(key: SigningKey) -> Ed25519PrivateKey:
    return manifest.load_private_key(base64.b64decode(key.private_key))


@transaction.atomic
def rotate(organisation: Organisation) -> SigningKey:
    """Retire the key in use (it still verifies what it signed) and make a new one."""
    SigningKey.objects.select_for_update(of=("self",)).filter(
        organisation=organisation, retired_at__isnull=True
    ).update(retired_at=timezone.now())
    return _create(organisation)


def trusted() -> dict[str, Ed25519PublicKey]:
    """Every registered public key, retired ones included, by key id."""
    return {
        k.key_id: manifest.load_public_key(k.public_key)
        for k in SigningKey.objects.only("key_id", "public_key")
    }
