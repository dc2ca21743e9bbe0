"""``casecenter audit verify|show|tail``: output and exit codes."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from casecenter.audit.management.commands import audit as audit_command
from casecenter.audit.verify import verify_log

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_verify_prints_ok_with_size_and_root_and_exits_0(log):
    code, out, _ = run("verify")
    assert code == 0
    assert out == f"audit log OK: 5 entries, root {verify_log().root}\n"


def test_verify_prints_the_first_tampered_entry_and_exits_1(log, tamper):
    tamper(3, reason="edited")
    code, out, _ = run("verify")
    assert code == 1
    assert out.startswith("audit log TAMPERED at entry #3: its content does not match")


def test_verify_reports_a_tampered_head_without_an_entry_number(log):
    from casecenter.audit.models import AuditHead

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
    }
    tamper(1, action="edited")
    code, out, _ = run("verify", "--json")
    report = json.loads(out)
    assert (code, report["ok"], report["first_bad_seq"]) == (1, False, 1)


def test_verify_shows_progress_on_stderr_every_tenth_of_a_long_log(log, monkeypatch):
    monkeypatch.setattr(audit_command, "PROGRESS_MIN_ENTRIES", 5)
    _, _, err = run("verify")
    assert err.splitlines() == [f"verified {n}/5 entries ({n * 20} %)" for n in range(1, 6)]


def test_verify_is_quiet_on_stderr_for_a_short_log(log):
    assert run("verify")[2] == ""


def test_show_prints_an_entry_as_json(log):
    code, out, _ = run("show", "4")
    shown = json.loads(out)
    assert code == 0
    assert shown["seq"] == 4
    assert shown["data"] == {"name": "报表 API"}
    assert shown["leaf_hash"] == bytes(log[4].leaf_hash).hex()
    assert shown["at"].endswith("Z")


def test_show_of_a_missing_entry_is_an_error(log):
    with pytest.raises(CommandError, match="no audit entry #99"):
        call_command("audit", "show", "99")


def test_tail_prints_the_last_entries_oldest_first(log):
    code, out, _ = run("tail", "-n", "2")
    lines = out.splitlines()
    assert code == 0
    assert [line.split()[0] for line in lines] == ["#3", "#4"]
    assert "accounts.user.read" in lines[0] and "— own profile" in lines[0]


def test_tail_defaults_to_twenty(log):
    assert len(run("tail")[1].splitlines()) == 5
