"""Signed notes and checkpoints: the audit log's tree heads in the C2SP formats.

A tree head we publish has to be readable by tools we do not write — Go's
``golang.org/x/mod/sumdb/note``, ``transparency-dev/formats/log``, the C2SP
witnesses — so it is a *checkpoint* (c2sp.org/tlog-checkpoint) carried in a
*signed note* (c2sp.org/signed-note), and a witness's countersignature is a
*cosignature* (c2sp.org/tlog-cosignature). The byte layouts are fixed by
those specifications; this module writes and reads them exactly.

Signed note::

    <text: UTF-8, ends in "\\n", no control character but "\\n">
    <blank line>
    — <key name> <base64(4-byte key ID ‖ signature)>      (one line per signature)

* The key ID is the first four bytes, big-endian, of
  ``SHA-256(name ‖ "\\n" ‖ type ‖ public key)``; type ``0x01`` is Ed25519 over
  the note text, ``0x04`` a timestamped Ed25519 cosignature.
* A verifier key reads ``<name>+<8 hex digits>+<base64(type ‖ key)>``, a signer
  key ``PRIVATE+KEY+<name>+<8 hex digits>+<base64(0x01 ‖ 32-byte seed)>``. A key
  name is non-empty and has no ``+``, no Unicode white space (the set Go's
  ``unicode.IsSpace`` has) and, unlike Go, no control character either.
* :func:`open_note` ignores signatures by unknown keys, raises
  :class:`BadSignature` when a known key's signature fails, and
  :class:`NoVerifiedSignature` when no known key signed. It refuses more than
  :data:`MAX_SIGNATURES` lines, as Go does. Two stricter rules than Go's: two
  lines by the same key name and ID are refused (Go keeps the first), and so is
  base64 that is not in its canonical form, so one signature has one spelling.

Checkpoint body (the note text)::

    <origin>\\n<tree size, decimal, no leading zeros>\\n<base64 of the 32-byte root>\\n
    <extension lines, each non-empty, each ending in "\\n">

casecenter adds one extension line, ``time <RFC 3339 UTC, to the second>``
(``time 2025-03-01T08:00:00Z``): when the head was made. Extension lines are
opaque to every other client; the tree size and root are what a witness vouches
for. Because the line differs from one signing to the next, make one head per
tree size and serve it unchanged: witnesses' cosignatures can only be merged
onto byte-identical bodies (transparency-dev/formats, log/README.md).

A cosignature (type ``0x04``) is 8 bytes of big-endian POSIX seconds followed by
an Ed25519 signature over ``"cosignature/v1\\ntime <seconds>\\n" ‖ body``. A
tlog-witness answer is a block of signature lines: read it with
:func:`parse_signature_lines` and check it with :func:`open_note` and the
witness's :class:`CosignatureVerifier`.

No Django here: the module is tested in isolation against Go's and
transparency-dev's test vectors.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "COSIGNATURE_V1",
    "ED25519",
    "MAX_SIGNATURES",
    "AmbiguousKey",
    "BadSignature",
    "Checkpoint",
    "CosignatureVerifier",
    "Ed25519Verifier",
    "MalformedCheckpoint",
    "MalformedKey",
    "MalformedNote",
    "NoVerifiedSignature",
    "Note",
    "NoteError",
    "NoteSigner",
    "Signature",
    "Signer",
    "Verifier",
    "cosignature_message",
    "cosignature_time",
    "generate_key",
    "key_hash",
    "open_checkpoint",
    "open_note",
    "parse_signature_lines",
    "parse_signer_key",
    "parse_verifier_key",
    "sign_note",
    "time_extension",
]

#: Signature type of a plain Ed25519 note signature (c2sp.org/signed-note).
ED25519 = 0x01
#: Signature type of a timestamped Ed25519 cosignature (c2sp.org/tlog-cosignature).
COSIGNATURE_V1 = 0x04
#: The most signature lines a note may have (Go's ``note.Open`` refuses a 101st).
MAX_SIGNATURES = 100

_DASH = "\N{EM DASH} "
_PRIVATE = "PRIVATE+KEY+"
_COSIGNATURE_HEADER = "cosignature/v1\n"
_MAX_TIMESTAMP = 2**63 - 1
_MAX_SIZE = 2**64 - 1
# Unicode White_Space, the set Go's unicode.IsSpace tests.
_SPACE = re.compile("[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")
_HEX8 = re.compile("[0-9a-fA-F]{8}")
_DECIMAL = re.compile("0|[1-9][0-9]*")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIME = re.compile("time ([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")


class NoteError(ValueError):
    """A note, key or checkpoint that cannot be read or must not be trusted."""


class MalformedNote(NoteError):
    """The bytes are not a signed note, or a signature line is not one."""


class MalformedKey(NoteError):
    """A verifier or signer key string, or a key name, is not well formed."""


class AmbiguousKey(NoteError):
    """Two different verifiers were given for one key name and key ID."""


class MalformedCheckpoint(NoteError):
    """A note text is not a checkpoint body, or not the checkpoint expected."""


class BadSignature(NoteError):
    """A known key's signature does not verify: the note must not be trusted."""

    def __init__(self, name: str, key_hash: int) -> None:
        super().__init__(f"invalid signature for key {name}+{key_hash:08x}")
        self.name = name
        self.key_hash = key_hash


class NoVerifiedSignature(NoteError):
    """No known key signed the note. ``note`` holds its text and unverified signatures."""

    def __init__(self, note: Note, message: str = "note has no verifiable signatures") -> None:
        super().__init__(message)
        self.note = note


def _check_name(name: str, error: type[NoteError] = MalformedKey) -> None:
    if not isinstance(name, str) or not name:
        raise error("a key name must be a non-empty string")
    if "+" in name or _SPACE.search(name) or _CONTROL.search(name):
        raise error(f"key name {name!r} has a '+', a space or a control character")
    try:
        name.encode()
    except UnicodeEncodeError:
        raise error(f"key name {name!r} is not valid UTF-8") from None


def _b64decode(text: str) -> bytes | None:
    """Standard base64 in its canonical form only, or None."""
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    return raw if base64.b64encode(raw).decode() == text else None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def key_hash(name: str, key: bytes) -> int:
    """The key ID: the first four bytes of ``SHA-256(name ‖ "\\n" ‖ key)``, big-endian.

    ``key`` is the type byte followed by the public key.
    """
    return int.from_bytes(hashlib.sha256(name.encode() + b"\n" + key).digest()[:4], "big")


# -- keys ----------------------------------------------------------------------------------


class Verifier(Protocol):
    """What :func:`open_note` needs of a key: its name, its key ID, and a check."""

    @property
    def name(self) -> str: ...
    @property
    def key_hash(self) -> int: ...
    def verify(self, message: bytes, signature: bytes) -> bool: ...


class NoteSigner(Protocol):
    """What :func:`sign_note` needs of a key: its name, its key ID, and a signature."""

    @property
    def name(self) -> str: ...
    @property
    def key_hash(self) -> int: ...
    def sign(self, message: bytes) -> bytes: ...


@dataclass(frozen=True)
class _PublicKey:
    name: str
    public_key: bytes
    signature_type: ClassVar[int]
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not isinstance(self.public_key, bytes) or len(self.public_key) != 32:
            raise MalformedKey("an Ed25519 public key is 32 bytes")
        object.__setattr__(self, "_key", Ed25519PublicKey.from_public_bytes(self.public_key))

    @property
    def key_hash(self) -> int:
        return key_hash(self.name, bytes([self.signature_type]) + self.public_key)

    def verifier_key(self) -> str:
        """The key as ``<name>+<key ID>+<base64(type ‖ key)>``."""
        raw = bytes([self.signature_type]) + self.public_key
        return f"{self.name}+{self.key_hash:08x}+{_b64(raw)}"

    def _verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Ed25519Verifier(_PublicKey):
    """A log's key: Ed25519 signatures over the note text (type ``0x01``)."""

    signature_type: ClassVar[int] = ED25519

    def verify(self, message: bytes, signature: bytes) -> bool:
        return self._verify(message, signature)


@dataclass(frozen=True)
class CosignatureVerifier(_PublicKey):
    """A witness's key: timestamped cosignatures (type ``0x04``, cosignature/v1)."""

    signature_type: ClassVar[int] = COSIGNATURE_V1

    def verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != 8 + 64:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > _MAX_TIMESTAMP:
            return False
        return self._verify(cosignature_message(message, timestamp), signature[8:])


@dataclass(frozen=True)
class Signer:
    """An Ed25519 signing key under a name. Its seed is secret, so never in its repr."""

    name: str
    seed: bytes = field(repr=False)
    _key: Ed25519PrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not isinstance(self.seed, bytes) or len(self.seed) != 32:
            raise MalformedKey("an Ed25519 seed is 32 bytes")
        object.__setattr__(self, "_key", Ed25519PrivateKey.from_private_bytes(self.seed))

    @property
    def public_key(self) -> bytes:
        return self._key.public_key().public_bytes_raw()

    @property
    def key_hash(self) -> int:
        return self.verifier().key_hash

    def verifier(self) -> Ed25519Verifier:
        return Ed25519Verifier(self.name, self.public_key)

    def signer_key(self) -> str:
        """The key as ``PRIVATE+KEY+<name>+<key ID>+<base64(0x01 ‖ seed)>``: keep it secret."""
        return f"{_PRIVATE}{self.name}+{self.key_hash:08x}+{_b64(bytes([ED25519]) + self.seed)}"

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def generate_key(name: str) -> tuple[str, str]:
    """A new key pair under ``name``: ``(signer key, verifier key)``."""
    signer = Signer(name, Ed25519PrivateKey.generate().private_bytes_raw())
    return signer.signer_key(), signer.verifier().verifier_key()


def _split_key(text: str, what: str) -> tuple[str, int, bytes]:
    name, _, rest = text.partition("+")
    hash16, _, key64 = rest.partition("+")
    key = _b64decode(key64)
    if not _HEX8.fullmatch(hash16) or not key:
        raise MalformedKey(f"{what} must read <name>+<8 hex digits>+<base64 key>")
    _check_name(name)
    if key[0] not in (ED25519, COSIGNATURE_V1) or len(key) != 33:
        raise MalformedKey(f"{what} for {name!r}: not an Ed25519 key (type 0x{key[0]:02x})")
    if int(hash16, 16) != key_hash(name, key):
        raise MalformedKey(f"{what} for {name!r}: key ID {hash16} does not match the key")
    return name, key[0], key[1:]


def parse_verifier_key(vkey: str) -> Ed25519Verifier | CosignatureVerifier:
    """Read ``<name>+<key ID>+<base64(type ‖ key)>``; the type byte picks the class."""
    name, kind, key = _split_key(vkey, "a verifier key")
    return Ed25519Verifier(name, key) if kind == ED25519 else CosignatureVerifier(name, key)


def parse_signer_key(skey: str) -> Signer:
    """Read ``PRIVATE+KEY+<name>+<key ID>+<base64(0x01 ‖ seed)>``."""
    if not skey.startswith(_PRIVATE):
        raise MalformedKey("a signer key must start with PRIVATE+KEY+")
    name, _, rest = skey[len(_PRIVATE) :].partition("+")
    hash16, _, key64 = rest.partition("+")
    key = _b64decode(key64)
    if not _HEX8.fullmatch(hash16) or not key:
        raise MalformedKey("a signer key must read PRIVATE+KEY+<name>+<8 hex digits>+<base64>")
    if key[0] != ED25519 or len(key) != 33:
        raise MalformedKey(f"signer key for {name!r}: not an Ed25519 key (type 0x{key[0]:02x})")
    signer = Signer(name, key[1:])
    if int(hash16, 16) != signer.key_hash:
        raise MalformedKey(f"signer key for {name!r}: key ID {hash16} does not match the key")
    return signer


# -- notes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, key ID, and ``base64(key ID ‖ signature)``."""

    name: str
    key_hash: int
    base64: str

    def __post_init__(self) -> None:
        _check_name(self.name, MalformedNote)
        raw = _b64decode(self.base64)
        if raw is None or len(raw) < 5:
            raise MalformedNote(f"signature by {self.name!r} is not base64 of 5 bytes or more")
        if int.from_bytes(raw[:4], "big") != self.key_hash:
            raise MalformedNote(f"signature by {self.name!r} does not begin with its key ID")

    @property
    def raw(self) -> bytes:
        """The signature itself, after the key ID."""
        return base64.b64decode(self.base64)[4:]

    def line(self) -> str:
        return f"{_DASH}{self.name} {self.base64}\n"


@dataclass(frozen=True)
class Note:
    """A text with the signatures found on it, verified and not."""

    text: str
    signatures: tuple[Signature, ...] = ()
    unverified: tuple[Signature, ...] = ()


def _parse_line(line: str) -> Signature:
    if not line.startswith(_DASH):
        raise MalformedNote(f"signature line {line[:40]!r} does not start with an em dash")
    name, _, b64 = line[len(_DASH) :].partition(" ")
    raw = _b64decode(b64)
    if raw is None or len(raw) < 5:
        raise MalformedNote(f"signature line {line[:40]!r}: not base64 of 5 bytes or more")
    return Signature(name, int.from_bytes(raw[:4], "big"), b64)


def parse_signature_lines(block: bytes | str) -> tuple[Signature, ...]:
    """The signature lines of a block (as a tlog-witness answers), each ending in a newline."""
    text = _decode(block)
    if not text.endswith("\n"):
        raise MalformedNote("a signature block must end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"more than {MAX_SIGNATURES} signatures")
    signatures = tuple(_parse_line(line) for line in lines)
    seen: set[tuple[str, int]] = set()
    for sig in signatures:
        if (sig.name, sig.key_hash) in seen:
            raise MalformedNote(f"two signatures by key {sig.name}+{sig.key_hash:08x}")
        seen.add((sig.name, sig.key_hash))
    return signatures


def _decode(message: bytes | str) -> str:
    try:
        text = message.decode() if isinstance(message, bytes) else message
        text.encode()
    except UnicodeError:
        raise MalformedNote("a note must be valid UTF-8") from None
    if found := _CONTROL.search(text):
        raise MalformedNote(f"control character U+{ord(found.group()):04X} in the note")
    return text


def _index(verifiers: Iterable[Verifier]) -> dict[tuple[str, int], Verifier]:
    known: dict[tuple[str, int], Verifier] = {}
    for v in verifiers:
        other = known.setdefault((v.name, v.key_hash), v)
        if other is not v and other != v:
            raise AmbiguousKey(f"two different verifiers for key {v.name}+{v.key_hash:08x}")
    return known


def open_note(message: bytes | str, verifiers: Iterable[Verifier]) -> Note:
    """Read a signed note and check its signatures against the known ``verifiers``.

    Returns the note with the signatures that verified and those by unknown keys.
    """
    known = _index(verifiers)
    whole = _decode(message)
    split = whole.rfind("\n\n")
    if split < 0:
        raise MalformedNote("no blank line between the text and the signatures")
    text = whole[: split + 1]
    if split + 2 == len(whole):
        raise MalformedNote("no signature lines after the blank line")
    signed = text.encode()
    verified: list[Signature] = []
    unverified: list[Signature] = []
    for sig in parse_signature_lines(whole[split + 2 :]):
        verifier = known.get((sig.name, sig.key_hash))
        if verifier is None:
            unverified.append(sig)
        elif verifier.verify(signed, sig.raw):
            verified.append(sig)
        else:
            raise BadSignature(sig.name, sig.key_hash)
    note = Note(text, tuple(verified), tuple(unverified))
    if not verified:
        raise NoVerifiedSignature(note)
    return note


def sign_note(note: Note | str, *signers: NoteSigner) -> bytes:
    """The note signed by ``signers``, after the signatures it already has.

    An existing signature by the key of one of ``signers`` is replaced by the new one.
    """
    if isinstance(note, str):
        note = Note(note)
    text = note.text
    if not text.endswith("\n"):
        raise MalformedNote("a note's text must end in a newline")
    message = _decode(text).encode()
    fresh: dict[tuple[str, int], Signature] = {}
    for signer in signers:
        _check_name(signer.name)
        key = (signer.name, signer.key_hash)
        if key not in fresh:
            raw = key[1].to_bytes(4, "big") + signer.sign(message)
            fresh[key] = Signature(signer.name, signer.key_hash, _b64(raw))
    kept = [s for s in (*note.signatures, *note.unverified) if (s.name, s.key_hash) not in fresh]
    block = "".join(s.line() for s in (*kept, *fresh.values()))
    if not block:
        raise MalformedNote("nothing to sign with: no signers and no signatures")
    parse_signature_lines(block)  # refuses duplicates and too many lines
    return (text + "\n" + block).encode()


# -- cosignatures --------------------------------------------------------------------------


def cosignature_message(body: bytes | str, timestamp: int) -> bytes:
    """What a witness signs: ``"cosignature/v1\\ntime <timestamp>\\n" ‖ body``."""
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise ValueError(f"a cosignature timestamp is 0 to 2**63 - 1, not {timestamp}")
    raw = body.encode() if isinstance(body, str) else body
    return f"{_COSIGNATURE_HEADER}time {timestamp}\n".encode() + raw


def cosignature_time(signature: Signature) -> datetime:
    """When a witness made an Ed25519 cosignature, as it says (UTC)."""
    raw = signature.raw
    if len(raw) != 8 + 64:
        raise MalformedNote(f"signature by {signature.name!r} is not an Ed25519 cosignature")
    try:
        return datetime.fromtimestamp(int.from_bytes(raw[:8], "big"), UTC)
    except (OverflowError, ValueError, OSError):
        raise MalformedNote(f"cosignature by {signature.name!r}: time out of range") from None


# -- checkpoints ---------------------------------------------------------------------------


def time_extension(when: datetime) -> str:
    """The extension line casecenter puts on a checkpoint: ``time 2025-03-01T08:00:00Z``."""
    if when.utcoffset() is None:
        raise ValueError("a checkpoint's time needs a time zone")
    return f"time {when.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat()}Z"


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size and root, and extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin or "\n" in self.origin:
            raise MalformedCheckpoint("a checkpoint's origin is one non-empty line")
        if type(self.size) is not int or not 0 <= self.size <= _MAX_SIZE:
            raise MalformedCheckpoint(f"tree size {self.size!r} is not an integer 0 to 2**64 - 1")
        if not isinstance(self.root, bytes) or len(self.root) != 32:
            raise MalformedCheckpoint("a checkpoint's root hash is 32 bytes")
        if not isinstance(self.extensions, tuple) or not all(
            isinstance(line, str) and line and "\n" not in line for line in self.extensions
        ):
            raise MalformedCheckpoint("extension lines are a tuple of non-empty lines")
        try:
            _decode(self.body())
        except MalformedNote as error:
            raise MalformedCheckpoint(f"a checkpoint must be a note text: {error}") from None

    def body(self) -> str:
        lines = (self.origin, str(self.size), _b64(self.root), *self.extensions)
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        if not body.endswith("\n"):
            raise MalformedCheckpoint("a checkpoint body must end in a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedCheckpoint(f"a checkpoint has 3 lines or more, not {len(lines)}")
        origin, size, root, *extensions = lines
        if not origin:
            raise MalformedCheckpoint("a checkpoint's origin line is empty")
        if not _DECIMAL.fullmatch(size):
            raise MalformedCheckpoint(f"tree size {size!r} is not a decimal without leading zeros")
        raw = _b64decode(root)
        if raw is None or len(raw) != 32:
            raise MalformedCheckpoint(f"root hash {root!r} is not base64 of 32 bytes")
        if "" in extensions:
            raise MalformedCheckpoint("an extension line is empty")
        return cls(origin, int(size), raw, tuple(extensions))

    def made_at(self) -> datetime | None:
        """The time in the ``time`` extension line, or None without one."""
        lines = [line for line in self.extensions if line.startswith("time ")]
        if not lines:
            return None
        match = _TIME.fullmatch(lines[0])
        if len(lines) > 1 or match is None:
            raise MalformedCheckpoint(f"not one time line of the form {time_extension(_EPOCH)}")
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError:
            raise MalformedCheckpoint(f"{lines[0]!r} is not a valid time") from None


def open_checkpoint(
    message: bytes | str, origin: str, log: Verifier, *others: Verifier
) -> tuple[Checkpoint, Note]:
    """Read a checkpoint the ``log`` key signed, for ``origin``; ``others`` (witnesses) may."""
    note = open_note(message, (log, *others))
    if (log.name, log.key_hash) not in {(s.name, s.key_hash) for s in note.signatures}:
        raise NoVerifiedSignature(
            note, f"no signature by the log key {log.name}+{log.key_hash:08x}"
        )
    checkpoint = Checkpoint.parse(note.text)
    if checkpoint.origin != origin:
        raise MalformedCheckpoint(f"checkpoint of {checkpoint.origin!r}, expected {origin!r}")
    return checkpoint, note
