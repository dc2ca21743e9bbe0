"""Idle and absolute session limits; logout ends every session of the user."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from casecenter.accounts.services import disable_account
from casecenter.accounts.session_policy import BACKGROUND_HEADER, LOGIN_AT, SEEN_AT
from casecenter.audit.models import AuditEntry
from tests.accounts.conftest import PASSWORD, logged_in, web_login

pytestmark = pytest.mark.django_db


def logged_in_client(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def set_times(browser: Client, *, login_ago: float, seen_ago: float) -> None:
    """Move the session's stored times back instead of waiting."""
    session = browser.session
    now = time.time()
    session[LOGIN_AT] = int(now - login_ago)
    session[SEEN_AT] = int(now - seen_ago)
    session.save()


def test_idle_session_ends_and_leads_to_login_with_a_message(officers):
    browser = logged_in_client(officers["lead"])
    set_times(browser, login_ago=40 * 60, seen_ago=31 * 60)
    r = browser.get("/cases/", follow=True)
    assert r.redirect_chain[0] == ("/login/?next=%2Fcases%2F", 302)
    assert "没有操作" in r.content.decode()  # Chinese by default
    assert not logged_in(browser)
    entry = AuditEntry.objects.get(action="account.session_expired")
    assert entry.data == {"because": "idle"} and entry.actor_id == officers["lead"].pk


def test_activity_keeps_a_session_alive(officers):
    browser = logged_in_client(officers["lead"])
    set_times(browser, login_ago=40 * 60, seen_ago=29 * 60)
    assert browser.get("/cases/").status_code == 200
    assert time.time() - browser.session[SEEN_AT] < 60


def test_absolute_limit_ends_even_an_active_session(officers):
    browser = logged_in_client(officers["lead"])
    set_times(browser, login_ago=12 * 3600 + 60, seen_ago=10)
    assert browser.get("/cases/")["Location"].startswith("/login/")
    assert not logged_in(browser)
    assert AuditEntry.objects.get(action="account.session_expired").data == {"because": "absolute"}


def test_the_limits_are_settings(officers, settings):
    settings.CASECENTER_SESSION_IDLE_MINUTES = 5
    browser = logged_in_client(officers["lead"])
    set_times(browser, login_ago=6 * 60, seen_ago=6 * 60)
    assert browser.get("/cases/").status_code == 302


def test_an_expired_api_session_gets_401_json(officers):
    browser = logged_in_client(officers["lead"])
    set_times(browser, login_ago=40 * 60, seen_ago=31 * 60)
    r = browser.get("/api/me")
    assert r.status_code == 401 and r.json()["code"] == "auth.session_expired"


def test_background_requests_do_not_count_as_activity(officers):
    browser = logged_in_client(officers["lead"])
    set_times(browser, login_ago=20 * 60, seen_ago=20 * 60)
    seen = browser.session[SEEN_AT]
    # the live map's poll (hx-headers) and the alert stream (EventSource, by address)
    assert browser.get("/cases/", headers={BACKGROUND_HEADER: "1"}).status_code == 200
    stream = browser.get("/events/")  # (not read: it would wait for alerts)
    assert stream.status_code == 200 and stream.streaming
    assert browser.session[SEEN_AT] == seen
    # so after the idle limit the stream itself is refused
    set_times(browser, login_ago=40 * 60, seen_ago=31 * 60)
    assert browser.get("/events/").status_code == 302


def test_htmx_request_of_an_expired_session_redirects_the_page(officers):
    browser = logged_in_client(officers["lead"])
    set_times(browser, login_ago=40 * 60, seen_ago=31 * 60)
    r = browser.get("/cases/", headers={"HX-Request": "true"})
    assert r.status_code == 204 and r["HX-Redirect"].startswith("/login/")


def test_the_live_map_poll_is_marked_as_background(officers):
    from pathlib import Path

    import casecenter.custody

    page = Path(casecenter.custody.__file__).parent / "templates/custody/map.html"
    assert BACKGROUND_HEADER in page.read_text()


def test_logout_on_one_client_ends_the_session_on_another(officers):
    phone, desk = Client(), Client()
    assert web_login(phone, "lead", PASSWORD).status_code == 302
    assert web_login(desk, "lead", PASSWORD).status_code == 302
    other = logged_in_client(officers["partner"])
    desk.post("/logout/")
    assert not logged_in(desk) and not logged_in(phone)
    assert logged_in(other)  # another user's sessions are not touched
    assert AuditEntry.objects.get(action="account.sessions_ended").data == {"because": "logout"}
    assert web_login(phone, "lead", PASSWORD).status_code == 302 and logged_in(phone)


def test_disabled_account_loses_its_sessions(officers, make_user):
    from casecenter.accounts.models import Role

    browser = logged_in_client(officers["lead"])
    disable_account(make_user("root", Role.ADMIN), officers["lead"])
    assert not logged_in(browser)
    assert web_login(Client(), "lead", PASSWORD).status_code == 200  # refused
