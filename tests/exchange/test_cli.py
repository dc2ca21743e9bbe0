"""``casecenter package export|check NUMBER``: a stored package as a zip that
``package verify`` accepts, and checked where it is stored."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from casecenter.dossiers import storage
from casecenter.fasttrack import services as fasttrack


@pytest.fixture
def sent(ready_to_submit, officers, partners):
    return fasttrack.submit(
        officers["legal"], ready_to_submit, procuratorate=partners["orgs"]["jc"]
    )


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("package", *args, stdout=out)
    except SystemExit as exit_:
        return int(exit_.code), out.getvalue()
    return 0, out.getvalue()


def test_an_exported_package_verifies_and_a_changed_one_is_refused(sent, tmp_path):
    target = tmp_path / "p.zip"
    code, text = run("export", sent.number, "-o", str(target))
    assert code == 0 and f"{sent.files_count} files" in text
    code, text = run("verify", str(target))
    assert code == 0 and "通过 / VERIFIED" in text
    assert run("check", sent.number)[0] == 0
    first = sent.files.order_by("path").first()
    store = storage.storage()
    store.delete(first.storage_name)
    store.save(first.storage_name, io.BytesIO(b"%PDF-1.7 forged"))
    code, text = run("check", sent.number)
    assert code == 1 and "REFUSED" in text and first.path in text


def test_an_unknown_package_number_is_a_usage_error(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as error:
        call_command("package", "check", "NO-SUCH-1")
    assert error.value.returncode == 2
