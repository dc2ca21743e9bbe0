"""Organisations' signing keys: made once, kept encrypted, rotated, trusted by verify."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

from casecenter.exchange import keys
from casecenter.exchange.models import SigningKey
from tests.exchange.test_manifest import package

pytestmark = pytest.mark.django_db


def test_an_organisation_gets_one_key_kept_encrypted(orgs):
    key = keys.active_key(orgs["station"])
    assert keys.active_key(orgs["station"]).pk == key.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT private_key FROM exchange_signingkey WHERE id = %s", [key.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("v1:") and key.private_key not in stored
    private = keys.private_key(key)
    assert keys.trusted()[key.key_id].public_bytes_raw() == private.public_key().public_bytes_raw()


def test_a_rotated_key_still_verifies_what_it_signed(orgs):
    old = keys.active_key(orgs["station"])
    new = keys.rotate(orgs["station"])
    old.refresh_from_db()
    assert old.retired_at is not None and new.key_id != old.key_id
    assert {old.key_id, new.key_id} <= set(keys.trusted())
    assert SigningKey.objects.filter(organisation=orgs["station"], retired_at=None).get() == new


def _run(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("package", *args, stdout=out)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_verify_trusts_the_registered_keys_and_refuses_a_strangers(orgs, tmp_path):
    key = keys.active_key(orgs["station"])
    code, printed = _run("key", "zgc")
    assert code == 0 and key.public_key in printed and key.key_id in printed
    signed = tmp_path / "ours.zip"
    signed.write_bytes(package(key=keys.private_key(key)))
    code, printed = _run("verify", str(signed))
    assert code == 0 and "VERIFIED" in printed
    stranger = tmp_path / "theirs.zip"
    stranger.write_bytes(package())  # the test module's own key, registered nowhere
    code, printed = _run("verify", str(stranger))
    assert code == 1 and "signer.unknown" in printed
