"""The sequencer: places waiting entries exactly once, grows the tree, signs each head.

The larger tests commit for real (``transaction=True``): concurrent writers and
sequencers on PostgreSQL, and a ``casecenter audit sequence`` process killed
with SIGKILL again and again in the middle of 100,000 entries.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Max, Min

from casecenter.audit import note, sequencer, signing
from casecenter.audit.canonical import leaf_data
from casecenter.audit.merkle import (
    EMPTY_ROOT,
    _subtree_root,
    leaf_hash,
    root_from_leaf_hashes,
)
from casecenter.audit.models import AuditCheckpoint, AuditEntry, AuditHead, AuditNode
from casecenter.audit.services import record
from casecenter.audit.verify import GivenCheckpoint, verify_log

from .conftest import database_url, write_entries

CASECENTER = Path(sys.executable).with_name("casecenter")


def stored_leaf_hashes() -> list[bytes]:
    leaves = AuditEntry.objects.filter(seq__isnull=False).order_by("seq")
    return [leaf_hash(leaf.encode()) for leaf in leaves.values_list("leaf", flat=True)]


def requires_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: nothing concurrent to test")


@pytest.mark.django_db
def test_integrate_places_waiting_entries_in_queue_order_and_grows_the_tree():
    write_entries(700)
    done = sequencer.integrate()
    assert done is not None
    assert (done.first_seq, done.count, done.size) == (0, 700, 700)
    by_id = list(AuditEntry.objects.order_by("id").values_list("seq", flat=True))
    assert by_id == list(range(700))
    hashes = stored_leaf_hashes()
    head = AuditHead.objects.get()
    assert (head.size, bytes(head.root)) == (700, root_from_leaf_hashes(hashes))
    assert done.root == bytes(head.root)
    # 700 = 512 + 128 + 32 + 16 + 8 + 4: one frontier hash per set bit
    assert len(head.frontier) == 6


@pytest.mark.django_db
def test_the_stored_nodes_are_exactly_the_perfect_subtrees_of_height_8_and_up():
    write_entries(1100)
    sequencer.integrate_all(batch=300)
    hashes = stored_leaf_hashes()
    stored = {(n.level, n.index): bytes(n.hash) for n in AuditNode.objects.all()}
    expected = {
        (level, index): _subtree_root(hashes, index << level, (index + 1) << level)
        for level in range(sequencer.NODE_LEVEL, 11)
        for index in range(1100 >> level)
    }
    assert stored == expected  # 4 of height 8, 2 of height 9, 1 of height 10


@pytest.mark.django_db
@pytest.mark.parametrize("batches", [[1] * 9 + [300], [255, 2, 300], [256, 256], [1000]])
def test_any_batch_sizes_give_the_same_tree(batches):
    write_entries(600)
    for size in batches:
        sequencer.integrate(batch=size)
    sequencer.integrate_all()
    assert bytes(AuditHead.objects.get().root) == root_from_leaf_hashes(stored_leaf_hashes())
    assert verify_log().ok


@pytest.mark.django_db
def test_each_batch_signs_a_checkpoint_of_its_tree_with_the_log_key():
    write_entries(10)
    sequencer.integrate(batch=4)
    sequencer.integrate(batch=4)
    sequencer.integrate(batch=4)
    checkpoints = list(AuditCheckpoint.objects.order_by("size"))
    assert [c.size for c in checkpoints] == [4, 8, 10]
    key = signing.active_key()
    for row in checkpoints:
        checkpoint, _ = note.open_checkpoint(row.note, signing.origin(), signing.verifier(key))
        assert (checkpoint.size, checkpoint.root) == (row.size, bytes(row.root))
        assert row.key_id == key.key_hash
        assert checkpoint.made_at() is not None
    assert AuditHead.objects.get().checkpoint == checkpoints[-1].note


@pytest.mark.django_db
def test_every_head_is_signed_but_the_history_keeps_one_a_minute(settings, monkeypatch):
    settings.CASECENTER_AUDIT_CHECKPOINT_HISTORY_SECONDS = 60
    clock = [FIXED]
    monkeypatch.setattr("casecenter.audit.sequencer.timezone.now", lambda: clock[0])
    heads = []
    for step in range(4):  # batches at 0 s, 20 s, 40 s, 60 s
        write_entries(2)
        clock[0] = FIXED + timedelta(seconds=20 * step)
        heads.append(sequencer.integrate().checkpoint)
    assert AuditHead.objects.get().checkpoint == heads[-1]
    assert len(set(heads)) == 4  # each batch's head signed (and pushed to the witnesses)
    assert list(AuditCheckpoint.objects.values_list("size", flat=True)) == [2, 8]
    assert verify_log(checkpoints=[GivenCheckpoint("20 s", heads[1])]).ok


@pytest.mark.django_db
def test_nothing_waiting_means_no_batch_and_no_checkpoint():
    assert sequencer.integrate() is None
    assert not AuditCheckpoint.objects.exists()
    head = AuditHead.objects.get()  # made again by integrate() if an earlier flush took it
    assert (head.size, bytes(head.root), head.checkpoint) == (0, EMPTY_ROOT, "")


@pytest.mark.django_db
def test_entries_written_after_a_batch_wait_for_the_next(log):
    with transaction.atomic():
        later = record(None, "test.later")
    assert AuditEntry.objects.get(pk=later.pk).seq is None
    sequencer.integrate()
    assert AuditEntry.objects.get(pk=later.pk).seq == 5


@pytest.mark.django_db
def test_a_missing_head_over_sequenced_entries_stops_the_sequencer(log):
    AuditHead.objects.all().delete()
    write_entries(1)
    with pytest.raises(RuntimeError, match="head is missing"):
        sequencer.integrate()
    assert AuditEntry.objects.filter(seq__isnull=True).count() == 1


@pytest.mark.django_db
def test_a_missing_head_of_an_empty_log_is_made_again():
    AuditHead.objects.all().delete()
    write_entries(3)
    assert sequencer.integrate().size == 3


# --- several processes ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_sequencer_finding_the_head_locked_returns_at_once():
    requires_postgres()
    AuditHead.objects.get_or_create(pk=AuditHead.SINGLETON_PK)  # gone after an earlier flush
    write_entries(3)
    locked, release = threading.Event(), threading.Event()

    def hold_the_head() -> None:
        try:
            with transaction.atomic():
                AuditHead.objects.select_for_update().get()
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_head)
    holder.start()
    try:
        assert locked.wait(10)
        assert sequencer.integrate() is None  # skipped, not blocked
    finally:
        release.set()
        holder.join()
    assert sequencer.integrate().count == 3


@pytest.mark.django_db(transaction=True)
def test_writers_and_two_sequencers_at_once_place_every_entry_exactly_once():
    requires_postgres()
    writers, per_writer = 4, 60
    writing = threading.Barrier(writers)
    done_writing = threading.Event()
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            writing.wait()
            for n in range(per_writer):
                with transaction.atomic():
                    record(None, "test.concurrent", data={"worker": worker, "n": n})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def sequence() -> None:
        try:
            while not done_writing.is_set() or AuditEntry.objects.filter(seq=None).exists():
                sequencer.integrate(batch=7)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    sequencers = [threading.Thread(target=sequence) for _ in range(2)]
    for thread in threads + sequencers:
        thread.start()
    for thread in threads:
        thread.join()
    done_writing.set()
    for thread in sequencers:
        thread.join(60)

    assert errors == []
    total = writers * per_writer
    placed = AuditEntry.objects.filter(seq__isnull=False)
    assert placed.count() == total
    assert placed.aggregate(lo=Min("seq"), hi=Max("seq")) == {"lo": 0, "hi": total - 1}
    assert sorted((e.data["worker"], e.data["n"]) for e in placed) == [
        (w, n) for w in range(writers) for n in range(per_writer)
    ]
    sizes = list(AuditCheckpoint.objects.order_by("size").values_list("size", flat=True))
    assert sizes == sorted(set(sizes)) and sizes[-1] == total
    report = verify_log()
    assert report.ok, report.problem
    assert report.checkpoints == len(sizes)


FIXED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _commit_in_order(order: tuple[int, ...]) -> None:
    """Writer i takes the i-th id; the writers then commit in ``order``."""
    turn = {"insert": 0, "commit": 0}
    changed = threading.Condition()
    errors: list[BaseException] = []

    def wait_for(kind: str, value: int) -> None:
        with changed:
            assert changed.wait_for(lambda: turn[kind] == value, timeout=10)

    def advance(kind: str) -> None:
        with changed:
            turn[kind] += 1
            changed.notify_all()

    def write(i: int) -> None:
        try:
            with transaction.atomic():
                wait_for("insert", i)
                record(None, "test.ordered", data={"writer": i})
                advance("insert")
                wait_for("commit", order.index(i))
            advance("commit")
        except BaseException as exc:
            errors.append(exc)
            advance("insert")
            advance("commit")
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(order))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_the_tree_is_the_same_whichever_order_the_writers_committed(monkeypatch):
    """Four writers take their ids in one order and commit in another; the tree keeps
    the queue order, and the leaves hold nothing of the commit (same bytes, same root)."""
    requires_postgres()
    monkeypatch.setattr("django.utils.timezone.now", lambda: FIXED)
    roots = set()
    for order in itertools.islice(itertools.permutations(range(4)), 0, 24, 3):
        _commit_in_order(order)
        sequencer.integrate_all()
        last_four = list(AuditEntry.objects.order_by("-seq")[:4])[::-1]
        assert [e.data["writer"] for e in last_four] == [0, 1, 2, 3], order
        roots.add(root_from_leaf_hashes([bytes(e.leaf_hash) for e in last_four]))
    assert len(roots) == 1
    assert verify_log().ok


# --- SIGKILL --------------------------------------------------------------------------

KILL_ENTRIES = 100_000


def _bulk_waiting(count: int) -> None:
    """``count`` waiting entries written straight to the table (a fast stand-in for writers)."""
    rows = []
    for n in range(count):
        leaf = leaf_data(
            at=FIXED + timedelta(microseconds=n),
            actor_id=None,
            actor_name="system",
            action="test.killed",
            object_type="",
            object_id="",
            reason="",
            data={"n": n},
        )
        rows.append(AuditEntry(leaf=leaf.decode(), leaf_hash=leaf_hash(leaf)))
    AuditEntry.objects.bulk_create(rows, batch_size=5000)


@pytest.mark.django_db(transaction=True)
def test_a_sequencer_killed_again_and_again_loses_nothing_and_places_nothing_twice():
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CASECENTER_DATA_DIR": str(settings.CASECENTER_DATA_DIR),
        "CASECENTER_AUDIT_BATCH": "1500",
        "CASECENTER_AUDIT_INTERVAL_SECONDS": "0.05",
    }
    _bulk_waiting(KILL_ENTRIES)
    connections.close_all()
    rng = random.Random(20261207)
    kills = 0
    placed_before = 0
    while kills < 6:
        child = subprocess.Popen(  # noqa: S603 - our own CLI
            [str(CASECENTER), "audit", "sequence"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            # wait until it has placed something, then kill it at a random moment
            deadline = time.monotonic() + 60
            while AuditEntry.objects.filter(seq__isnull=False).count() == placed_before:
                assert time.monotonic() < deadline, child.stderr.read() if child.poll() else ""
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 0.4))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
            connections.close_all()
        kills += 1
        placed_before = AuditEntry.objects.filter(seq__isnull=False).count()
        if placed_before == KILL_ENTRIES:
            break
    assert kills >= 3  # killed in the middle, several times
    subprocess.run(  # noqa: S603
        [str(CASECENTER), "audit", "-v", "0", "sequence", "--once"],
        env=env,
        check=True,
        timeout=300,
    )

    placed = AuditEntry.objects.filter(seq__isnull=False)
    assert placed.count() == KILL_ENTRIES  # none lost (seq is unique: none twice)
    assert placed.aggregate(lo=Min("seq"), hi=Max("seq")) == {"lo": 0, "hi": KILL_ENTRIES - 1}
    assert list(AuditEntry.objects.order_by("seq").values_list("id", flat=True)) == list(
        AuditEntry.objects.order_by("id").values_list("id", flat=True)
    )
    hashes = stored_leaf_hashes()
    assert bytes(AuditHead.objects.get().root) == root_from_leaf_hashes(hashes)
    report = verify_log()  # the head, every node and every signed checkpoint as rebuilt
    assert report.ok, report.problem
    assert report.size == KILL_ENTRIES
