"""The password policy, the self-service change and the administrator's reset."""

from __future__ import annotations

import pytest
from django.test import Client

from casecenter.accounts.models import ApiToken, User
from casecenter.accounts.services import (
    change_password,
    issue_api_token,
    reset_password,
    user_for_token,
)
from casecenter.audit.models import AuditEntry
from casecenter.errors import InvalidInput, PermissionDenied
from tests.accounts.conftest import PASSWORD, logged_in, web_login

pytestmark = pytest.mark.django_db

NEW = "violet kettle under moonlight"  # noqa: S105


@pytest.mark.parametrize(
    "weak",
    [
        "short-one",  # fewer than 12 characters
        "password1234",  # a common password
        "739184620573",  # numbers only
        "wangxiaoming1",  # too like the username
    ],
)
def test_weak_and_common_passwords_are_refused(make_user, weak):
    user = make_user("wangxiaoming")
    with pytest.raises(InvalidInput) as refused:
        change_password(user, PASSWORD, weak)
    assert refused.value.code == "account.weak_password"
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_change_page_changes_it_and_is_audited(officers):
    browser = Client()
    browser.force_login(officers["lead"])
    page = browser.get("/account/password/")
    assert page.status_code == 200 and "12" in page.content.decode()  # the rules are shown
    r = browser.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert r.status_code == 302 and r["Location"] == "/account/"
    assert logged_in(browser)  # the session that changed it stays
    assert web_login(Client(), "lead", PASSWORD).status_code == 200  # refused
    assert web_login(Client(), "lead", NEW).status_code == 302
    entry = AuditEntry.objects.get(action="account.password_changed")
    assert entry.actor_id == officers["lead"].pk
    assert PASSWORD not in str(entry.data) and NEW not in str(entry.data)


def test_password_change_needs_the_current_password(officers):
    browser = Client()
    browser.force_login(officers["lead"])
    r = browser.post(
        "/account/password/",
        {"old_password": "guess guess guess", "new_password1": NEW, "new_password2": NEW},
    )
    assert r.status_code == 200 and "errorlist" in r.content.decode()
    officers["lead"].refresh_from_db()
    assert officers["lead"].check_password(PASSWORD)


def test_password_change_ends_the_other_sessions_and_revokes_tokens(officers):
    phone, desk = Client(), Client()
    phone.force_login(officers["lead"])
    desk.force_login(officers["lead"])
    _, secret = issue_api_token(officers["lead"], name="cli")
    desk.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert logged_in(desk) and not logged_in(phone)
    assert user_for_token(secret) is None
    assert ApiToken.objects.get().revoked_at is not None


def test_header_links_to_the_account_page(officers):
    browser = Client()
    browser.force_login(officers["lead"])
    assert 'href="/account/"' in browser.get("/").content.decode()


def test_administrator_reset_forces_a_change_at_next_login(officers, make_user):
    from casecenter.accounts.models import Role

    admin = make_user("root", Role.ADMIN)
    old_session = Client()
    old_session.force_login(officers["lead"])
    _, secret = issue_api_token(officers["lead"], name="cli")
    with pytest.raises(PermissionDenied):
        reset_password(officers["manager"], officers["lead"], "temporary tulip 4471")
    reset_password(admin, officers["lead"], "temporary tulip 4471")

    assert not logged_in(old_session)  # the sessions end
    assert user_for_token(secret) is None  # and the tokens are revoked
    browser = Client()
    assert web_login(browser, "lead", "temporary tulip 4471").status_code == 302
    r = browser.get("/cases/")
    assert r.status_code == 302 and r["Location"] == "/account/password/"
    api = browser.get("/api/me")
    assert api.status_code == 403 and api.json()["code"] == "auth.password_change_required"
    forced = browser.get("/account/password/").content.decode()
    assert 'data-testid="must-change"' in forced
    assert "<nav>" not in forced  # no menu until the user has their own password

    browser.post(
        "/account/password/",
        {"old_password": "temporary tulip 4471", "new_password1": NEW, "new_password2": NEW},
    )
    cases = browser.get("/cases/")
    assert cases.status_code == 200 and "<nav>" in cases.content.decode()
    assert User.objects.get(username="lead").must_change_password is False
    reset = AuditEntry.objects.get(action="account.password_reset")
    assert reset.actor_id == admin.pk and reset.object_id == str(officers["lead"].pk)


def test_reset_refuses_a_weak_password(officers, make_user):
    from casecenter.accounts.models import Role

    with pytest.raises(InvalidInput):
        reset_password(make_user("root", Role.ADMIN), officers["lead"], "12345678")


def test_reset_from_the_command_line_forces_a_change(officers, monkeypatch):
    import getpass

    from django.core.management import call_command

    typed = iter(["temporary tulip 4471", "temporary tulip 4471"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(typed))  # the terminal
    call_command("resetpassword", "lead")
    lead = User.objects.get(username="lead")
    assert lead.must_change_password and lead.check_password("temporary tulip 4471")
    assert AuditEntry.objects.get(action="account.password_reset").actor_id is None
