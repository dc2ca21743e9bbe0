"""The folder witness keeps the latest checkpoint and refuses one that rewrites or truncates."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from casecenter.audit import note, sequencer, witness
from casecenter.audit.models import AuditEntry, AuditHead, AuditNode
from casecenter.audit.verify import GivenCheckpoint, verify_log

from .conftest import (
    edited_leaf,
    guard_lifted,
    leaf_hash_of,
    rebuild_tree_as_attacker,
    write_entries,
)

pytestmark = pytest.mark.django_db

NOT_WITNESSED = "not witnessed"


@pytest.fixture
def folder(settings, tmp_path) -> Path:
    """The one configured witness: a folder."""
    settings.CASECENTER_AUDIT_WITNESSES = [f"file://{tmp_path}"]
    return tmp_path


def kept(folder: Path) -> str:
    return (folder / witness.CHECKPOINT_FILE).read_text(encoding="utf-8")


def refused(folder: Path) -> str:
    return (folder / witness.REFUSED_FILE).read_text(encoding="utf-8")


def size_of(signed: str) -> int:
    return int(signed.split("\n")[1])


def witnessed_log(folder: Path, count: int = 10) -> str:
    """A log of ``count`` entries whose latest checkpoint the witness holds."""
    write_entries(count)
    sequencer.integrate_all()
    held = kept(folder)
    assert size_of(held) == count
    return held


def assert_refused(folder: Path, held: str, done: sequencer.Integrated) -> None:
    """The witness kept what it held and set the new checkpoint aside."""
    assert kept(folder) == held
    assert refused(folder) == done.checkpoint


def sign_one_more(caplog) -> sequencer.Integrated:
    """What the real sequencer does next: one new entry, a new signed checkpoint."""
    write_entries(1, "test.after")
    with caplog.at_level(logging.WARNING, logger="casecenter.audit.sequencer"):
        done = sequencer.integrate()
    assert done is not None  # integrating succeeds whatever the witness says
    assert AuditHead.objects.get().checkpoint == done.checkpoint
    return done


def test_each_integration_hands_the_new_checkpoint_to_the_witness(folder):
    write_entries(3)
    first = sequencer.integrate()
    assert kept(folder) == first.checkpoint == AuditHead.objects.get().checkpoint
    write_entries(2)
    second = sequencer.integrate()
    assert kept(folder) == second.checkpoint
    assert size_of(kept(folder)) == 5
    # written atomically: no temporary file left behind, nothing refused
    assert sorted(os.listdir(folder)) == [witness.CHECKPOINT_FILE]


def test_the_witnessed_checkpoint_verifies_the_log(folder):
    held = witnessed_log(folder)
    write_entries(4)
    sequencer.integrate_all()
    report = verify_log(checkpoints=[GivenCheckpoint("witness", held)])
    assert (report.ok, report.size) == (True, 14)


def test_a_rewritten_log_is_refused_and_the_old_checkpoint_kept(folder, tamper, caplog):
    held = witnessed_log(folder)
    entry = AuditEntry.objects.get(seq=4)
    forged = edited_leaf(entry.leaf, reason="nothing happened")
    assert tamper(4, leaf=forged, leaf_hash=leaf_hash_of(forged)) == 1
    rebuild_tree_as_attacker()
    assert verify_log().ok  # consistent in itself: only the witness knows better

    done = sign_one_more(caplog)

    assert done.size == 11
    assert_refused(folder, held, done)
    assert NOT_WITNESSED in caplog.text
    assert "it does not extend the witnessed tree of 10" in caplog.text
    report = verify_log(checkpoints=[GivenCheckpoint("witness", kept(folder))])
    assert not report.ok
    assert "checkpoint witness" in report.problem


@pytest.mark.parametrize(
    ("kept_entries", "problem"),
    [
        (7, "the log has 8 entries, fewer than the 10 witnessed"),
        (9, "same size, different root"),  # truncated, then grown back to the witnessed size
    ],
)
def test_a_truncated_log_is_refused_and_the_old_checkpoint_kept(
    folder, caplog, kept_entries, problem
):
    held = witnessed_log(folder)
    with guard_lifted():
        AuditEntry.objects.filter(seq__gte=kept_entries).delete()
    rebuild_tree_as_attacker()

    done = sign_one_more(caplog)

    assert done.size == kept_entries + 1
    assert_refused(folder, held, done)
    assert problem in caplog.text


def test_after_a_refusal_the_witness_keeps_refusing_what_grows_from_the_rewrite(
    folder, tamper, caplog
):
    held = witnessed_log(folder)
    forged = edited_leaf(AuditEntry.objects.get(seq=0).leaf, actor_name="nobody")
    tamper(0, leaf=forged, leaf_hash=leaf_hash_of(forged))
    rebuild_tree_as_attacker()
    sign_one_more(caplog)
    caplog.clear()

    done = sign_one_more(caplog)

    assert_refused(folder, held, done)
    assert NOT_WITNESSED in caplog.text


def test_a_log_whose_proof_nodes_are_gone_is_refused_not_a_crash(folder, caplog):
    held = witnessed_log(folder, 300)  # node 8/0 covers entries 0..255
    AuditNode.objects.all().delete()

    done = sign_one_more(caplog)

    assert_refused(folder, held, done)
    assert "no consistency proof: tree node 8/0 is missing" in caplog.text


def test_a_witness_holding_another_logs_checkpoint_is_reported_and_left_alone(folder, caplog):
    body = note.Checkpoint("elsewhere.example/audit", 3, bytes(32)).body()
    other = note.sign_note(body, note.Signer("elsewhere.example/audit", os.urandom(32))).decode()
    (folder / witness.CHECKPOINT_FILE).write_text(other, encoding="utf-8")

    sign_one_more(caplog)

    assert kept(folder) == other
    assert "holds a checkpoint of another log, 'elsewhere.example/audit'" in caplog.text


def test_a_garbled_witness_file_is_reported_not_a_crash(folder, caplog):
    (folder / witness.CHECKPOINT_FILE).write_text("garbage\n", encoding="utf-8")

    sign_one_more(caplog)

    assert kept(folder) == "garbage\n"
    assert "no blank line between the checkpoint and its signatures" in caplog.text


def test_a_witness_that_cannot_be_written_is_reported_not_a_crash(settings, tmp_path, caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    settings.CASECENTER_AUDIT_WITNESSES = [f"file://{blocked}"]

    done = sign_one_more(caplog)

    assert done.size == 1
    assert NOT_WITNESSED in caplog.text
    assert blocked.read_text() == "not a folder"


def test_every_configured_witness_gets_the_checkpoint(settings, tmp_path):
    first, second = tmp_path / "one", tmp_path / "two words"
    settings.CASECENTER_AUDIT_WITNESSES = [
        f"file://{first}",
        f"file://{second}".replace(" ", "%20"),
    ]
    write_entries(2)
    done = sequencer.integrate()
    assert kept(first) == kept(second) == done.checkpoint


@pytest.mark.parametrize(
    ("url", "folder"),
    [
        ("file:///srv/audit-witness", "/srv/audit-witness"),
        ("file://localhost/srv/audit-witness", "/srv/audit-witness"),
        ("file:///srv/audit%20witness", "/srv/audit witness"),
    ],
)
def test_file_urls_name_folders(settings, url, folder):
    settings.CASECENTER_AUDIT_WITNESSES = [url]
    assert witness.folders() == [Path(folder)]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("s3://bucket/audit", "not a file:///folder or an https:// tlog-witness"),
        ("http://witness.example/add-checkpoint", "http:// only to a loopback address"),
        ("file://other-host/srv/audit-witness", "not a file:///folder or an https:// tlog-witness"),
        ("/srv/audit-witness", "not a file:///folder or an https:// tlog-witness"),
    ],
)
def test_any_other_witness_is_a_configuration_error(settings, url, problem):
    # https:// witnesses (C2SP tlog-witness) are tests/audit/test_witness_http.py's
    settings.CASECENTER_AUDIT_WITNESSES = ["file:///srv/fine", url]
    with pytest.raises(ImproperlyConfigured, match=problem):
        witness.folders()
