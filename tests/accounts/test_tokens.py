"""API tokens: expiry, listing without secrets, revocation by owner and administrator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from casecenter.accounts.models import ApiToken, Role
from casecenter.accounts.services import disable_account, issue_api_token, revoke_api_token
from casecenter.audit.models import AuditEntry
from casecenter.errors import NotFound
from tests.accounts.conftest import PASSWORD, api_login

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {secret}"})


def test_token_expires_after_the_configured_days(officers, settings):
    settings.CASECENTER_API_TOKEN_DAYS = 30
    r = api_login(Client(), "lead", PASSWORD)
    assert r.status_code == 201
    token = ApiToken.objects.get(pk=r.json()["token_id"])
    assert timedelta(days=29, hours=23) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert bearer(r.json()["token"]).get("/api/me").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    r = bearer(r.json()["token"]).get("/api/me")
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"


def test_owner_lists_tokens_without_secrets(officers):
    _, mine = issue_api_token(officers["lead"], name="laptop")
    _, theirs = issue_api_token(officers["partner"], name="other")
    r = bearer(mine).get("/api/auth/tokens")
    assert r.status_code == 200
    (row,) = r.json()
    assert row["name"] == "laptop" and row["prefix"] == mine[:8]
    assert set(row) == {
        "id",
        "user_id",
        "username",
        "name",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    }
    assert mine not in r.content.decode() and theirs not in r.content.decode()
    assert ApiToken.objects.get(name="laptop").digest not in r.content.decode()


def test_administrator_lists_and_revokes_anyones_tokens(officers, make_user):
    admin = make_user("root", Role.ADMIN)
    _, theirs = issue_api_token(officers["partner"], name="other")
    _, admins = issue_api_token(admin, name="admin")
    listed = bearer(admins).get(f"/api/auth/tokens?user_id={officers['partner'].pk}").json()
    assert [t["name"] for t in listed] == ["other"]
    assert bearer(admins).delete(f"/api/auth/token/{listed[0]['id']}").status_code == 204
    assert bearer(theirs).get("/api/me").status_code == 401
    entry = AuditEntry.objects.get(action="account.token_revoked")
    assert entry.actor_id == admin.pk and entry.data == {"owner": officers["partner"].pk}


def test_nobody_else_revokes_a_token(officers):
    token, theirs = issue_api_token(officers["partner"], name="other")
    _, mine = issue_api_token(officers["lead"], name="mine")
    assert bearer(mine).delete(f"/api/auth/token/{token.pk}").status_code == 404
    with pytest.raises(NotFound):
        revoke_api_token(officers["lead"], token)
    assert bearer(theirs).get("/api/me").status_code == 200


def test_disabling_an_account_revokes_its_tokens(officers, make_user):
    _, secret = issue_api_token(officers["lead"], name="cli")
    disable_account(make_user("root", Role.ADMIN), officers["lead"])
    token = ApiToken.objects.get()
    assert token.revoked_at is not None
    officers["lead"].is_active = True  # enabled again: the old token stays dead
    officers["lead"].save()
    assert bearer(secret).get("/api/me").status_code == 401
    assert AuditEntry.objects.filter(action="account.disabled").count() == 1


def test_deactivating_a_user_by_any_save_revokes_its_tokens(officers):
    """The admin site's form saves the user with is_active off: same effect."""
    _, secret = issue_api_token(officers["lead"], name="cli")
    lead = officers["lead"]
    lead.is_active = False
    lead.save()
    assert ApiToken.objects.get().revoked_at is not None
    entry = AuditEntry.objects.get(action="account.tokens_revoked")
    assert entry.data == {"count": 1, "because": "account_disabled"}


def test_account_page_lists_tokens_and_revokes_with_a_post(officers):
    token, secret = issue_api_token(officers["lead"], name="laptop")
    issue_api_token(officers["partner"], name="not-mine")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(officers["lead"])
    page = browser.get("/account/").content.decode()
    assert "laptop" in page and "not-mine" not in page and secret not in page
    url = f"/account/tokens/{token.pk}/revoke/"
    assert browser.get(url).status_code == 405
    assert browser.post(url).status_code == 403  # no CSRF token
    csrf = browser.cookies["csrftoken"].value
    assert browser.post(url, headers={"X-CSRFToken": csrf}).status_code == 302
    assert bearer(secret).get("/api/me").status_code == 401
