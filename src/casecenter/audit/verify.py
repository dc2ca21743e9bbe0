"""Recompute the whole audit log and report the first entry that is not what was written.

:func:`verify_log` reads the entries once, in ``seq`` order, and for each one

1. checks that ``seq`` is the next number — a deleted (or renumbered) row
   leaves a gap;
2. recomputes the leaf hash from the entry's canonical bytes — an edited
   column no longer matches the stored ``leaf_hash``;
3. appends that leaf to a rebuilt tree and compares the stored ``tree_root`` —
   an edited entry whose ``leaf_hash`` was rewritten to match still disagrees
   with the root stored when it was appended (and with every later one);

then compares the rebuilt tree with :class:`~casecenter.audit.models.AuditHead`
— rows deleted from the end leave the log shorter than the head says.

What it cannot see is a log rewritten consistently from some entry onwards,
head included; signed tree heads kept outside the database (a later issue)
close that gap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import QuerySet

from casecenter.audit.canonical import entry_leaf_data
from casecenter.audit.merkle import EMPTY_ROOT, CompactRange, leaf_hash
from casecenter.audit.models import AuditEntry, AuditHead

#: ``progress(done, total)``, called after each verified entry.
Progress = Callable[[int, int], None]

CHUNK_SIZE = 2000


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of :func:`verify_log`.

    ``size`` and ``root`` describe the verified prefix of the log — the whole
    log when ``ok``, the entries before ``first_bad_seq`` otherwise.
    ``first_bad_seq`` is ``None`` when the log is intact, or when only the
    head row disagrees with intact entries. ``problem`` says, in English, what
    is wrong with that entry (or with the head).
    """

    ok: bool
    size: int
    root: str
    first_bad_seq: int | None = None
    problem: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _as_bytes(value: object) -> bytes | None:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return None


def _entry_problem(entry: AuditEntry, tree: CompactRange) -> str:
    """What is wrong with ``entry``, or ``""``; appends its recomputed leaf to ``tree``."""
    try:
        computed = leaf_hash(entry_leaf_data(entry))
    except (TypeError, ValueError, AttributeError) as exc:
        return f"its content cannot be encoded canonically ({exc})"
    if _as_bytes(entry.leaf_hash) != computed:
        return (
            "its content does not match its stored leaf hash, so a field was changed "
            f"(stored {_hex(entry.leaf_hash)}, recomputed {computed.hex()})"
        )
    tree.append(computed)
    root = tree.root()
    if _as_bytes(entry.tree_root) != root:
        return (
            "its stored tree root does not match the tree rebuilt from entries "
            f"#0..#{entry.seq}, so the entry was rewritten together with its leaf hash "
            f"(stored {_hex(entry.tree_root)}, recomputed {root.hex()})"
        )
    return ""


def _hex(value: object) -> str:
    raw = _as_bytes(value)
    return raw.hex() if raw is not None else repr(value)


def _next_seq_from(seq: int) -> int | None:
    return (
        AuditEntry.objects.filter(seq__gte=seq)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )


class _Rebuild:
    """The tree rebuilt so far, and the prefix of the log known to be good."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.tree = CompactRange()
        self.size, self.root = 0, EMPTY_ROOT
        self.progress, self.total = progress, total

    def failed(self, seq: int | None, problem: str) -> VerifyReport:
        return VerifyReport(False, self.size, self.root.hex(), seq, problem)

    def scan(self, entries: QuerySet[AuditEntry]) -> VerifyReport | None:
        """Check ``entries`` (those from ``self.size`` on); a report at the first problem."""
        rows: Iterator[AuditEntry] = entries.order_by("seq").iterator(chunk_size=CHUNK_SIZE)
        while True:
            expected = self.size
            try:
                entry = next(rows)
            except StopIteration:
                return None
            except (TypeError, ValueError, AttributeError, OverflowError) as exc:
                # The next row holds a value the database driver cannot even
                # decode (e.g. a malformed date on SQLite): find its seq.
                seq = _next_seq_from(expected)
                if seq is not None and seq != expected:
                    return self.failed(
                        expected, f"it is missing; the next entry in the log is #{seq}"
                    )
                return self.failed(seq, f"it cannot be read ({exc})")
            if entry.seq != expected:
                if entry.seq > expected:
                    return self.failed(
                        expected, f"it is missing; the next entry in the log is #{entry.seq}"
                    )
                return self.failed(entry.seq, "it is out of sequence")
            problem = _entry_problem(entry, self.tree)
            if problem:
                return self.failed(entry.seq, problem)
            self.size, self.root = self.tree.size, bytes(entry.tree_root)
            if self.progress is not None:
                self.progress(self.size, self.total)


def verify_log(progress: Progress | None = None) -> VerifyReport:
    """Check every entry and the head; stop at the first problem found.

    Appends may go on while the log is read. An append commits its entry and
    the head together, so the head read *after* the entries covers every entry
    seen, and every entry it covers exists: those appended meanwhile are
    checked too before the head is compared. No lock is taken.
    """
    rebuild = _Rebuild(progress, AuditEntry.objects.count())
    failure = rebuild.scan(AuditEntry.objects.all())
    if failure:
        return failure
    head = AuditHead.objects.filter(pk=AuditHead.SINGLETON_PK).first()
    if head is not None and head.size > rebuild.size:
        failure = rebuild.scan(AuditEntry.objects.filter(seq__gte=rebuild.size, seq__lt=head.size))
        if failure:
            return failure
    return _check_head(head, rebuild) or VerifyReport(True, rebuild.size, rebuild.root.hex())


def _check_head(head: AuditHead | None, rebuild: _Rebuild) -> VerifyReport | None:
    """Compare the rebuilt tree with the head row; a report if they disagree."""
    size, tree = rebuild.size, rebuild.tree
    if head is None:
        if size == 0:
            return None  # an empty log whose head was never written (e.g. after a flush)
        return rebuild.failed(
            None, f"the audit head is missing although the log has {size} entries"
        )
    if head.size > size:
        return rebuild.failed(
            size,
            f"it is missing; the head records {head.size} entries but the log has only {size}",
        )
    if head.size < size:
        return rebuild.failed(
            head.size,
            f"it is not covered by the head, which records only {head.size} entries",
        )
    if _as_bytes(head.root) != rebuild.root:
        return rebuild.failed(
            None,
            f"the head's root {_hex(head.root)} does not match the log's root {rebuild.root.hex()}",
        )
    if head.frontier != tree.to_hex():
        return rebuild.failed(None, "the head's frontier does not match the log's tree")
    return None
