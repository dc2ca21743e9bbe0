"""Checkpoints leave the database: pushed to witnesses after every integration.

A witness keeps the latest checkpoint it accepted and accepts a new one only
if the log grew consistently from it (a consistency proof between the two
roots). An attacker who rewrites or truncates the log in the database then
disagrees with what the witness holds, and ``casecenter audit verify
--checkpoint`` on the witness's copy says where.

``CASECENTER_AUDIT_WITNESSES`` lists them as URLs:

* ``file:///srv/audit-witness`` — a folder, on another disk, a mount of another
  machine, or write-once storage. The witness there is this module: it keeps
  ``<folder>/checkpoint`` (the latest accepted, written atomically) and refuses
  a checkpoint that does not extend it, leaving the old one in place and the
  refused one beside it as ``checkpoint.refused`` for the operator.
* ``https://witness.example/prefix#<verifier key>`` — a C2SP tlog-witness
  (c2sp.org/tlog-witness), another organisation's: another casecenter
  (:mod:`casecenter.audit.witness_server`) or any implementation of the
  specification. The checkpoint is POSTed to ``<prefix>/add-checkpoint`` with
  a consistency proof from the size that witness cosigned last (kept in
  :class:`~casecenter.audit.models.WitnessState`); a 409 names the size it
  really has, and the push is made once more from there. Its answer, the
  cosignature, is checked with the verifier key of the URL's fragment (type
  0x04, printed by ``casecenter audit witness-key`` on the witness's side) and
  kept; without a fragment it is kept unchecked. ``http://`` is allowed to a
  loopback address only (tests, a local TLS proxy).

An S3-compatible bucket is not built yet; naming one, or anything else, is a
configuration error reported when the sequencer starts (see docs/audit-log.md).

A witness that refuses, fails or does not answer within :data:`TIMEOUT_SECONDS`
is reported to the caller (the sequencer logs it); one that cannot be reached
or pushes back (429, 5xx) is left alone for :data:`REST_SECONDS`, so a dead
witness does not slow every integration — the push after that sends the
newest checkpoint, which proves everything before it.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import logging
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from casecenter.audit import note
from casecenter.audit.merkle import verify_consistency

log = logging.getLogger(__name__)

CHECKPOINT_FILE = "checkpoint"
REFUSED_FILE = "checkpoint.refused"

#: How long an HTTP witness may keep the sequencer waiting at each step (connect, each read).
TIMEOUT_SECONDS = 5.0
#: How long an HTTP witness that could not be reached, or pushed back, is left alone.
REST_SECONDS = 30.0
#: The media type of a tlog-witness 409's body (the size it has).
SIZE_TYPE = "text/x.tlog.size"
#: The longest witness URL (without its key) kept in WitnessState.
MAX_URL = 500
#: The largest tree size kept of a witness (a signed 64-bit column).
MAX_SIZE = 2**63 - 1
#: The most of a witness's answer quoted in a problem.
QUOTED = 200


class Refused(Exception):
    """The witness would not take the checkpoint; the message says why."""


class Unreachable(Refused):
    """The witness could not be asked, or asked to be left alone (429, 5xx)."""


@dataclass(frozen=True)
class FolderWitness:
    """A ``file:///folder`` witness: this module keeps the checkpoint in the folder."""

    folder: Path

    def push(self, signed: str) -> None:
        push_folder(self.folder, signed)


@dataclass(frozen=True)
class HttpWitness:
    """A C2SP tlog-witness: its submission prefix and, when given, its verifier key."""

    url: str
    key: note.CosignatureVerifier | None = None

    def push(self, signed: str) -> None:
        push_http(self, signed)


Witness = FolderWitness | HttpWitness


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _http_witness(url: str) -> HttpWitness:
    parsed = urlparse(url)
    host = parsed.hostname or ""
    if not host or parsed.query or parsed.params or parsed.username or parsed.password:
        raise ImproperlyConfigured(
            f"audit witness {url!r}: write https://host/prefix#<the witness's verifier key>"
        )
    if parsed.scheme == "http" and not _is_loopback(host):
        raise ImproperlyConfigured(
            f"audit witness {url!r}: http:// only to a loopback address; use https://"
        )
    prefix = f"{parsed.scheme}://{parsed.netloc}{parsed.path.rstrip('/')}"
    if len(prefix) > MAX_URL:
        raise ImproperlyConfigured(f"audit witness {url[:80]!r}…: longer than {MAX_URL} characters")
    if not parsed.fragment:
        return HttpWitness(prefix)
    try:
        key = note.parse_verifier_key(unquote(parsed.fragment))
    except note.NoteError as exc:
        raise ImproperlyConfigured(f"audit witness {url!r}: bad verifier key: {exc}") from None
    if not isinstance(key, note.CosignatureVerifier):
        raise ImproperlyConfigured(
            f"audit witness {url!r}: {key.name}+{key.key_hash:08x} is not a witness's "
            "cosignature key (type 0x04, `casecenter audit witness-key`)"
        )
    return HttpWitness(prefix, key)


def configured(urls: list[str] | None = None) -> list[Witness]:
    """The witnesses of ``urls`` (default: the setting); a URL of another kind is refused."""
    result: list[Witness] = []
    for url in settings.CASECENTER_AUDIT_WITNESSES if urls is None else urls:
        parsed = urlparse(url)
        if parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
            result.append(FolderWitness(Path(unquote(parsed.path))))
        elif parsed.scheme in ("https", "http"):
            result.append(_http_witness(url))
        else:
            raise ImproperlyConfigured(
                f"audit witness {url!r}: not a file:///folder or an https:// tlog-witness"
            )
    return result


def folders(urls: list[str] | None = None) -> list[Path]:
    """The witness folders of ``urls`` (default: the setting), after checking them all."""
    return [w.folder for w in configured(urls) if isinstance(w, FolderWitness)]


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".checkpoint-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _body(signed: str) -> note.Checkpoint:
    split = signed.rfind("\n\n")
    if split < 0:
        raise note.MalformedNote("no blank line between the checkpoint and its signatures")
    return note.Checkpoint.parse(signed[: split + 1])


def push_folder(folder: Path, signed: str) -> None:
    """Keep ``signed`` in ``folder`` if it extends the checkpoint kept there, else refuse."""
    from casecenter.audit import proofs

    new = _body(signed)
    path = folder / CHECKPOINT_FILE
    try:
        kept_text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        kept_text = ""
    if kept_text:
        kept = _body(kept_text)
        if kept.origin != new.origin:
            raise Refused(f"{path} holds a checkpoint of another log, {kept.origin!r}")
        if new.size < kept.size:
            problem = f"the log has {new.size} entries, fewer than the {kept.size} witnessed"
        elif new.size == kept.size:
            problem = "" if new.root == kept.root else "same size, different root"
        else:
            problem = f"it does not extend the witnessed tree of {kept.size}"
            try:
                proof = proofs.consistency(kept.size, new.size)
            except proofs.ProofError as exc:  # nodes or entries gone: nothing proves it
                problem += f" (no consistency proof: {exc})"
            else:
                if verify_consistency(kept.size, new.size, proof, kept.root, new.root):
                    problem = ""
        if problem:
            _write_atomically(folder / REFUSED_FILE, signed)
            raise Refused(f"{path}: {problem}")
        if new.size == kept.size:
            return
    _write_atomically(path, signed)


# -- tlog-witness over HTTP --------------------------------------------------------------

#: HTTP witnesses left alone, by URL, until this monotonic time (this process only).
_resting: dict[str, float] = {}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET: report it instead of following it."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> None:
        return None  # urllib then raises the 3xx as an HTTPError: an unexpected answer


_opener = urllib.request.build_opener(_NoRedirect)


def _quote(answer: bytes) -> str:
    """The start of a witness's answer, on one line and printable, for a problem."""
    text = "".join(c if c.isprintable() else " " for c in answer.decode("utf-8", "replace"))
    text = text.strip()[:QUOTED]
    return f": {text}" if text else ""


def _post(url: str, body: bytes) -> tuple[int, str, bytes]:
    """POST ``body``; the status, the media type and the answer's body."""
    request = urllib.request.Request(  # noqa: S310 - the scheme is http(s), checked in configured()
        url, data=body, method="POST", headers={"Content-Type": "text/plain; charset=utf-8"}
    )
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, response.headers.get_content_type(), response.read(65536)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers.get_content_type(), error.read(65536)
    except (OSError, http.client.HTTPException) as exc:  # URLError and timeouts are OSErrors
        reason = getattr(exc, "reason", None) or exc
        raise Unreachable(f"{url}: cannot be reached ({reason})") from None


def _request_body(old: int, size: int, signed: str) -> bytes:
    """The add-checkpoint body: ``old``, the consistency proof from it, the checkpoint."""
    from casecenter.audit import proofs

    proof: list[bytes] = []
    if 0 < old < size:
        try:
            proof = proofs.consistency(old, size)
        except proofs.ProofError as exc:
            raise Refused(f"no consistency proof from the witnessed size {old}: {exc}") from None
    lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof), ""]
    return ("\n".join(lines) + "\n" + signed).encode("utf-8")


def _cosignatures(witness: HttpWitness, signed: str, answer: bytes) -> str:
    """The witness's signature lines of a 200, checked with its key when configured."""
    try:
        lines = note.parse_signature_lines(answer)
    except note.NoteError as exc:
        raise Refused(f"{witness.url}: its answer is not cosignatures: {exc}") from None
    key = witness.key
    if key is None:
        return "".join(s.line() for s in lines)
    try:
        opened = note.open_note(signed + answer.decode(), [key])
    except note.NoVerifiedSignature:
        raise Refused(
            f"{witness.url}: no cosignature by its key {key.name}+{key.key_hash:08x} "
            f"in its answer{_quote(answer)}"
        ) from None
    except note.NoteError as exc:
        raise Refused(f"{witness.url}: its cosignature does not verify: {exc}") from None
    return "".join(s.line() for s in opened.signatures)


def _only_witness_records(since: int, size: int) -> bool:
    """Whether entries ``since … size-1`` are all records of this casecenter witnessing others.

    Such a checkpoint is not pushed. Two casecenters witnessing each other would
    otherwise trade checkpoints for ever: each cosignature is an entry in the
    witness's log, whose next checkpoint goes back to the first, whose
    cosignature is an entry … The records are witnessed with the next
    checkpoint that adds anything else.
    """
    from casecenter.audit.models import AuditEntry
    from casecenter.audit.witness_server import WITNESS_RECORDS

    if not since < size:
        return False
    between = AuditEntry.objects.filter(seq__gte=since, seq__lt=size)
    return not between.exclude(action__in=WITNESS_RECORDS).exists()


def _refusal(witness: HttpWitness, status: int, answer: bytes, origin: str, old: int) -> Refused:
    why = {
        400: f"the request is malformed, or its old size {old} exceeds the checkpoint "
        "(did the log shrink?)",
        403: "no signature by a key it trusts for this log (give it the log's current key: "
        "`casecenter audit public-key`)",
        404: f"it does not witness the log {origin!r} (its operator runs "
        "`casecenter audit witness-log add`)",
        409: f"it has cosigned another size than {old}, or (transparency-dev/witness) "
        "another root at this size",
        422: f"the checkpoint is not consistent with the one of size {old} it cosigned: "
        "the log was rewritten or truncated",
    }.get(status, "it answered unexpectedly")
    return Refused(f"{witness.url} refused (HTTP {status}): {why}{_quote(answer)}")


def push_http(witness: HttpWitness, signed: str) -> str:
    """Have a tlog-witness cosign ``signed``; its cosignature lines, kept in WitnessState.

    Starts from the size the witness cosigned last as this log knows it; a 409
    names the size it really has, and the push is made once more from there.
    A witness left alone after failing is not asked (``""``): the first push
    after its rest proves everything before it.
    """
    if _resting.get(witness.url, 0.0) > time.monotonic():
        return ""
    try:
        return _push_http(witness, signed)
    except Unreachable as exc:
        _resting[witness.url] = time.monotonic() + REST_SECONDS
        raise Unreachable(f"{exc}; left alone for {REST_SECONDS:.0f} s") from None


def _push_http(witness: HttpWitness, signed: str) -> str:
    from casecenter.audit.models import WitnessState

    checkpoint = _body(signed)
    endpoint = witness.url + "/add-checkpoint"
    state = WitnessState.objects.filter(url=witness.url).first()
    old = state.size if state is not None else 0
    if state is not None and _only_witness_records(old, checkpoint.size):
        return state.cosignature
    for attempt in (1, 2):
        status, media, answer = _post(endpoint, _request_body(old, checkpoint.size, signed))
        if status != 409 or media != SIZE_TYPE or attempt == 2:
            break
        text = answer.decode("ascii", "replace").removesuffix("\n")
        if not re.fullmatch("[0-9]{1,19}", text) or int(text) > MAX_SIZE:
            raise Refused(f"{witness.url}: a 409 without a tree size{_quote(answer)}")
        old = int(text)
        WitnessState.objects.update_or_create(
            url=witness.url, defaults={"size": old, "cosignature": ""}
        )
    if status == 429 or status >= 500:
        raise Unreachable(f"{witness.url}: HTTP {status}{_quote(answer)}")
    if status != 200:
        raise _refusal(witness, status, answer, checkpoint.origin, old)
    cosignature = _cosignatures(witness, signed, answer)
    WitnessState.objects.update_or_create(
        url=witness.url, defaults={"size": checkpoint.size, "cosignature": cosignature}
    )
    return cosignature


def push_all(signed: str, urls: list[str] | None = None) -> list[str]:
    """Push to every witness of ``urls`` (default: the setting); the problems, one per line."""
    problems = []
    for witness in configured(urls):
        try:
            witness.push(signed)
        except (Refused, OSError, note.NoteError) as exc:
            problems.append(str(exc))
        except Exception as exc:  # a witness never stops the sequencer, whatever it answers
            log.exception("audit witness %s failed", witness)
            problems.append(f"{witness}: {exc!r}")
    return problems
