"""verify_log(): an intact log passes; every kind of tampering is found at the right entry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import F

from casecenter.audit.canonical import entry_leaf_data
from casecenter.audit.merkle import CompactRange, leaf_hash, root_hash
from casecenter.audit.models import AuditEntry, AuditHead
from casecenter.audit.services import record
from casecenter.audit.verify import verify_log

from .conftest import guard_lifted

pytestmark = pytest.mark.django_db

TARGET = 2  # the middle entry of the five-entry log


def flipped(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + bytes(value[1:])


def test_an_intact_log_verifies_with_its_size_and_root(log):
    report = verify_log()
    leaves = [entry_leaf_data(e) for e in AuditEntry.objects.order_by("seq")]
    assert report.ok
    assert (report.size, report.root) == (5, root_hash(leaves).hex())
    assert (report.first_bad_seq, report.problem) == (None, "")


def test_an_empty_log_verifies():
    report = verify_log()
    assert (report.ok, report.size) == (True, 0)


def test_progress_is_reported_after_every_entry(log):
    calls = []
    verify_log(progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


LEAF = "does not match its stored leaf hash"
# For each column of an entry: a new value, and what verify must say about it.
COLUMN_EDITS = {
    "seq": (lambda e: {"seq": 1000}, "missing; the next entry in the log is #3"),
    "at": (lambda e: {"at": e.at + timedelta(microseconds=1)}, LEAF),
    "actor_id": (lambda e: {"actor_id": 999}, LEAF),
    "actor_name": (lambda e: {"actor_name": "somebody else"}, LEAF),
    "action": (lambda e: {"action": "accounts.user.delete"}, LEAF),
    "object_type": (lambda e: {"object_type": "cases.case"}, LEAF),
    "object_id": (lambda e: {"object_id": "12"}, LEAF),
    "reason": (lambda e: {"reason": "routine"}, LEAF),
    "data": (lambda e: {"data": {"year": 2025, "days": 366}}, LEAF),
    "leaf_hash": (lambda e: {"leaf_hash": flipped(bytes(e.leaf_hash))}, LEAF),
    "tree_root": (
        lambda e: {"tree_root": flipped(bytes(e.tree_root))},
        "stored tree root does not match",
    ),
}


def test_the_edits_cover_every_column():
    assert set(COLUMN_EDITS) == {f.attname for f in AuditEntry._meta.concrete_fields}


@pytest.mark.parametrize("column", sorted(COLUMN_EDITS))
def test_editing_any_column_of_an_entry_is_found_at_that_entry(log, tamper, column):
    new_values, problem = COLUMN_EDITS[column]
    assert tamper(TARGET, **new_values(log[TARGET])) == 1

    report = verify_log()

    assert not report.ok
    assert report.first_bad_seq == TARGET
    assert problem in report.problem
    assert report.size == TARGET  # entries before it are still vouched for
    assert report.root == root_hash([entry_leaf_data(e) for e in log[:TARGET]]).hex()


def test_an_actor_erased_to_the_system_is_found(log, tamper):
    tamper(0, actor_id=None, actor_name="system")
    assert verify_log().first_bad_seq == 0


def test_an_edit_with_a_rewritten_leaf_hash_is_found_by_its_tree_root(log, tamper):
    edited = AuditEntry.objects.get(seq=TARGET)
    edited.reason = "nothing to see"
    tamper(TARGET, reason=edited.reason, leaf_hash=leaf_hash(entry_leaf_data(edited)))

    report = verify_log()

    assert report.first_bad_seq == TARGET
    assert "rewritten together with its leaf hash" in report.problem


def test_a_rewritten_tail_with_recomputed_roots_is_found_at_the_head(log):
    """Only the head (and, later, signed tree heads) can catch a consistent rewrite."""
    tree = CompactRange()
    with guard_lifted():
        for entry in AuditEntry.objects.order_by("seq"):
            if entry.seq == TARGET:
                entry.reason = "rewritten"
            leaf = leaf_hash(entry_leaf_data(entry))
            tree.append(leaf)
            AuditEntry.objects.filter(seq=entry.seq).update(
                reason=entry.reason, leaf_hash=leaf, tree_root=tree.root()
            )

    report = verify_log()

    assert report.first_bad_seq is None
    assert "head's root" in report.problem


def test_a_deleted_middle_entry_is_found_as_a_gap(log):
    with guard_lifted():
        AuditEntry.objects.filter(seq=TARGET).delete()

    report = verify_log()

    assert report.first_bad_seq == TARGET
    assert "missing; the next entry in the log is #3" in report.problem


def test_a_deleted_last_entry_is_found_against_the_head(log):
    with guard_lifted():
        AuditEntry.objects.filter(seq=4).delete()

    report = verify_log()

    assert report.first_bad_seq == 4
    assert "the head records 5 entries but the log has only 4" in report.problem


def test_a_deleted_log_is_found_against_the_head(log):
    with guard_lifted():
        AuditEntry.objects.all().delete()
    assert verify_log().first_bad_seq == 0


def test_an_entry_inserted_behind_the_services_back_is_found(log):
    """Inserts are allowed by the triggers; a well-forged entry still lies beyond the head."""
    forged = AuditEntry(seq=5, at=log[4].at, actor_name="system", action="forged", data={})
    tree = CompactRange()
    for entry in AuditEntry.objects.order_by("seq"):
        tree.append(bytes(entry.leaf_hash))
    forged.leaf_hash = leaf_hash(entry_leaf_data(forged))
    tree.append(forged.leaf_hash)
    forged.tree_root = tree.root()
    forged.save(force_insert=True)

    report = verify_log()

    assert report.first_bad_seq == 5
    assert "not covered by the head" in report.problem


def test_a_tampered_head_is_reported_without_blaming_an_entry(log):
    AuditHead.objects.update(root=bytes(32))
    report = verify_log()
    assert (report.ok, report.first_bad_seq) == (False, None)
    assert "head's root" in report.problem


def test_a_rolled_back_head_is_reported(log):
    AuditHead.objects.update(size=F("size") - 1)
    assert verify_log().first_bad_seq == 4


def test_verification_stops_at_the_first_of_several_tampered_entries(log, tamper):
    tamper(3, reason="later edit")
    tamper(1, reason="earlier edit")
    assert verify_log().first_bad_seq == 1


def test_entries_appended_while_verifying_are_not_mistaken_for_tampering(log):
    appended = []

    def append_once(done: int, total: int) -> None:
        if not appended:
            with transaction.atomic():
                appended.append(record(None, "test.during_verify"))

    report = verify_log(progress=append_once)

    assert report.ok, report.problem
    assert report.size == 6


def test_appending_after_verification_keeps_the_log_verifiable(log):
    with transaction.atomic():
        record(None, "test.after")
    assert verify_log().ok
