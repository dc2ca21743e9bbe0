"""Real Chromium (Debian's package) driven by Playwright against pytest-django's live server."""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import pytest
from django.db import connections

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str:
    path = os.environ.get("CASECENTER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.fail(f"Chromium not found at {path}: install Debian's chromium (./run test does)")
    return path


@pytest.fixture
def page(lively):
    from playwright.sync_api import sync_playwright

    from casecenter.supervision import live

    profile = tempfile.mkdtemp(prefix="cc-chromium-")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=chromium_path(),
            headless=True,
            args=CHROMIUM_ARGS,
            locale="zh-CN",
            viewport={"width": 1280, "height": 900},
        )
        # the Content-Security-Policy refuses inline script and style: Chromium says so
        # on the console, and any such message fails the test (a new inline script
        # in a template cannot slip through the browser tests)
        violations: list[str] = []
        context.on(
            "console",
            lambda message: (
                violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        try:
            opened = context.pages[0] if context.pages else context.new_page()
            opened.csp_violations = violations  # a test that provokes one on purpose clears it
            yield opened
            if violations:
                pytest.fail("Content-Security-Policy violations:\n" + "\n".join(violations))
        finally:
            context.close()
            try:
                # A staff page's alert stream is a thread of the live server with a
                # connection of its own: it sees the tab gone at its next heartbeat
                # (``lively``) and must end before the test does. Left running, it is
                # refused the database, and if its test was the last of the process
                # (with pytest-xdist any test can be) its session keeps PostgreSQL
                # from dropping the test database.
                wait_for(lambda: live.open_streams() == 0, 10)
            finally:
                # ORM calls made while Playwright's event loop runs get a connection of
                # their own context; close it here, or PostgreSQL keeps a session open
                # on the test database and its teardown cannot drop it.
                connections.close_all()
                shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def lively(monkeypatch):
    """Staff pages hold an alert stream: write often, so a stream notices its closed
    tab at once when the test ends (every ``page`` has it)."""
    from casecenter.supervision import live

    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setattr(live, "POLL_SECONDS", 0.2)


def wait_for(condition, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def log_in(page, url: str, username: str) -> None:
    """Through the login form, as a person does, on the server at ``url``."""
    from playwright.sync_api import expect

    from tests.conftest import PASSWORD

    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    expect(page.get_by_test_id("who")).to_contain_text(username)
