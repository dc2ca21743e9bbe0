"""verify_log(): an intact log passes; every kind of tampering is found and named.

Edits inside the database are found by the database alone (a leaf that no
longer matches its hash, a gap, a head or node that disagrees). A rewrite or a
truncation done carefully — leaves, hashes, nodes and head recomputed, the
signed checkpoints in the database dropped — is consistent in itself; only a
checkpoint kept outside catches it, and these tests show it does.
"""

from __future__ import annotations

import base64

import pytest
from django.db import transaction

from casecenter.audit import note, sequencer, signing
from casecenter.audit.merkle import root_from_leaf_hashes
from casecenter.audit.models import AuditCheckpoint, AuditEntry, AuditHead, AuditNode, LogKey
from casecenter.audit.services import record
from casecenter.audit.verify import GivenCheckpoint, verify_log

from .conftest import (
    edited_leaf,
    guard_lifted,
    leaf_hash_of,
    rebuild_tree_as_attacker,
    write_entries,
)

pytestmark = pytest.mark.django_db

TARGET = 2  # the middle entry of the five-entry log


def flipped(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + bytes(value[1:])


def outside(source: str = "witness") -> GivenCheckpoint:
    """The latest signed checkpoint, as a witness outside the database keeps it."""
    return GivenCheckpoint(source, AuditHead.objects.get().checkpoint)


def test_an_intact_log_verifies_with_its_size_root_and_checkpoints(log):
    report = verify_log(checkpoints=[outside()])
    hashes = [bytes(e.leaf_hash) for e in AuditEntry.objects.order_by("seq")]
    assert report.ok, report.problem
    assert (report.size, report.root) == (5, root_from_leaf_hashes(hashes).hex())
    assert (report.first_bad_seq, report.problem, report.waiting) == (None, "", 0)
    assert report.checkpoints == 2  # the stored one and the one given


def test_an_empty_log_verifies():
    report = verify_log()
    assert (report.ok, report.size) == (True, 0)


def test_waiting_entries_are_counted_not_checked(log):
    with transaction.atomic():
        record(None, "test.waiting")
    report = verify_log()
    assert (report.ok, report.size, report.waiting) == (True, 5, 1)


def test_progress_is_reported_per_chunk(log, monkeypatch):
    monkeypatch.setattr("casecenter.audit.verify.CHUNK_SIZE", 2)
    calls = []
    verify_log(progress=lambda done, total: calls.append((done, total)))
    assert calls == [(2, 5), (4, 5), (5, 5)]


def test_a_large_log_with_many_checkpoints_verifies(monkeypatch):
    """Blocks of 256 leaves at once, checkpoints inside and across block boundaries."""
    monkeypatch.setattr("casecenter.audit.verify.CHUNK_SIZE", 300)
    write_entries(1300)
    for batch in (1, 255, 1, 256, 300, 7, 480):
        sequencer.integrate(batch=batch)
    report = verify_log(checkpoints=[outside()])
    assert report.ok, report.problem
    assert (report.size, report.checkpoints) == (1300, 8)


# --- edits inside the database --------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["at", "actor_id", "actor_name", "action", "object_type", "object_id", "reason", "data"],
)
def test_editing_any_field_of_an_entry_is_found_at_that_entry(log, tamper, field):
    value = {"at": "2025-01-01T00:00:00.000000Z", "actor_id": 999, "data": {"x": 1}}.get(
        field, "edited"
    )
    assert tamper(TARGET, leaf=edited_leaf(log[TARGET].leaf, **{field: value})) == 1
    assert getattr(AuditEntry.objects.get(seq=TARGET), field) != getattr(log[TARGET], field)

    report = verify_log()

    assert not report.ok
    assert report.first_bad_seq == TARGET
    assert "does not match its stored leaf hash" in report.problem
    assert report.size == TARGET  # the good prefix


def test_editing_the_leaf_hash_is_found_at_that_entry(log, tamper):
    tamper(TARGET, leaf_hash=flipped(bytes(log[TARGET].leaf_hash)))
    report = verify_log()
    assert (report.ok, report.first_bad_seq) == (False, TARGET)


def test_an_entry_edited_with_its_hash_disagrees_with_the_head(log, tamper):
    leaf = edited_leaf(log[TARGET].leaf, reason="routine")
    tamper(TARGET, leaf=leaf, leaf_hash=leaf_hash_of(leaf))
    report = verify_log()
    assert not report.ok
    assert "the head's root" in report.problem


@pytest.mark.parametrize("how", ["deleted", "renumbered"])
def test_a_removed_entry_leaves_a_gap(log, tamper, how):
    with guard_lifted():
        if how == "deleted":
            AuditEntry.objects.filter(seq=TARGET).delete()
        else:
            AuditEntry.objects.filter(seq=TARGET).update(seq=1000)
    report = verify_log()
    assert (report.ok, report.first_bad_seq) == (False, TARGET)
    assert "it is missing" in report.problem


def test_a_tampered_node_is_found(monkeypatch):
    write_entries(600)
    sequencer.integrate_all()
    AuditNode.objects.filter(level=8, index=1).update(hash=bytes(32))
    report = verify_log()
    assert not report.ok
    assert "tree node 8/1 (entries 256..511) is wrong" in report.problem


def test_a_deleted_node_is_found():
    write_entries(300)
    sequencer.integrate_all()
    AuditNode.objects.filter(level=8, index=0).delete()
    report = verify_log()
    assert not report.ok
    assert "tree node 8/0 (entries 0..255) is missing" in report.problem


def test_a_rolled_back_head_is_found(log):
    AuditHead.objects.update(root=bytes(32))
    report = verify_log()
    assert (report.ok, report.first_bad_seq) == (False, None)
    assert "head's root" in report.problem


# --- the signed checkpoints in the database --------------------------------------------


def test_a_stored_checkpoint_row_that_disagrees_with_its_note_is_found(log):
    AuditCheckpoint.objects.update(root=bytes(32))
    report = verify_log()
    assert not report.ok
    assert "does not match its signed note" in report.problem


def test_a_stored_checkpoint_with_a_broken_signature_is_found(log):
    row = AuditCheckpoint.objects.get()
    body, signature = row.note.rsplit("\n\n", 1)
    name, b64 = signature.rsplit(" ", 1)
    raw = base64.b64decode(b64)
    row.note = f"{body}\n\n{name} {base64.b64encode(raw[:4] + flipped(raw[4:])).decode()}\n"
    row.save()
    report = verify_log()
    assert not report.ok
    assert "does not verify" in report.problem


def test_a_truncation_leaving_a_later_stored_checkpoint_is_found(log):
    with guard_lifted():
        AuditEntry.objects.filter(seq__gte=3).delete()
    hashes = [bytes(e.leaf_hash) for e in AuditEntry.objects.order_by("seq")]
    AuditHead.objects.update(size=3, root=root_from_leaf_hashes(hashes), frontier=[])
    rebuild_keep = list(AuditCheckpoint.objects.all())
    rebuild_tree_as_attacker()
    AuditCheckpoint.objects.bulk_create(rebuild_keep)  # forgot to drop them
    report = verify_log()
    assert not report.ok
    assert "truncated" in report.problem


# --- what only a checkpoint outside the database catches ----------------------------


def test_a_careful_rewrite_from_entry_n_passes_alone_and_fails_against_a_checkpoint(log, tamper):
    kept = outside("witness.checkpoint")
    for seq in range(TARGET, 5):
        leaf = edited_leaf(log[seq].leaf, reason="nothing to see")
        tamper(seq, leaf=leaf, leaf_hash=leaf_hash_of(leaf))
    rebuild_tree_as_attacker()

    assert verify_log().ok  # consistent in itself: the database alone cannot tell
    report = verify_log(checkpoints=[kept])

    assert not report.ok
    assert "witness.checkpoint" in report.problem
    assert "not a consistent extension" in report.problem


def test_a_careful_truncation_passes_alone_and_fails_against_a_checkpoint(log):
    kept = outside("witness.checkpoint")
    with guard_lifted():
        AuditEntry.objects.filter(seq__gte=3).delete()
    rebuild_tree_as_attacker()

    assert verify_log().ok
    report = verify_log(checkpoints=[kept])

    assert not report.ok
    assert "truncated: checkpoint witness.checkpoint covers 5 entries, the log has only 3" in (
        report.problem
    )


def test_a_rewrite_resigned_with_a_new_key_fails_against_the_old_checkpoint(log, tamper):
    """The attacker replaces the log's key with one of their own and signs a new head."""
    kept = outside()
    old_key = signing.verifier(signing.active_key())
    leaf = edited_leaf(log[0].leaf, reason="rewritten")
    tamper(0, leaf=leaf, leaf_hash=leaf_hash_of(leaf))
    rebuild_tree_as_attacker()
    LogKey.objects.all().delete()
    with transaction.atomic():
        record(None, "test.after")  # the sequencer signs with a brand-new key
    sequencer.integrate_all()

    assert verify_log().ok  # all the database holds agrees with itself
    assert "not signed by any key of this log" in verify_log(checkpoints=[kept]).problem
    # trusting the real key instead of the database's, the forged heads fail too
    report = verify_log(keys=[old_key])
    assert not report.ok
    assert "not signed by any key of this log" in report.problem


def test_a_checkpoint_of_another_log_is_refused(log, settings):
    kept = outside()
    settings.CASECENTER_AUDIT_ORIGIN = "elsewhere.example/audit"
    foreign_key = signing.active_key()
    body = note.Checkpoint("elsewhere.example/audit", 5, bytes(32)).body()
    foreign = note.sign_note(body, signing.signer(foreign_key)).decode()
    settings.CASECENTER_AUDIT_ORIGIN = note.Checkpoint.parse(
        kept.text.split("\n\n")[0] + "\n"
    ).origin
    report = verify_log(
        checkpoints=[GivenCheckpoint("foreign", foreign)],
        keys=[*signing.verifiers(), signing.verifier(foreign_key)],
    )
    assert not report.ok
    assert "is of the log 'elsewhere.example/audit'" in report.problem


def test_a_rotated_key_still_verifies_what_it_signed(log):
    kept = outside()
    signing.rotate()
    with transaction.atomic():
        record(None, "test.after_rotation")
    sequencer.integrate_all()
    report = verify_log(checkpoints=[kept])
    assert report.ok, report.problem
    assert report.checkpoints == 3
    signers = {row.key_id for row in AuditCheckpoint.objects.all()}
    assert len(signers) == 2
