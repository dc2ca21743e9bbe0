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

Other kinds (an S3-compatible bucket, a C2SP tlog-witness HTTP endpoint of
another organisation) are not built yet; naming one is a configuration error
reported when the sequencer starts (see docs/audit-log.md).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from casecenter.audit import note
from casecenter.audit.merkle import verify_consistency

CHECKPOINT_FILE = "checkpoint"
REFUSED_FILE = "checkpoint.refused"


class Refused(Exception):
    """The witness would not take the checkpoint; the message says why."""


def folders(urls: list[str] | None = None) -> list[Path]:
    """The witness folders of ``urls`` (default: the setting); other kinds are refused."""
    result = []
    for url in settings.CASECENTER_AUDIT_WITNESSES if urls is None else urls:
        parsed = urlparse(url)
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            raise ImproperlyConfigured(
                f"audit witness {url!r}: only file:///folder witnesses are supported"
            )
        result.append(Path(unquote(parsed.path)))
    return result


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


def push_all(signed: str, urls: list[str] | None = None) -> list[str]:
    """Push to every witness of ``urls`` (default: the setting); the problems, one per line."""
    problems = []
    for folder in folders(urls):
        try:
            push_folder(folder, signed)
        except (Refused, OSError, note.NoteError) as exc:
            problems.append(str(exc))
    return problems
