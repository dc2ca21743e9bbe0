"""Passwords, tokens and numbering series."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import Argon2PasswordHasher

from casecenter.accounts.models import ApiToken
from casecenter.accounts.services import issue_api_token, next_serial, user_for_token

pytestmark = pytest.mark.django_db


def test_passwords_are_hashed_with_argon2_in_the_shipped_settings():
    # the autouse fixture swaps hashers for speed; the shipped setting is what counts
    from casecenter import settings as shipped

    assert shipped.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    hasher = Argon2PasswordHasher()
    assert hasher.encode("x", hasher.salt()).startswith("argon2$argon2id$")
    assert django_settings.AUTH_USER_MODEL == "accounts.User"


def test_token_is_stored_only_as_a_digest(officers):
    token, secret = issue_api_token(officers["lead"], name="cli")
    stored = ApiToken.objects.get()
    assert secret not in (stored.digest, stored.prefix) and len(stored.digest) == 64
    assert user_for_token(secret) == officers["lead"]
    assert user_for_token(secret + "x") is None


def test_inactive_user_token_stops_working(officers):
    _, secret = issue_api_token(officers["lead"], name="cli")
    officers["lead"].is_active = False
    officers["lead"].save()
    assert user_for_token(secret) is None


def test_number_series_count_per_organisation_series_and_year(orgs):
    from django.db import transaction

    with transaction.atomic():
        got = [next_serial(orgs["station"].pk, "case.criminal", 2026) for _ in range(3)]
        got.append(next_serial(orgs["station"].pk, "case.criminal", 2027))
        got.append(next_serial(orgs["other"].pk, "case.criminal", 2026))
        got.append(next_serial(orgs["station"].pk, "incident", 2026))
    assert got == [1, 2, 3, 1, 1, 1]


@pytest.mark.django_db(transaction=True)
def test_number_series_refuses_to_run_outside_a_transaction(orgs):
    with pytest.raises(RuntimeError):
        next_serial(orgs["station"].pk, "incident", 2026)


def test_administrator_manages_users_in_the_admin(make_user, officers):
    from django.test import Client

    admin = make_user("root", "admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    page = client.get("/admin/accounts/user/").content.decode()
    assert "lead" in page and "partner" in page
    r = client.get(f"/admin/accounts/user/{officers['lead'].pk}/change/")
    assert r.status_code == 200 and 'name="role"' in r.content.decode()
    assert client.get("/admin/cases/case/").status_code == 404  # no back door to cases
