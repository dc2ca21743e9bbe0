"""The log's signing key: made on first use, rotated on demand, every one kept to verify.

The sequencer signs each checkpoint with the active :class:`LogKey` of this
log's origin (``CASECENTER_AUDIT_ORIGIN``). Rotation retires that key and
makes a new one; a retired key still verifies every checkpoint it signed, so
``audit verify`` and outside verifiers keep the whole list
(``casecenter audit public-key``). The private key is encrypted at rest with
the field keys, like the organisations' exchange keys.
"""

from __future__ import annotations

import base64
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from casecenter.audit import note
from casecenter.audit.models import LogKey


def origin() -> str:
    """The log's origin: the first line of its checkpoints and its key's name."""
    return str(settings.CASECENTER_AUDIT_ORIGIN)


def _create(name: str) -> LogKey:
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    signer = note.Signer(name, seed)
    return LogKey.objects.create(
        name=name,
        key_hash=f"{signer.key_hash:08x}",
        public_key=base64.b64encode(signer.public_key).decode(),
        private_key=base64.b64encode(seed).decode(),
    )


def active_key() -> LogKey:
    """The key in use for this origin, made on first use (two first uses at once: one)."""
    name = origin()
    key = LogKey.objects.filter(name=name, retired_at__isnull=True).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return _create(name)
    except IntegrityError:
        return LogKey.objects.get(name=name, retired_at__isnull=True)


@transaction.atomic
def rotate() -> LogKey:
    """Retire the key in use (it still verifies what it signed) and make a new one."""
    name = origin()
    LogKey.objects.select_for_update().filter(name=name, retired_at__isnull=True).update(
        retired_at=timezone.now()
    )
    return _create(name)


def signer(key: LogKey) -> note.Signer:
    return note.Signer(key.name, base64.b64decode(key.private_key))


def verifier(key: LogKey) -> note.Ed25519Verifier:
    return note.Ed25519Verifier(key.name, base64.b64decode(key.public_key))


def verifiers() -> list[note.Ed25519Verifier]:
    """Every key of this log, retired ones included: what verifies its checkpoints."""
    return [verifier(k) for k in LogKey.objects.filter(name=origin()).order_by("created_at")]


def sign_checkpoint(size: int, root: bytes, at: datetime, key: LogKey) -> str:
    """The signed note of the checkpoint ``(size, root)`` made at ``at``, signed by ``key``."""
    body = note.Checkpoint(origin(), size, root, (note.time_extension(at),)).body()
    return note.sign_note(body, signer(key)).decode("utf-8")
