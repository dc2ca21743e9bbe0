"""``casecenter audit``: verify, sequence, checkpoint, prove, check-proof, keys, show, tail.

Most run through ``call_command``; exit codes and the offline proof check also
run as a real ``casecenter`` process.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import transaction

from casecenter.audit import note, signing
from casecenter.audit.management.commands import audit as audit_command
from casecenter.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from casecenter.audit.services import record
from casecenter.audit.verify import verify_log

from .conftest import (
    database_url,
    edited_leaf,
    guard_lifted,
    leaf_hash_of,
    rebuild_tree_as_attacker,
    write_entries,
)

pytestmark = pytest.mark.django_db

CASECENTER = Path(sys.executable).with_name("casecenter")


def run(*args: str) -> tuple[int, str, str]:
    """``casecenter audit ARGS`` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def run_process(*args: str, env: dict[str, str] | None = None, stdin: str | None = None):
    """``casecenter audit ARGS`` as a child process."""
    command = [str(CASECENTER)] if CASECENTER.exists() else [sys.executable, "-m", "casecenter.cli"]
    return subprocess.run(  # noqa: S603 - our own command line
        [*command, "audit", *args],
        env={**os.environ, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def edit_entry(tamper, seq: int, **changes: object) -> None:
    """Rewrite one entry as a careful attacker does: canonical leaf, matching hash."""
    forged = edited_leaf(AuditEntry.objects.get(seq=seq).leaf, **changes)
    assert tamper(seq, leaf=forged, leaf_hash=leaf_hash_of(forged)) == 1


@pytest.fixture
def keys_file(tmp_path) -> Path:
    """The log's verifier keys as ``audit public-key`` prints them."""
    path = tmp_path / "keys.txt"
    path.write_text(run("public-key")[1])
    return path


# --- verify -------------------------------------------------------------------------------


def test_verify_prints_ok_with_size_root_and_checkpoints_and_exits_0(log):
    code, out, _ = run("verify")
    assert code == 0
    assert out == (
        f"audit log OK: 5 entries, root {verify_log().root}; "
        f"consistent with {AuditCheckpoint.objects.count()} signed checkpoints\n"
    )


def test_verify_counts_the_entries_still_waiting(log):
    with transaction.atomic():
        record(None, "test.waiting")
    code, out, _ = run("verify")
    assert code == 0
    assert out.endswith("; 1 entries waiting to be sequenced\n")


def test_verify_prints_the_first_tampered_entry_and_exits_1(log, tamper):
    tamper(3, leaf=edited_leaf(log[3].leaf, reason="edited"))  # the stored hash left as it was
    code, out, _ = run("verify")
    assert code == 1
    assert out.startswith(
        "audit log TAMPERED at entry #3: its leaf does not match its stored leaf hash"
    )


def test_verify_reports_a_tampered_head_without_an_entry_number(log):
    AuditHead.objects.update(root=bytes(32))
    code, out, _ = run("verify")
    assert code == 1
    assert out.startswith("audit log TAMPERED: the head's root")


def test_verify_json_is_the_report(log, tamper):
    assert json.loads(run("verify", "--json")[1]) == {
        "ok": True,
        "size": 5,
        "root": verify_log().root,
        "first_bad_seq": None,
        "problem": "",
        "waiting": 0,
        "checkpoints": AuditCheckpoint.objects.count(),
    }
    tamper(1, leaf=edited_leaf(log[1].leaf, action="edited"))
    code, out, _ = run("verify", "--json")
    report = json.loads(out)
    assert (code, report["ok"], report["first_bad_seq"]) == (1, False, 1)


def test_verify_shows_a_progress_bar_on_stderr_for_a_long_log(log, monkeypatch, capsys):
    monkeypatch.setattr(audit_command, "PROGRESS_MIN_ENTRIES", 5)
    assert run("verify")[0] == 0
    assert "verify: 100%" in capsys.readouterr().err
    run("verify", "--json")  # a report for programs: no bar
    assert capsys.readouterr().err == ""


def test_verify_is_quiet_on_stderr_for_a_short_log(log, capsys):
    assert run("verify")[2] == ""
    assert capsys.readouterr().err == ""


def test_verify_with_a_kept_checkpoint_catches_a_rewrite_plain_verify_misses(log, tamper, tmp_path):
    kept = tmp_path / "checkpoint"
    assert run("checkpoint", "--out", str(kept))[0] == 0
    edit_entry(tamper, 2, reason="nothing happened")
    rebuild_tree_as_attacker()

    assert run("verify")[0] == 0  # consistent in itself
    code, out, _ = run("verify", "--checkpoint", str(kept))

    assert code == 1
    assert out.startswith("audit log TAMPERED: ")
    assert f"checkpoint {kept} (5 entries)" in out


def test_verify_with_a_kept_checkpoint_catches_a_truncation_plain_verify_misses(log, tmp_path):
    kept = tmp_path / "checkpoint"
    run("checkpoint", "--out", str(kept))
    with guard_lifted():
        AuditEntry.objects.filter(seq__gte=3).delete()
    rebuild_tree_as_attacker()

    assert run("verify")[0] == 0
    code, out, _ = run("verify", "--checkpoint", str(kept))

    assert code == 1
    assert out == (
        f"audit log TAMPERED at entry #3: the log was truncated: checkpoint {kept} "
        "covers 5 entries, the log has only 3\n"
    )


def test_verify_with_an_older_kept_checkpoint_accepts_the_grown_log(log, tmp_path):
    kept = tmp_path / "checkpoint"
    run("checkpoint", "--out", str(kept))
    write_entries(300)
    run("sequence", "--once")
    code, out, _ = run("verify", "--checkpoint", str(kept), "--checkpoint", str(kept))
    assert code == 0
    assert out.startswith("audit log OK: 305 entries")


def test_verify_trusts_only_the_keys_it_is_given(log, tmp_path):
    kept = tmp_path / "checkpoint"
    run("checkpoint", "--out", str(kept))
    stranger = note.Signer(signing.origin(), os.urandom(32)).verifier().verifier_key()
    code, out, _ = run("verify", "--checkpoint", str(kept), "--key", stranger)
    assert code == 1
    assert f"checkpoint {kept} is not signed by any key of this log" in out


def test_verify_refuses_a_bad_key_or_a_missing_file(log, tmp_path):
    with pytest.raises(CommandError, match="bad verifier key"):
        call_command("audit", "verify", "--key", "not-a-key")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("audit", "verify", "--checkpoint", str(tmp_path / "none"))


@pytest.mark.django_db(transaction=True)
def test_verify_exits_0_and_1_as_a_real_process(log, tamper):
    env = {"DATABASE_URL": database_url()}
    intact = run_process("verify", env=env)
    assert (intact.returncode, intact.stdout.split(",")[0]) == (0, "audit log OK: 5 entries")
    tamper(2, leaf=edited_leaf(log[2].leaf, reason="edited"))
    tampered = run_process("verify", env=env)
    assert tampered.returncode == 1
    assert tampered.stdout.startswith("audit log TAMPERED at entry #2: ")


# --- sequence -----------------------------------------------------------------------------


def test_sequence_once_places_every_waiting_entry_and_stops(log, settings):
    settings.CASECENTER_AUDIT_BATCH = 7  # several batches
    write_entries(20)
    code, out, _ = run("sequence", "--once")
    assert (code, out) == (0, "20 entries sequenced\n")
    assert not AuditEntry.objects.filter(seq__isnull=True).exists()
    assert AuditHead.objects.get().size == 25
    assert verify_log().ok
    assert run("sequence", "--once")[1] == "0 entries sequenced\n"


def test_sequence_refuses_a_bad_witness_before_placing_anything(log, settings):
    settings.CASECENTER_AUDIT_WITNESSES = ["s3://bucket/audit"]
    write_entries(2)
    with pytest.raises(ImproperlyConfigured):
        call_command("audit", "sequence", "--once")
    assert AuditEntry.objects.filter(seq__isnull=True).count() == 2


# --- checkpoints and proofs ---------------------------------------------------------------


def test_checkpoint_prints_or_writes_the_latest_signed_note(log, tmp_path):
    head = AuditHead.objects.get()
    assert run("checkpoint")[1] == head.checkpoint
    out = tmp_path / "cp"
    assert run("checkpoint", "--out", str(out)) == (0, "", "")
    assert out.read_text() == head.checkpoint
    opened = note.open_note(out.read_text(), signing.verifiers())
    checkpoint = note.Checkpoint.parse(opened.text)
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (
        signing.origin(),
        5,
        bytes(head.root),
    )


def test_checkpoint_before_anything_is_sequenced_is_an_error():
    with pytest.raises(CommandError, match="no signed checkpoint yet"):
        call_command("audit", "checkpoint")


def test_prove_then_check_proof_with_the_public_keys_says_ok(log, tmp_path, keys_file):
    bundle = tmp_path / "proof.json"
    assert run("prove", "2", "--out", str(bundle))[0] == 0
    code, out, _ = run("check-proof", str(bundle), "--key-file", str(keys_file))
    key = signing.active_key()
    assert code == 0
    assert out == (
        f"proof OK: entry #2 (calendars.year.load by system at {json.loads(log[2].leaf)['at']}) "
        f"is in the log {signing.origin()} of 5 entries, signed by {key.name}+{key.key_hash}\n"
    )


def test_prove_prints_the_bundle_of_the_latest_checkpoint(log):
    bundle = json.loads(run("prove", "4")[1])
    assert (bundle["index"], bundle["tree_size"], bundle["leaf"]) == (4, 5, log[4].leaf)
    assert bundle["checkpoint"] == AuditHead.objects.get().checkpoint


def test_prove_of_an_entry_not_in_the_log_is_an_error(log):
    with transaction.atomic():
        record(None, "test.waiting")
    for seq in ("5", "99", "-1"):  # 5: the waiting entry's place, not yet given
        with pytest.raises(CommandError, match=r"is not in the log \(yet\)"):
            call_command("audit", "prove", seq)


@pytest.mark.parametrize(
    "database",
    ["postgres://postgres@127.0.0.1:5432/casecenter_no_such_database", "sqlite:////nonexistent/x"],
)
def test_check_proof_runs_offline_without_any_database(log, tmp_path, keys_file, database):
    bundle = run("prove", "3")[1]
    env = {"DATABASE_URL": database, "CASECENTER_DATA_DIR": str(tmp_path / "elsewhere")}

    checked = run_process("check-proof", "-", "--key-file", str(keys_file), env=env, stdin=bundle)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("proof OK: entry #3 (accounts.user.read by alice at ")

    corrupted = json.loads(bundle)
    corrupted["leaf"] = edited_leaf(corrupted["leaf"], reason="edited")
    refused = run_process(
        "check-proof", "-", "--key-file", str(keys_file), env=env, stdin=json.dumps(corrupted)
    )
    assert refused.returncode == 1
    assert refused.stdout == (
        "proof FAILED: entry 3 is not in the checkpoint's tree: "
        "the proof does not lead to its root\n"
    )


def test_check_proof_of_a_corrupted_bundle_exits_1_naming_the_problem(log, tmp_path, keys_file):
    bundle = json.loads(run("prove", "1")[1])
    bundle["tree_size"] = 6
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(bundle))
    code, out, _ = run("check-proof", str(path), "--key-file", str(keys_file))
    assert code == 1
    assert out == ("proof FAILED: the proof is for a tree of 6 entries, the checkpoint has 5\n")


def test_check_proof_of_another_log_or_key_exits_1(log, tmp_path, keys_file):
    path = tmp_path / "proof.json"
    run("prove", "1", "--out", str(path))
    code, out, _ = run(
        "check-proof", str(path), "--key-file", str(keys_file), "--origin", "other/audit"
    )
    assert (code, out.startswith("proof FAILED: the checkpoint is of log")) == (1, True)
    stranger = note.Signer(signing.origin(), os.urandom(32)).verifier().verifier_key()
    code, out, _ = run("check-proof", str(path), "--key", stranger)
    assert (code, out) == (
        1,
        "proof FAILED: the checkpoint does not verify: note has no verifiable signatures\n",
    )


def test_check_proof_needs_a_key(log, tmp_path):
    path = tmp_path / "proof.json"
    run("prove", "1", "--out", str(path))
    with pytest.raises(CommandError, match="give the log's verifier key"):
        call_command("audit", "check-proof", str(path))


# --- keys ---------------------------------------------------------------------------------


def test_public_key_prints_the_active_key(log):
    key = signing.active_key()
    assert run("public-key")[1] == signing.verifier(key).verifier_key() + "\n"


def test_rotate_key_old_checkpoints_still_verify_and_new_ones_use_the_new_key(log, tmp_path):
    old_key = signing.verifier(signing.active_key())
    old_checkpoint = AuditHead.objects.get().checkpoint
    old_proof = run("prove", "2")[1]

    code, out, _ = run("rotate-key")
    new = signing.active_key()
    new_key = signing.verifier(new)
    assert code == 0
    assert out == (
        f"new log key {new}; the retired keys still verify what they signed\n"
        f"{new_key.verifier_key()}\n"
    )
    assert new_key.key_hash != old_key.key_hash

    write_entries(2)
    run("sequence", "--once")
    new_checkpoint = AuditHead.objects.get().checkpoint
    assert note.open_note(new_checkpoint, [new_key]).signatures[0].key_hash == new_key.key_hash
    with pytest.raises(note.NoVerifiedSignature):
        note.open_note(new_checkpoint, [old_key])
    assert note.open_note(old_checkpoint, [old_key]).text.startswith(signing.origin())

    keys = tmp_path / "keys.txt"
    keys.write_text(run("public-key")[1])
    assert keys.read_text().splitlines() == [old_key.verifier_key(), new_key.verifier_key()]
    for proof in (old_proof, run("prove", "6")[1]):
        path = tmp_path / "proof.json"
        path.write_text(proof)
        assert run("check-proof", str(path), "--key-file", str(keys))[0] == 0
    assert run("verify")[1].startswith("audit log OK: 7 entries")
    kept = tmp_path / "old-checkpoint"
    kept.write_text(old_checkpoint)
    assert run("verify", "--checkpoint", str(kept), "--key-file", str(keys))[0] == 0


# --- reading ------------------------------------------------------------------------------


def test_show_prints_an_entry_as_json(log):
    code, out, _ = run("show", "4")
    shown = json.loads(out)
    assert code == 0
    assert shown == {
        "seq": 4,
        "id": log[4].id,
        **{k: v for k, v in json.loads(log[4].leaf).items() if k != "v"},
        "leaf": log[4].leaf,
        "leaf_hash": bytes(log[4].leaf_hash).hex(),
    }
    assert shown["data"] == {"name": "报表 API"}
    assert shown["at"].endswith("Z")


def test_show_of_a_missing_entry_is_an_error(log):
    with pytest.raises(CommandError, match="no audit entry #99"):
        call_command("audit", "show", "99")


def test_tail_prints_the_last_entries_oldest_first(log):
    code, out, _ = run("tail", "-n", "2")
    lines = out.splitlines()
    assert code == 0
    assert [line.split()[0] for line in lines] == ["#3", "#4"]
    assert lines[0].endswith(f"accounts.user.read accounts.user:{log[3].object_id} — own profile")
    assert f" bob[{log[4].actor_id}] accounts.token.create " in lines[1]


def test_tail_shows_waiting_entries_as_waiting(log):
    with transaction.atomic():
        record(None, "test.waiting")
    last = run("tail", "-n", "1")[1]
    assert last.startswith("(waiting) ")
    assert last.rstrip().endswith("system test.waiting -")


def test_tail_defaults_to_twenty_and_refuses_less_than_one(log):
    assert len(run("tail")[1].splitlines()) == 5
    write_entries(30)
    assert len(run("tail")[1].splitlines()) == 20
    with pytest.raises(CommandError, match="-n must be at least 1"):
        call_command("audit", "tail", "-n", "0")
