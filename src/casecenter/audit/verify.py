"""Recompute the audit log and check it against its head, its nodes and signed checkpoints.

:func:`verify_log` reads the head (size, frontier, root), then streams the
stored leaves of entries ``0 … size-1`` in ``seq`` order, in large chunks:

1. ``seq`` must be contiguous — a deleted or renumbered row leaves a gap;
2. each leaf is hashed again and must equal its stored ``leaf_hash`` — an
   edited leaf (the other columns are generated from it) or hash shows here;
3. the leaves are folded into the tree (perfect blocks of 2**8 at a time), which
   must end at the head's size, frontier and root, and reproduce every stored
   tree node;
4. every stored checkpoint must be signed by a key of this log and name the
   root the rebuilt tree had at its size; and so must every checkpoint given
   from outside (``--checkpoint``), which is also checked with a consistency
   proof from the stored nodes, the way an outside verifier would.

Step 4 is what a database writer cannot get past. Rewriting entries from
some point on — leaves, hashes, nodes and head together — gives a log that is
consistent in itself, and truncating it gives a shorter one; but a checkpoint
signed before the change and kept outside the database (a witness, an
auditor's copy) still names the old root, and the log's key, encrypted under
the field keys, is not the attacker's to sign a new one with.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection, transaction

from casecenter.audit import note, signing
from casecenter.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    fold_right,
    perfect_pieces,
    perfect_root,
    verify_consistency,
)
from casecenter.audit.models import AuditCheckpoint, AuditEntry, AuditHead, AuditNode

#: ``progress(done, total)``, called after each chunk of verified entries.
Progress = Callable[[int, int], None]

#: Entries fetched per round trip.
CHUNK_SIZE = 65_536
#: The height of the blocks the rebuild hashes at once; also the lowest stored node.
BLOCK_LEVEL = 8
BLOCK = 1 << BLOCK_LEVEL


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of :func:`verify_log`.

    ``size`` and ``root`` describe the verified prefix of the log — the whole
    log when ``ok``, the entries before ``first_bad_seq`` otherwise.
    ``first_bad_seq`` is ``None`` when the entries are intact but something
    else is wrong (head, nodes, a checkpoint). ``problem`` says, in English,
    what. ``waiting`` counts entries written but not yet sequenced;
    ``checkpoints`` the signed checkpoints checked.
    """

    ok: bool
    size: int
    root: str
    first_bad_seq: int | None = None
    problem: str = ""
    waiting: int = 0
    checkpoints: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Tampered(Exception):
    """Found a problem: where (``seq``, or None) and what."""

    def __init__(self, seq: int | None, problem: str) -> None:
        super().__init__(problem)
        self.seq, self.problem = seq, problem


@dataclass(frozen=True)
class GivenCheckpoint:
    """A checkpoint handed in from outside the database, with where it came from."""

    source: str
    text: str


@dataclass
class _Rebuild:
    """The tree rebuilt from the leaves, the nodes it made, and its roots at chosen sizes."""

    stops: set[int]
    tree: CompactRange = field(default_factory=CompactRange)
    pending: list[bytes] = field(default_factory=list)
    nodes: dict[tuple[int, int], bytes] = field(default_factory=dict)
    roots: dict[int, bytes] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.tree.size + len(self.pending)

    def _keep(self, level: int, index: int, value: bytes) -> None:
        self.nodes[(level, index)] = value

    def _roots_within(self, base: int, leaves: Sequence[bytes]) -> None:
        """The roots at every stop in ``(base, base + len(leaves)]``."""
        for stop in self.stops:
            if base < stop <= base + len(leaves):
                tail = [
                    perfect_root(leaves[index << level : (index + 1) << level])
                    for level, index in perfect_pieces(0, stop - base)
                ]
                self.roots[stop] = fold_right([*self.tree.hashes, *tail])

    def feed(self, hashes: list[bytes]) -> None:
        self.pending.extend(hashes)
        done = 0
        while len(self.pending) - done >= BLOCK:
            block = self.pending[done : done + BLOCK]
            if self.stops:
                self._roots_within(self.tree.size, block)
            root = perfect_root(block)
            self.nodes[(BLOCK_LEVEL, self.tree.size >> BLOCK_LEVEL)] = root
            self.tree.append_subtree(BLOCK_LEVEL, root, self._keep)
            done += BLOCK
        del self.pending[:done]

    def finish(self) -> None:
        if self.stops:
            self._roots_within(self.tree.size, self.pending)
        for value in self.pending:
            self.tree.append(value)  # a partial block completes no stored node
        self.pending.clear()
        if 0 in self.stops:
            self.roots[0] = EMPTY_ROOT


def _leaves_postgres(size: int) -> Iterator[list[tuple[bytes, bytes]]]:
    """``(0x00 ‖ leaf, leaf_hash)`` of entries ``0 … size-1`` in seq order, in chunks."""
    table = AuditEntry._meta.db_table
    raw = connection.connection
    with raw.cursor(name="audit_verify", binary=True) as cursor:
        cursor.itersize = CHUNK_SIZE
        cursor.execute(
            f"SELECT '\\x00'::bytea || convert_to(leaf, 'UTF8'), leaf_hash FROM \"{table}\" "  # noqa: S608
            "WHERE seq IS NOT NULL AND seq < %s ORDER BY seq",
            [size],
        )
        while rows := cursor.fetchmany(CHUNK_SIZE):
            yield rows


def _leaves_sqlite(size: int) -> Iterator[list[tuple[bytes, bytes]]]:
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT leaf, leaf_hash FROM "{table}" '  # noqa: S608
            "WHERE seq IS NOT NULL AND seq < %s ORDER BY seq",
            [size],
        )
        while rows := cursor.fetchmany(CHUNK_SIZE):
            yield [(b"\x00" + leaf.encode("utf-8"), bytes(stored)) for leaf, stored in rows]


def _first_gap(size: int) -> Tampered:
    """Where ``seq`` is not 0, 1, 2 … (slow path, only once a gap is known)."""
    expected = 0
    seqs = (
        AuditEntry.objects.filter(seq__isnull=False, seq__lt=size)
        .order_by("seq")
        .values_list("seq", flat=True)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for seq in seqs:
        if seq != expected:
            return Tampered(expected, f"it is missing; the next entry in the log is #{seq}")
        expected += 1
    return Tampered(
        expected, f"it is missing; the head records {size} entries but the log has {expected}"
    )


def _check_entries(size: int, rebuild: _Rebuild, progress: Progress | None) -> None:
    counted = AuditEntry.objects.filter(seq__isnull=False, seq__lt=size).count()
    if counted != size:
        raise _first_gap(size)
    chunks = _leaves_postgres(size) if connection.vendor == "postgresql" else _leaves_sqlite(size)
    sha256 = hashlib.sha256
    done = 0
    for rows in chunks:
        hashes = [sha256(prefixed).digest() for prefixed, _ in rows]
        stored = [bytes(value) for _, value in rows]
        if hashes != stored:
            at = next(i for i, (a, b) in enumerate(zip(hashes, stored, strict=True)) if a != b)
            rebuild.feed(hashes[:at])  # the good prefix, for the report
            rebuild.finish()
            raise Tampered(
                done + at,
                "its leaf does not match its stored leaf hash, so the entry or its hash was "
                f"changed (stored {stored[at].hex()}, recomputed {hashes[at].hex()})",
            )
        rebuild.feed(hashes)
        done += len(rows)
        if progress is not None:
            progress(done, size)
    rebuild.finish()


def _check_head(head: AuditHead, rebuild: _Rebuild) -> None:
    if bytes(head.root) != rebuild.tree.root():
        raise Tampered(
            None,
            f"the head's root {bytes(head.root).hex()} does not match the log's root "
            f"{rebuild.tree.root().hex()}",
        )
    if head.frontier != rebuild.tree.to_hex():
        raise Tampered(None, "the head's frontier does not match the log's tree")


def _check_nodes(size: int, rebuild: _Rebuild) -> None:
    stored: dict[tuple[int, int], bytes] = {}
    for level, index, value in AuditNode.objects.values_list("level", "index", "hash"):
        if (index + 1) << level <= size:
            stored[(level, index)] = bytes(value)
    for key, value in rebuild.nodes.items():
        if stored.get(key) != value:
            level, index = key
            what = "missing" if key not in stored else "wrong"
            raise Tampered(
                None,
                f"tree node {level}/{index} (entries {index << level}.."
                f"{((index + 1) << level) - 1}) is {what}, so proofs over it would fail",
            )


def _open(text: str, keys: Sequence[note.Verifier], source: str) -> note.Checkpoint:
    try:
        opened = note.open_note(text, keys)
        checkpoint = note.Checkpoint.parse(opened.text)
    except note.NoVerifiedSignature:
        raise Tampered(None, f"checkpoint {source} is not signed by any key of this log") from None
    except note.NoteError as exc:
        raise Tampered(None, f"checkpoint {source} does not verify: {exc}") from None
    if checkpoint.origin != signing.origin():
        raise Tampered(
            None,
            f"checkpoint {source} is of the log {checkpoint.origin!r}, not {signing.origin()!r}",
        )
    return checkpoint


def _check_given(
    given: Sequence[tuple[GivenCheckpoint, note.Checkpoint]],
    size: int,
    root: bytes,
    rebuild: _Rebuild,
) -> None:
    from casecenter.audit.proofs import ProofError, consistency

    for cp, checkpoint in given:
        if checkpoint.size > size:
            raise Tampered(
                size,
                f"the log was truncated: checkpoint {cp.source} covers {checkpoint.size} "
                f"entries, the log has only {size}",
            )
        try:
            proof = consistency(checkpoint.size, size)
        except ProofError as exc:
            proof, reason = [], str(exc)
        else:
            reason = "the consistency proof does not verify"
        if not verify_consistency(checkpoint.size, size, proof, checkpoint.root, root):
            raise Tampered(
                None,
                f"the log is not a consistent extension of checkpoint {cp.source} "
                f"({checkpoint.size} entries): {reason}",
            )
        if rebuild.roots.get(checkpoint.size) != checkpoint.root:
            raise Tampered(
                None,
                f"the log was rewritten within the first {checkpoint.size} entries: "
                f"checkpoint {cp.source} says root {checkpoint.root.hex()}, the entries give "
                f"{rebuild.roots[checkpoint.size].hex()}",
            )


def _check_stored(
    stored: Iterable[AuditCheckpoint], size: int, keys: Sequence[note.Verifier], rebuild: _Rebuild
) -> int:
    count = 0
    for row in stored:
        source = f"#{row.size} (stored)"
        checkpoint = _open(row.note, keys, source)
        if checkpoint.size != row.size or checkpoint.root != bytes(row.root):
            raise Tampered(None, f"checkpoint {source}: its row does not match its signed note")
        if row.size > size:
            raise Tampered(
                size,
                f"the log was truncated: a signed checkpoint covers {row.size} entries, "
                f"the head only {size}",
            )
        if rebuild.roots.get(row.size) != checkpoint.root:
            raise Tampered(
                None,
                f"the log was rewritten within the first {row.size} entries: the signed "
                f"checkpoint of that size names another root",
            )
        count += 1
    return count


def verify_log(
    progress: Progress | None = None,
    checkpoints: Sequence[GivenCheckpoint] = (),
    keys: Sequence[note.Verifier] | None = None,
) -> VerifyReport:
    """Check every sequenced entry, the head, the nodes and the signed checkpoints.

    ``checkpoints`` come from outside (files, witnesses); ``keys`` are the
    log's public keys to trust (default: those in the database). Runs in one
    read-only snapshot on PostgreSQL (unless called inside a transaction, which
    then decides); on SQLite the head read first fixes what is checked (entries
    sequenced meanwhile lie beyond it).
    """
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            return _verify(progress, checkpoints, keys)
    return _verify(progress, checkpoints, keys)


def _verify(
    progress: Progress | None,
    checkpoints: Sequence[GivenCheckpoint],
    keys: Sequence[note.Verifier] | None,
) -> VerifyReport:
    head = AuditHead.objects.filter(pk=AuditHead.SINGLETON_PK).first()
    size = head.size if head is not None else 0
    waiting = AuditEntry.objects.filter(seq__isnull=True).count()
    trusted = list(keys) if keys is not None else list(signing.verifiers())
    stored = list(AuditCheckpoint.objects.order_by("size"))
    rebuild = _Rebuild(stops=set())
    try:
        given = [(cp, _open(cp.text, trusted, cp.source)) for cp in checkpoints]
        rebuild.stops = {c.size for _, c in given} | {row.size for row in stored}
        if head is None:
            if AuditEntry.objects.filter(seq__isnull=False).exists():
                raise Tampered(None, "the audit head is missing although entries are sequenced")
        else:
            _check_entries(size, rebuild, progress)
            _check_head(head, rebuild)
            _check_nodes(size, rebuild)
        root = rebuild.tree.root()
        count = _check_stored(stored, size, trusted, rebuild)
        _check_given(given, size, root, rebuild)
    except Tampered as found:
        rebuild.stops = set()
        rebuild.finish()  # what was verified before the problem: the good prefix
        return VerifyReport(
            False, rebuild.size, rebuild.tree.root().hex(), found.seq, found.problem, waiting
        )
    return VerifyReport(True, size, root.hex(), waiting=waiting, checkpoints=count + len(given))
