"""A commander logs in in a real browser: password, then the code of the demo
authenticator (computed from its published key), then the desk; without the
code every page leads back to the code prompt."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from casecenter.accounts.models import Role
from casecenter.demo.mfa import ensure_demo_authenticators
from tests.accounts.test_mfa import code_for
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.mfa, pytest.mark.django_db(transaction=True)]


def test_a_commander_types_the_code_after_the_password(live_server, page, make_user):
    boss = make_user("boss", Role.COMMANDER)
    (device_owner,) = ensure_demo_authenticators({"boss": boss})
    device = device_owner.totpdevice_set.get()

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.get_by_test_id("mfa-verify")).to_be_visible()

    page.goto(f"{live_server.url}/cases/")
    expect(page.get_by_test_id("mfa-verify")).to_be_visible()  # not past the prompt
    page.fill("#id_code", code_for(device))
    page.click("[data-testid=mfa-verify] form:not([action]) button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/cases/")
    expect(page.get_by_test_id("who")).to_contain_text("boss")
