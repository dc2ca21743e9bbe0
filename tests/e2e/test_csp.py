"""The Content-Security-Policy in a real Chromium: the pages work under it (the API's
Swagger UI, page.js's handlers), and a violation is seen (tests/e2e/conftest.py fails
any browser test whose page logs one)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def as_user(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def test_the_swagger_ui_runs_under_the_policy(live_server, page, officers):
    as_user(page, live_server, officers["lead"])
    response = page.goto(f"{live_server.url}/api/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_be_visible(timeout=15000)
    expect(page.locator(".opblock").first).to_be_visible()


def test_the_language_switch_submits_without_an_inline_handler(live_server, page):
    page.goto(f"{live_server.url}/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.select_option("select[name=language]", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_an_injected_inline_handler_is_refused_and_reported(live_server, page):
    page.goto(f"{live_server.url}/login/")
    page.evaluate(
        "document.body.insertAdjacentHTML('beforeend',"
        ' \'<img src="/nothing.png" onerror="document.title=1">\')'
    )
    for _ in range(100):  # Playwright delivers console events while it waits
        if page.csp_violations:
            break
        page.wait_for_timeout(50)
    assert page.title() != "1"  # the handler did not run
    assert "Content Security Policy" in page.csp_violations[0]
    page.csp_violations.clear()  # seen on purpose: not a failure of this test
