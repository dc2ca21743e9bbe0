"""Inclusion and consistency proofs served from the database, and their offline check.

A proof is a list of subtree roots (:mod:`casecenter.audit.merkle` names the
ranges). Each range is cut into aligned perfect subtrees: those of height
:data:`~casecenter.audit.sequencer.NODE_LEVEL` and up are read from
:class:`~casecenter.audit.models.AuditNode`, the smaller ones are hashed from
the entries' leaf hashes (at most a block of 2**NODE_LEVEL per range). A proof
therefore costs two queries and O(log n + 2**NODE_LEVEL) hashing however large
the log, and it is checked against the signed checkpoint's root, never against
anything else the database says.

A *proof bundle* is what ``casecenter audit prove`` writes and
``GET /api/audit/entries/{seq}/proof`` answers: one JSON object that anyone
can check offline with the log's public key (``casecenter audit check-proof``
or any RFC 9162 implementation)::

    {"format": "casecenter-audit-inclusion/v1", "index": 812,
     "leaf": "<the entry's canonical JSON>", "tree_size": 1520,
     "proof": ["<base64 hash>", …], "checkpoint": "<signed note>"}
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from casecenter.audit import note
from casecenter.audit.merkle import (
    consistency_ranges,
    fold_right,
    inclusion_ranges,
    leaf_hash,
    perfect_pieces,
    perfect_root,
    verify_inclusion,
)

BUNDLE_FORMAT = "casecenter-audit-inclusion/v1"

#: Must equal :data:`casecenter.audit.sequencer.NODE_LEVEL` (checked by a test).
NODE_LEVEL = 8


class ProofError(ValueError):
    """A proof cannot be made (the entry or the tree size is not in the log)."""


def _range_roots(ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """The roots of ``ranges`` from stored nodes and leaf hashes, in two queries."""
    from casecenter.audit.models import AuditEntry, AuditNode

    pieces = [perfect_pieces(lo, hi) for lo, hi in ranges]
    wanted_nodes = {p for group in pieces for p in group if p[0] >= NODE_LEVEL}
    wanted_leaves = sorted(
        {
            seq
            for group in pieces
            for level, index in group
            if level < NODE_LEVEL
            for seq in range(index << level, (index + 1) << level)
        }
    )
    nodes: dict[tuple[int, int], bytes] = {}
    if wanted_nodes:
        levels = {level for level, _ in wanted_nodes}
        indexes = {index for _, index in wanted_nodes}
        for level, index, value in AuditNode.objects.filter(
            level__in=levels, index__in=indexes
        ).values_list("level", "index", "hash"):
            nodes[(level, index)] = bytes(value)
    leaves: dict[int, bytes] = {}
    if wanted_leaves:
        query = AuditEntry.objects.filter(seq__gte=wanted_leaves[0], seq__lte=wanted_leaves[-1])
        for seq, value in query.values_list("seq", "leaf_hash"):
            leaves[seq] = bytes(value)
    roots = []
    for group in pieces:
        piece_roots = []
        for level, index in group:
            if level >= NODE_LEVEL:
                if (level, index) not in nodes:
                    raise ProofError(f"tree node {level}/{index} is missing; run audit verify")
                piece_roots.append(nodes[(level, index)])
            else:
                span = range(index << level, (index + 1) << level)
                if any(seq not in leaves for seq in span):
                    first, last = span.start, span.stop - 1
                    raise ProofError(f"entries {first}..{last} are not all in the log")
                piece_roots.append(perfect_root([leaves[seq] for seq in span]))
        roots.append(fold_right(piece_roots))
    return roots


def inclusion(index: int, size: int) -> list[bytes]:
    """The audit path of entry ``index`` in the tree of ``size`` entries."""
    try:
        ranges = inclusion_ranges(index, size)
    except IndexError as exc:
        raise ProofError(str(exc)) from None
    return _range_roots(ranges)


def consistency(old_size: int, size: int) -> list[bytes]:
    """The proof that the tree of ``old_size`` entries is a prefix of the one of ``size``."""
    try:
        ranges = consistency_ranges(old_size, size)
    except ValueError as exc:
        raise ProofError(str(exc)) from None
    return _range_roots(ranges)


# -- bundles -------------------------------------------------------------------------------


def b64(values: Iterable[bytes]) -> list[str]:
    return [base64.b64encode(v).decode() for v in values]


def bundle(index: int, leaf: str, checkpoint: str, size: int) -> dict[str, Any]:
    """The proof bundle of entry ``index`` (its stored ``leaf``) in the checkpoint of ``size``."""
    return {
        "format": BUNDLE_FORMAT,
        "index": index,
        "leaf": leaf,
        "tree_size": size,
        "proof": b64(inclusion(index, size)),
        "checkpoint": checkpoint,
    }


@dataclass(frozen=True)
class CheckedProof:
    """A proof bundle that verified: the entry, its place and the checkpoint it is in."""

    index: int
    entry: dict[str, Any]
    checkpoint: note.Checkpoint
    signed_by: tuple[str, ...]


class BadProof(ValueError):
    """A proof bundle that does not verify; the message says why."""


def check_bundle(
    raw: str | bytes | dict[str, Any],
    keys: Sequence[note.Verifier],
    origin: str | None = None,
) -> CheckedProof:
    """Verify a proof bundle with only the log's public ``keys``; raise :class:`BadProof`.

    1. the checkpoint is a signed note with a valid signature by one of ``keys``
       (and of ``origin``, when given);
    2. the bundle's tree size is the checkpoint's;
    3. the leaf's RFC 6962 hash, walked up the proof by the bits of ``index``,
       gives the checkpoint's root (RFC 9162 §2.1.3.2).
    """
    try:
        document = raw if isinstance(raw, dict) else json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadProof(f"the proof is not JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != BUNDLE_FORMAT:
        raise BadProof(f"not a {BUNDLE_FORMAT} proof")
    index, size = document.get("index"), document.get("tree_size")
    leaf, proof, signed = document.get("leaf"), document.get("proof"), document.get("checkpoint")
    if type(index) is not int or type(size) is not int or not 0 <= index < size:
        raise BadProof("index and tree_size must be integers with 0 <= index < tree_size")
    if not isinstance(leaf, str) or not isinstance(signed, str):
        raise BadProof("leaf and checkpoint must be text")
    if not isinstance(proof, list) or not all(isinstance(p, str) for p in proof):
        raise BadProof("proof must be a list of base64 hashes")
    try:
        hashes = [base64.b64decode(p, validate=True) for p in proof]
    except (binascii.Error, ValueError):
        raise BadProof("a proof hash is not base64") from None
    try:
        opened = note.open_note(signed, keys)
        checkpoint = note.Checkpoint.parse(opened.text)
    except note.NoteError as exc:
        raise BadProof(f"the checkpoint does not verify: {exc}") from None
    if origin is not None and checkpoint.origin != origin:
        raise BadProof(f"the checkpoint is of log {checkpoint.origin!r}, not {origin!r}")
    if checkpoint.size != size:
        raise BadProof(
            f"the proof is for a tree of {size} entries, the checkpoint has {checkpoint.size}"
        )
    if not verify_inclusion(leaf_hash(leaf.encode("utf-8")), index, size, hashes, checkpoint.root):
        raise BadProof(
            f"entry {index} is not in the checkpoint's tree: the proof does not lead to its root"
        )
    try:
        entry = json.loads(leaf)
    except ValueError:
        entry = {}
    return CheckedProof(
        index,
        entry if isinstance(entry, dict) else {},
        checkpoint,
        tuple(f"{s.name}+{s.key_hash:08x}" for s in opened.signatures),
    )
