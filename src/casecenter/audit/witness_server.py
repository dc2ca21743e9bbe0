"""The witness: cosign another organisation's checkpoints when they grow consistently.

casecenter speaks C2SP tlog-witness (https://c2sp.org/tlog-witness) on both
sides. As a witness, it follows the logs its operator names
(:class:`~casecenter.audit.models.WitnessedLog`: an origin and the log's
verifier keys), keeps the latest checkpoint it cosigned of each, and answers
``POST /witness/add-checkpoint`` (:mod:`casecenter.audit.views`)::

    old <size the client believes the witness has>
    <consistency proof: one base64 hash a line, 63 at most>
    <empty line>
    <the signed checkpoint>

with, in the order the specification checks them:

* **400** — the body is not that, or ``old`` is larger than the checkpoint;
* **404** — the checkpoint's origin is not a log this witness follows;
* **403** — no signature by one of the log's keys, or a failing one;
* **409** — ``old`` is not the size this witness cosigned last: the body is
  that size (``text/x.tlog.size``), for the client to try again from it;
* **422** — the checkpoint does not extend the cosigned one: the proof does
  not verify, the same size has another root, a proof from the empty tree is
  not empty, an empty tree has another root;
* **200** — the witness's cosignature line, ``— <witness name>
  <base64(key ID ‖ 8-byte time ‖ Ed25519 signature)>`` (c2sp.org/tlog-cosignature,
  type 0x04), made after the new checkpoint was stored.

Checking ``old`` and storing the new checkpoint happen in one transaction that
locks the log's row, so two submissions cannot roll the witness back. Every
checkpoint of a followed log, cosigned or refused, writes an audit entry
(``audit.witness_cosigned``, ``audit.witness_refused``) — refusals are
evidence that a log misbehaved. Submissions for an unknown origin (404) and
unreadable bodies (400) are only logged: anyone can send them, and they are
nothing this witness vouches for.

The witness's own key (:class:`~casecenter.audit.models.WitnessKey`) is made
on first use under ``CASECENTER_AUDIT_WITNESS_NAME`` and kept encrypted;
``casecenter audit witness-key`` prints its verifier key for the logs' operators.
"""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import IntegrityError, transaction

from casecenter.audit import note
from casecenter.audit.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from casecenter.audit.models import WitnessedLog, WitnessKey
from casecenter.audit.services import record

log = logging.getLogger(__name__)

#: The largest request body read (as transparency-dev/witness: ample for any checkpoint).
MAX_BODY = 16 * 1024
#: The most consistency proof lines a client may send (the specification's limit).
MAX_PROOF_LINES = 63
#: The media type of a 409's body: the size the witness cosigned last.
SIZE_TYPE = "text/x.tlog.size"
TEXT_TYPE = "text/plain; charset=utf-8"
#: The audit entries of a checkpoint cosigned and refused.
COSIGNED = "audit.witness_cosigned"
REFUSED = "audit.witness_refused"
WITNESS_RECORDS = (COSIGNED, REFUSED)

_OLD = re.compile("old (0|[1-9][0-9]{0,19})")
_MAX_SIZE = 2**64 - 1
#: The largest tree size stored (a signed 64-bit column); a larger one is refused (422).
MAX_STORED_SIZE = 2**63 - 1


# -- the witness's key -------------------------------------------------------------------


class Cosigner:
    """A witness key making cosignature/v1 signatures (type 0x04): a :class:`note.NoteSigner`.

    The signature is the 8-byte big-endian time of signing followed by an
    Ed25519 signature over ``note.cosignature_message(body, time)``.
    """

    def __init__(self, name: str, seed: bytes) -> None:
        self._signer = note.Signer(name, seed)  # checks the name and the seed
        self.name = name
        self.verifier = note.CosignatureVerifier(name, self._signer.public_key)
        self.key_hash = self.verifier.key_hash

    def sign(self, message: bytes) -> bytes:
        timestamp = int(time.time())
        signed = note.cosignature_message(message, timestamp)
        return timestamp.to_bytes(8, "big") + self._signer.sign(signed)


def witness_name() -> str:
    """The name this casecenter cosigns under (its witness key's name)."""
    return str(settings.CASECENTER_AUDIT_WITNESS_NAME)


def witness_key() -> WitnessKey:
    """The witness key of :func:`witness_name`, made on first use (two first uses: one)."""
    name = witness_name()
    key = WitnessKey.objects.filter(name=name).first()
    if key is not None:
        return key
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    cosigner = Cosigner(name, seed)
    try:
        with transaction.atomic():
            return WitnessKey.objects.create(
                name=name,
                key_hash=f"{cosigner.key_hash:08x}",
                public_key=base64.b64encode(cosigner.verifier.public_key).decode(),
                private_key=base64.b64encode(seed).decode(),
            )
    except IntegrityError:
        return WitnessKey.objects.get(name=name)


def cosigner(key: WitnessKey | None = None) -> Cosigner:
    key = key or witness_key()
    return Cosigner(key.name, base64.b64decode(key.private_key))


def verifier_key() -> str:
    """The witness's verifier key, ``<name>+<key ID>+<base64(0x04 ‖ key)>``, for the logs."""
    key = witness_key()
    return note.CosignatureVerifier(key.name, base64.b64decode(key.public_key)).verifier_key()


# -- the logs it follows -----------------------------------------------------------------


def log_verifiers(keys: str | Iterable[str]) -> list[note.Ed25519Verifier]:
    """The Ed25519 verifier keys of a log, one per line; :class:`note.NoteError` if one is bad."""
    lines = keys.splitlines() if isinstance(keys, str) else list(keys)
    verifiers = []
    for line in (line.strip() for line in lines):
        if not line:
            continue
        verifier = note.parse_verifier_key(line)
        if not isinstance(verifier, note.Ed25519Verifier):
            raise note.MalformedKey(f"{line[:40]!r} is a witness key, not a log's (type 0x01)")
        verifiers.append(verifier)
    return verifiers


@transaction.atomic
def follow_log(actor: object, origin: str, keys: Iterable[str]) -> WitnessedLog:
    """Witness the log ``origin`` signed by ``keys``, or trust more keys of a followed log.

    Keys are only ever added (a rotated log key still verifies old checkpoints
    a client may send); the cosigned state is left as it is.
    """
    origin = origin.strip()
    if not origin or "\n" in origin or len(origin) > 255:
        raise ValueError("an origin is one line of 1 to 255 characters")
    new = log_verifiers(keys)
    if not new:
        raise ValueError("give at least one verifier key of the log")
    row, created = WitnessedLog.objects.select_for_update().get_or_create(
        origin=origin, defaults={"verifier_keys": ""}
    )
    have = log_verifiers(row.verifier_keys)
    added: list[note.Ed25519Verifier] = []
    for verifier in new:
        if verifier not in have and verifier not in added:
            added.append(verifier)
    if not created and not added:
        return row
    _check_no_clash([*have, *added])
    row.verifier_keys = "".join(v.verifier_key() + "\n" for v in [*have, *added])
    row.save(update_fields=["verifier_keys", "updated_at"])
    record(
        actor,
        "audit.witnessed_log_added" if created else "audit.witnessed_log_keys_added",
        row,
        data={"origin": origin, "keys": [v.verifier_key() for v in added]},
    )
    return row


def _check_no_clash(verifiers: list[note.Ed25519Verifier]) -> None:
    """Two keys of one name and key ID would make every checkpoint unreadable: refuse them."""
    seen: dict[tuple[str, int], note.Ed25519Verifier] = {}
    for v in verifiers:
        if seen.setdefault((v.name, v.key_hash), v) != v:
            raise note.AmbiguousKey(f"two different keys {v.name}+{v.key_hash:08x}")


# -- add-checkpoint ----------------------------------------------------------------------


class BadRequest(ValueError):
    """The body is not an add-checkpoint request (400)."""


@dataclass(frozen=True)
class Submission:
    """An add-checkpoint request: the old size, the proof and the signed checkpoint."""

    old: int
    proof: tuple[bytes, ...]
    signed: str
    checkpoint: note.Checkpoint


@dataclass(frozen=True)
class Answer:
    """What the witness answers: status, body, media type."""

    status: int
    body: str
    content_type: str = TEXT_TYPE
    #: why, for the audit entry of a refusal (default: the body)
    reason: str = ""


def parse_submission(body: bytes) -> Submission:
    """Read an add-checkpoint body strictly; :class:`BadRequest` says what is wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8") from None
    head, blank, signed = text.partition("\n\n")
    if not blank:
        raise BadRequest("no empty line before the checkpoint")
    old_line, *proof_lines = head.split("\n")
    match = _OLD.fullmatch(old_line)
    if match is None or int(match.group(1)) > _MAX_SIZE:
        raise BadRequest("the first line is not 'old <size>'")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise BadRequest(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in proof_lines:
        try:
            value = base64.b64decode(line, validate=True)
        except ValueError:
            value = b""
        if len(value) != HASH_SIZE or base64.b64encode(value).decode() != line:
            raise BadRequest("a consistency proof line is not the base64 of a 32-byte hash")
        proof.append(value)
    try:
        note.open_note(signed, ())  # no keys yet: only whether it is a signed note
    except note.NoVerifiedSignature as unverified:  # well formed; who signed it comes later
        text = unverified.note.text
    except note.NoteError as exc:
        raise BadRequest(f"not a signed note: {exc}") from None
    else:  # pragma: no cover - with no keys, no signature verifies
        raise BadRequest("not a signed note")
    try:
        checkpoint = note.Checkpoint.parse(text)
    except note.NoteError as exc:
        raise BadRequest(f"not a checkpoint: {exc}") from None
    return Submission(int(match.group(1)), tuple(proof), signed, checkpoint)


def add_checkpoint(body: bytes, client: str = "") -> Answer:
    """Answer one add-checkpoint request (``client``: the caller's address, for the audit)."""
    try:
        submission = parse_submission(body)
    except BadRequest as exc:
        log.info("witness: bad add-checkpoint request from %s: %s", client or "?", exc)
        return Answer(400, f"{exc}\n")
    origin = submission.checkpoint.origin
    with transaction.atomic():
        row = WitnessedLog.objects.select_for_update().filter(origin=origin).first()
        if row is None:
            log.info("witness: checkpoint of an unknown log %r from %s", origin[:100], client)
            return Answer(404, "unknown log: this witness does not follow it\n")
        answer, cosigned = _judge(row, submission)
        facts = {
            "origin": origin,
            "old_size": submission.old,
            "size": submission.checkpoint.size,
            "root": submission.checkpoint.root.hex(),
            "client": client,
        }
        if cosigned is None:
            record(
                None,
                REFUSED,
                row,
                reason=answer.reason or answer.body.strip(),
                data={**facts, "status": answer.status, "cosigned_size": row.size},
            )
            return answer
        row.size = submission.checkpoint.size
        row.root = submission.checkpoint.root
        row.checkpoint = cosigned
        row.save(update_fields=["size", "root", "checkpoint", "updated_at"])
        record(None, COSIGNED, row, data=facts)
    return answer


def _judge(row: WitnessedLog, submission: Submission) -> tuple[Answer, str | None]:
    """The answer to ``submission`` given the witness's ``row``, and the note to store if 200."""
    checkpoint, old = submission.checkpoint, submission.old
    try:
        opened = note.open_note(submission.signed, log_verifiers(row.verifier_keys))
    except note.NoVerifiedSignature:
        return Answer(403, "no signature by a key of this log\n"), None
    except note.BadSignature as exc:
        return Answer(403, f"{exc}\n"), None
    if old > checkpoint.size:
        problem = f"old size {old} is larger than the checkpoint's {checkpoint.size}"
        return Answer(400, problem + "\n"), None
    if old != row.size:
        why = f"old size {old}, but this witness cosigned {row.size}"
        return Answer(409, f"{row.size}\n", SIZE_TYPE, why), None
    if checkpoint.size > MAX_STORED_SIZE:
        return Answer(422, f"a tree of more than {MAX_STORED_SIZE} entries is not stored\n"), None
    if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
        return Answer(422, "a checkpoint of size 0 must have the empty tree's root\n"), None
    if old == 0:
        if submission.proof:
            return Answer(422, "a proof from the empty tree must be empty\n"), None
    elif not verify_consistency(
        old, checkpoint.size, submission.proof, bytes(row.root), checkpoint.root
    ):
        if old == checkpoint.size:
            problem = f"same size {old}, different root from the one cosigned"
        else:
            problem = f"the consistency proof from the cosigned size {old} does not verify"
        return Answer(422, problem + "\n"), None
    signer = cosigner()
    stored = note.sign_note(note.Note(opened.text, opened.signatures), signer).decode()
    block = stored[len(opened.text) + 1 :]
    mine = [
        s
        for s in note.parse_signature_lines(block)
        if (s.name, s.key_hash) == (signer.name, signer.key_hash)
    ]
    return Answer(200, "".join(s.line() for s in mine)), stored
