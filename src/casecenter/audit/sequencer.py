"""The sequencer: gives waiting entries their place, grows the tree, signs the head.

Writers queue entries (``seq`` NULL) in their own transactions without any
global lock (:func:`casecenter.audit.services.record`). :func:`integrate`
then, in **one** transaction:

1. locks the :class:`~casecenter.audit.models.AuditHead` row — on PostgreSQL
   with ``SKIP LOCKED``, so of several sequencers one integrates and the others
   return at once; on SQLite the write lock serialises them;
2. reads up to ``batch`` committed waiting entries in queue (``id``) order;
3. hashes each stored leaf, appends it to the tree (the head's compact range),
   and gives it the next ``seq``;
4. stores the tree nodes of height :data:`NODE_LEVEL` and up that the batch
   completed (for proofs), the new head, and a checkpoint signed with the
   log's key.

Either all of that commits or none of it: a sequencer killed at any moment
leaves the entries waiting, and the next run places them — none lost, none
twice. The entries already sit in the database, committed by their writers,
before any sequencer sees them. After the commit the checkpoint is pushed to
the configured witnesses (:mod:`casecenter.audit.witness`).

:func:`run` loops forever (the worker's sequencer thread and ``casecenter
audit sequence``): a full batch is followed at once by the next; otherwise it
sleeps ``CASECENTER_AUDIT_INTERVAL_SECONDS`` (0.2 s). An entry is therefore
integrated within that interval plus one batch's work after its writer
commits (measured in ``bench/audit.py``).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from casecenter.audit import signing
from casecenter.audit.merkle import EMPTY_ROOT, CompactRange
from casecenter.audit.models import AuditCheckpoint, AuditEntry, AuditHead, AuditNode

log = logging.getLogger(__name__)

#: Tree nodes of this height and up are stored (one per 2**NODE_LEVEL / 2 entries).
NODE_LEVEL = 8


@dataclass(frozen=True)
class Integrated:
    """What one :func:`integrate` did: the entries placed and the new head."""

    first_seq: int
    count: int
    size: int
    root: bytes
    checkpoint: str


def _lock_head() -> AuditHead | None:
    """The head row, locked for this transaction; None if another sequencer holds it."""
    if connection.vendor == "postgresql":
        query = AuditHead.objects.select_for_update(skip_locked=True)
    else:
        query = AuditHead.objects.all()  # the IMMEDIATE transaction holds the write lock
    head = query.filter(pk=AuditHead.SINGLETON_PK).first()
    if head is not None:
        return head
    if AuditHead.objects.filter(pk=AuditHead.SINGLETON_PK).exists():
        return None  # skipped: another sequencer holds it
    # Migration 0003 made the row; it is missing only after a flush (tests) or tampering.
    if AuditEntry.objects.filter(seq__isnull=False).exists():
        raise RuntimeError(
            "the audit head is missing but the log has entries; run `casecenter audit verify`"
        )
    AuditHead.objects.get_or_create(
        pk=AuditHead.SINGLETON_PK, defaults={"size": 0, "frontier": [], "root": EMPTY_ROOT}
    )
    return query.filter(pk=AuditHead.SINGLETON_PK).first()


def _history_due(now: datetime) -> bool:
    """Whether this head joins the stored history (every head goes to the witnesses).

    A busy center makes several heads a second; keeping one a minute
    (``CASECENTER_AUDIT_CHECKPOINT_HISTORY_SECONDS``) keeps ``audit verify``,
    which checks each stored head, fast for years of log.
    """
    every = settings.CASECENTER_AUDIT_CHECKPOINT_HISTORY_SECONDS
    if every <= 0:
        return True
    last = AuditCheckpoint.objects.order_by("-size").values_list("made_at", flat=True).first()
    return last is None or (now - last).total_seconds() >= every


def _assign(places: list[tuple[int, int]]) -> None:
    """Give each waiting entry ``(id, seq)`` its seq, in one statement where possible."""
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            ids, seqs = zip(*places, strict=True)
            cursor.execute(
                f'UPDATE "{table}" AS e SET seq = p.seq '  # noqa: S608 - our own table name
                "FROM unnest(%s::bigint[], %s::bigint[]) AS p(id, seq) WHERE e.id = p.id",
                [list(ids), list(seqs)],
            )
        else:
            cursor.executemany(
                f'UPDATE "{table}" SET seq = %s WHERE id = %s',  # noqa: S608
                [(seq, entry_id) for entry_id, seq in places],
            )


def integrate(batch: int | None = None, witnesses: list[str] | None = None) -> Integrated | None:
    """Place up to ``batch`` waiting entries and sign the new head; None if nothing to do.

    The new checkpoint goes to ``witnesses`` (default: ``CASECENTER_AUDIT_WITNESSES``).
    """
    batch = batch or settings.CASECENTER_AUDIT_BATCH
    sha256 = hashlib.sha256
    with transaction.atomic():
        head = _lock_head()
        if head is None:
            return None
        waiting = list(
            AuditEntry.objects.filter(seq__isnull=True)
            .order_by("id")
            .values_list("id", "leaf")[:batch]
        )
        if not waiting:
            return None
        tree = CompactRange.from_hex(head.size, head.frontier)
        first = tree.size
        nodes: list[AuditNode] = []

        def keep(level: int, index: int, value: bytes) -> None:
            if level >= NODE_LEVEL:
                nodes.append(AuditNode(level=level, index=index, hash=value))

        places = []
        for entry_id, leaf in waiting:
            places.append((entry_id, tree.size))
            # the stored leaf is hashed again: the tree commits to what is stored
            tree.append(sha256(b"\x00" + leaf.encode("utf-8")).digest(), keep)
        _assign(places)
        AuditNode.objects.bulk_create(nodes)
        root = tree.root()
        now = timezone.now()
        key = signing.active_key()
        checkpoint = signing.sign_checkpoint(tree.size, root, now, key)
        if _history_due(now):
            AuditCheckpoint.objects.create(
                size=tree.size, root=root, made_at=now, key_id=key.key_hash, note=checkpoint
            )
        head.size, head.frontier, head.root = tree.size, tree.to_hex(), root
        head.checkpoint = checkpoint
        head.save(update_fields=["size", "frontier", "root", "checkpoint"])
    done = Integrated(first, len(waiting), tree.size, root, checkpoint)
    _publish(done, witnesses)
    return done


def _publish(done: Integrated, witnesses: list[str] | None) -> None:
    """Push the new checkpoint to the witnesses; a witness that fails is logged, not fatal."""
    from casecenter.audit import witness

    for problem in witness.push_all(done.checkpoint, witnesses):
        log.warning("audit checkpoint %s not witnessed: %s", done.size, problem)


def integrate_all(batch: int | None = None, witnesses: list[str] | None = None) -> int:
    """Integrate until nothing waits; the number of entries placed."""
    total = 0
    while (done := integrate(batch, witnesses)) is not None:
        total += done.count
    return total


def run(
    stop: threading.Event,
    interval: float | None = None,
    on_batch: Callable[[Integrated], None] | None = None,
) -> None:
    """Integrate until ``stop`` is set; a failing round is logged and retried."""
    interval = settings.CASECENTER_AUDIT_INTERVAL_SECONDS if interval is None else interval
    batch = settings.CASECENTER_AUDIT_BATCH
    while not stop.is_set():
        try:
            done = integrate(batch)
        except Exception:
            # a dropped connection, a deadlock victim, "database is locked": the
            # batch rolled back and its entries still wait; try again
            log.exception("audit sequencer round failed; trying again in %.2f s", interval)
            close_old_connections()
            done = None
        if done is not None and on_batch is not None:
            on_batch(done)
        if done is None or done.count < batch:
            stop.wait(interval)
    connection.close()


def start_thread(stop: threading.Event) -> threading.Thread:
    """Run the sequencer in a daemon thread of this process (the worker's)."""
    thread = threading.Thread(target=run, args=(stop,), name="audit-sequencer", daemon=True)
    thread.start()
    return thread


def wait_integrated(timeout: float = 10.0) -> bool:
    """Block until no entry waits (for tests and demos); False on timeout."""
    deadline = time.monotonic() + timeout
    while AuditEntry.objects.filter(seq__isnull=True).exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
