"""Field encryption at rest (AES-256-GCM) and blind indexes (HMAC-SHA256).

Sensitive personal information (PIPL Art. 28: ID numbers, phone numbers,
health readings, whereabouts) is stored only as ciphertext. A token reads
``v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>``; the key id lets old rows
be read after a rotation (new writes use the first key of the ring). The
column's name is bound into the ciphertext as associated data, so a value
copied into another column does not decrypt.

Equality look-ups (one ``Person`` per ID number) go through a *blind index*:
an HMAC of the normalised value under a separate index key. The database can
enforce uniqueness without ever holding the number.

Keys: ``CASECENTER_FIELD_KEYS`` = ``"k2:<base64 32 bytes>,k1:<…>"`` (newest
first) and ``CASECENTER_INDEX_KEY`` = ``<base64 32 bytes>``. Unset (embedded
mode), both are generated once in the data folder with mode 0600.

Every model with an encrypted field imports this module at start-up, so the
cipher (``cryptography``) is imported where a value is sealed or opened.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings

TOKEN_VERSION = "v1"  # noqa: S105 - a format version


class DecryptionError(Exception):
    """A stored token could not be decrypted (unknown key, tampered bytes)."""


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[tuple[str, bytes], ...]  # newest first
    index_key: bytes

    @property
    def current(self) -> tuple[str, bytes]:
        return self.keys[0]

    def key(self, key_id: str) -> bytes:
        for kid, key in self.keys:
            if kid == key_id:
                return key
        raise DecryptionError(f"no field key with id {key_id!r} in the key ring")


def _generated(path: Path) -> str:
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(base64.b64encode(secrets.token_bytes(32)).decode())
    return path.read_text().strip()


def _decode_key(text: str, what: str) -> bytes:
    key = base64.b64decode(text)
    if len(key) != 32:
        raise ValueError(f"{what} must be 32 bytes, base64-encoded")
    return key


def parse_key_ring(field_keys: str, index_key: str) -> KeyRing:
    keys = []
    for item in field_keys.split(","):
        if not item.strip():
            continue
        kid, _, b64 = item.strip().partition(":")
        if not kid or not b64:
            raise ValueError("CASECENTER_FIELD_KEYS entries read 'keyid:base64key'")
        keys.append((kid, _decode_key(b64, f"field key {kid}")))
    if not keys:
        raise ValueError("CASECENTER_FIELD_KEYS holds no key")
    return KeyRing(tuple(keys), _decode_key(index_key, "CASECENTER_INDEX_KEY"))


@lru_cache(maxsize=1)
def key_ring() -> KeyRing:
    data_dir = Path(settings.CASECENTER_DATA_DIR)
    field_keys = settings.CASECENTER_FIELD_KEYS or f"local1:{_generated(data_dir / 'field_key')}"
    index_key = os.environ.get("CASECENTER_INDEX_KEY") or _generated(data_dir / "index_key")
    return parse_key_ring(field_keys, index_key)


def encrypt(plaintext: str, *, context: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    kid, key = key_ring().current
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
    return f"{TOKEN_VERSION}:{kid}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, context: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        version, kid, b64 = token.split(":", 2)
        if version != TOKEN_VERSION:
            raise DecryptionError(f"unknown token version {version!r}")
        raw = base64.b64decode(b64)
        return AESGCM(key_ring().key(kid)).decrypt(raw[:12], raw[12:], context.encode()).decode()
    except DecryptionError:
        raise
    except Exception as exc:  # InvalidTag, bad base64, wrong shape: all mean "not ours"
        raise DecryptionError(f"cannot decrypt a value of {context}") from exc


def blind_index(value: str, *, context: str) -> str:
    """Deterministic, keyed digest of ``value`` for equality look-ups."""
    msg = f"{context}\x00{value}".encode()
    return hmac.new(key_ring().index_key, msg, hashlib.sha256).hexdigest()
