"""Lockout after failed logins (django-axes): the form, the admin and the API alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessAttemptExpiration
from django.core.management import call_command
from django.test import Client

from casecenter.accounts.lockout import client_address
from casecenter.accounts.models import Lockout
from casecenter.accounts.services import unlock_account
from casecenter.audit.models import AuditEntry
from casecenter.errors import PermissionDenied
from tests.accounts.conftest import (
    PASSWORD,
    WRONG,
    admin_login,
    api_login,
    logged_in,
    web_login,
)

pytestmark = pytest.mark.django_db


def fail_times(n: int, username: str = "lead", login=web_login, **extra) -> list[int]:
    return [login(Client(), username, WRONG, **extra).status_code for _ in range(n)]


def actions(name: str, **data) -> list[AuditEntry]:
    entries = AuditEntry.objects.filter(action=name).order_by("id")
    return [e for e in entries if all(e.data.get(k) == v for k, v in data.items())]


def age_everything(minutes: int) -> None:
    """Move every failure and lockout into the past, as if the time had passed."""
    delta = timedelta(minutes=minutes)
    for row in Lockout.objects.all():
        Lockout.objects.filter(pk=row.pk).update(locked_at=row.locked_at - delta)
    for row in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=row.pk).update(attempt_time=row.attempt_time - delta)
    for row in AccessAttemptExpiration.objects.all():
        AccessAttemptExpiration.objects.filter(pk=row.pk).update(expires_at=row.expires_at - delta)


def test_sixth_attempt_with_the_right_password_is_refused(officers):
    assert fail_times(4) == [200, 200, 200, 200]  # the form again, with its error
    assert fail_times(1) == [429]  # the fifth locks
    browser = Client()
    r = web_login(browser, "lead", PASSWORD)
    assert r.status_code == 429 and r["Retry-After"] == "900"
    assert 'data-testid="locked-out"' in r.content.decode()
    assert not logged_in(browser)
    failed = actions("account.login_failed")
    assert len(failed) == 6 and failed[-1].data["locked_out"] is True
    assert [e.data["locked_out"] for e in failed[:5]] == [False] * 5
    # the account and the address (all from one test client) both reached five
    (locked,) = actions("account.locked_out", by="username")
    assert locked.data["minutes"] == 15 and locked.data["username"] == "lead"
    assert len(actions("account.locked_out", by="ip_address")) == 1


def test_locked_out_page_speaks_both_languages(officers):
    fail_times(5)
    chinese = web_login(Client(), "lead", PASSWORD).content.decode()
    english_browser = Client()
    english_browser.cookies["django_language"] = "en"
    english = web_login(english_browser, "lead", PASSWORD).content.decode()
    assert "登录失败次数过多" in chinese
    assert "Too many failed logins. Try again in 15 minutes." in english


def test_api_token_endpoint_is_locked_out_with_429_and_retry_after(officers):
    assert fail_times(4, login=api_login) == [403] * 4
    r = api_login(Client(), "lead", WRONG)
    assert r.status_code == 429 and r.json()["code"] == "auth.locked_out"
    r = api_login(Client(), "lead", PASSWORD)
    assert r.status_code == 429 and r.json()["code"] == "auth.locked_out"
    assert int(r["Retry-After"]) == 900 and r.json()["facts"]["retry_after"] == 900
    assert not officers["lead"].api_tokens.exists()


def test_form_and_api_failures_count_together_and_the_admin_login_is_closed_too(officers):
    fail_times(3, login=api_login)
    fail_times(2, login=web_login)
    assert web_login(Client(), "lead", PASSWORD).status_code == 429
    assert api_login(Client(), "lead", PASSWORD).status_code == 429
    # the admin's login (its own form, or the site's login it sends to) lets nobody in
    browser = Client()
    r = admin_login(browser, "lead", PASSWORD)
    assert r.status_code in (302, 429) and not logged_in(browser)
    if r.status_code == 302:  # the admin sends to the site's login (and its MFA step)
        assert r["Location"].startswith("/login/")
    vias = {e.data["via"] for e in actions("account.login_failed")}
    assert vias == {"api", "web"} | ({"admin"} if r.status_code == 429 else set())


def test_a_locked_account_is_locked_from_every_address(officers):
    for n in range(5):
        web_login(Client(), "lead", WRONG, REMOTE_ADDR=f"10.0.0.{n + 1}")
    r = web_login(Client(), "lead", PASSWORD, REMOTE_ADDR="10.9.9.9")
    assert r.status_code == 429


def test_one_address_cannot_spray_many_accounts(officers, make_user):
    sprayed = [make_user(f"victim{n}") for n in range(5)]
    for victim in sprayed:
        web_login(Client(), victim.username, WRONG, REMOTE_ADDR="10.6.6.6")
    # a sixth account, never tried before, with its right password: refused from there
    r = web_login(Client(), "partner", PASSWORD, REMOTE_ADDR="10.6.6.6")
    assert r.status_code == 429
    (locked,) = actions("account.locked_out")
    assert locked.data["by"] == "ip_address" and locked.data["ip"] == "10.6.6.6"
    # each sprayed account itself was tried once only: from elsewhere it still logs in
    elsewhere = Client()
    assert web_login(elsewhere, "victim0", PASSWORD, REMOTE_ADDR="10.7.7.7").status_code == 302
    assert logged_in(elsewhere)


def test_forwarded_for_is_ignored_without_a_trusted_proxy(officers, make_user):
    for n in range(5):
        spoofed = {"HTTP_X_FORWARDED_FOR": f"203.0.113.{n}", "REMOTE_ADDR": "10.6.6.6"}
        web_login(Client(), f"nobody{n}", WRONG, **spoofed)
    r = web_login(
        Client(), "lead", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.1", REMOTE_ADDR="10.6.6.6"
    )
    assert r.status_code == 429
    assert {e.data["ip"] for e in actions("account.login_failed")} == {"10.6.6.6"}


def test_forwarded_for_of_a_trusted_proxy_names_the_client(officers, settings):
    settings.CASECENTER_TRUSTED_PROXIES = ["10.0.0.1"]
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for n in range(5):
        web_login(Client(), f"nobody{n}", WRONG, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    locked = web_login(Client(), "lead", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    assert locked.status_code == 429
    # another client behind the same proxy is not locked out with the first
    other = web_login(Client(), "lead", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy)
    assert other.status_code == 302


def test_client_address_believes_only_the_trusted_proxy_and_the_right_most_entry(rf, settings):
    settings.CASECENTER_TRUSTED_PROXIES = ["10.0.0.1", "10.0.0.2"]
    chain = "6.6.6.6, 203.0.113.9, 10.0.0.2"  # the client wrote the first entry itself
    via_proxy = rf.get("/", HTTP_X_FORWARDED_FOR=chain, REMOTE_ADDR="10.0.0.1")
    direct = rf.get("/", HTTP_X_FORWARDED_FOR=chain, REMOTE_ADDR="198.51.100.4")
    garbage = rf.get("/", HTTP_X_FORWARDED_FOR="not-an-ip", REMOTE_ADDR="10.0.0.1")
    assert client_address(via_proxy) == "203.0.113.9"
    assert client_address(direct) == "198.51.100.4"
    assert client_address(garbage) == "10.0.0.1"


def test_lockout_grows_with_each_new_lockout_and_is_capped(officers, settings):
    settings.CASECENTER_LOCKOUT_MAX_HOURS = 1
    minutes = []
    for _ in range(4):
        fail_times(5)
        r = web_login(Client(), "lead", PASSWORD)
        assert r.status_code == 429
        minutes.append(int(r["Retry-After"]) // 60)
        age_everything(minutes[-1] + 1)  # the lockout in force has just ended
        browser = Client()
        assert web_login(browser, "lead", PASSWORD).status_code == 302  # open again
        browser.post("/logout/")
    assert minutes == [15, 30, 60, 60]
    grown = [e.data["minutes"] for e in actions("account.locked_out", by="username")]
    assert grown == [15, 30, 60, 60]


def test_a_lockout_is_not_cut_short_by_another_accounts_shorter_one(officers):
    fail_times(5)
    age_everything(16)
    fail_times(5)  # the second lockout of lead: 30 minutes
    age_everything(20)
    fail_times(1, username="partner")  # a first failure elsewhere cleans expired attempts
    assert web_login(Client(), "lead", PASSWORD).status_code == 429


def test_administrator_unlocks_and_it_is_audited(officers, admin):
    fail_times(5)
    with pytest.raises(PermissionDenied):
        unlock_account(officers["partner"], "lead")
    unlock_account(admin, "lead")
    browser = Client()
    assert web_login(browser, "lead", PASSWORD).status_code == 302 and logged_in(browser)
    (entry,) = actions("account.unlocked")
    assert entry.actor_id == admin.pk and entry.data["username"] == "lead"
    # an unlock forgets the earlier lockouts: the next one is short again
    browser.post("/logout/")
    fail_times(5)
    assert int(web_login(Client(), "lead", PASSWORD)["Retry-After"]) == 900


def test_unlock_from_the_command_line(officers):
    fail_times(5)
    call_command("unlock", "lead")
    assert web_login(Client(), "lead", PASSWORD).status_code == 302
    (entry,) = actions("account.unlocked")
    assert entry.actor_id is None and entry.data["username"] == "lead"


def test_logins_and_failures_are_audited_without_the_password(officers):
    web_login(Client(), "lead", WRONG)
    api_login(Client(), "lead", PASSWORD)
    web_login(Client(), "lead", PASSWORD)
    assert [e.data["via"] for e in actions("account.login")] == ["api", "web"]
    assert actions("account.login")[0].actor_id == officers["lead"].pk
    for entry in AuditEntry.objects.all():
        text = str(entry.data) + entry.reason
        assert WRONG not in text and PASSWORD not in text


def test_an_old_failure_does_not_count_after_the_cool_off(officers):
    fail_times(4)
    age_everything(16)
    assert fail_times(1) == [200]  # one new failure, not the fifth
    assert web_login(Client(), "lead", PASSWORD).status_code == 302
