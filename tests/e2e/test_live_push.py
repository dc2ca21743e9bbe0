"""The production path of a live alert: Chromium on a page served by ``casecenter
serve`` on PostgreSQL, an alert committed by another process (this test's), pushed
by LISTEN/NOTIFY — the bell and a toast, without a reload and without polling."""

from __future__ import annotations

import pytest
from django.db import connection
from playwright.sync_api import expect

from casecenter.supervision import services
from casecenter.supervision.models import Alert
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.serving import servers
from tests.supervision.test_push import alert_on

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="notifications are PostgreSQL's; SQLite polls"
    ),
]


@pytest.fixture
def server(tmp_path):
    started = servers(tmp_path)
    yield next(started)("--workers", "2")  # the page and its stream on any worker
    started.close()


def test_an_alert_committed_elsewhere_appears_on_the_open_page(
    server, page, make_case, officers, settings
):
    case = make_case()
    # the server checks passwords with the real hasher, not the tests' fast one
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    officers["lead"].set_password(PASSWORD)
    officers["lead"].save(update_fields=["password"])
    base = f"http://127.0.0.1:{server.port}"
    log_in(page, base, "lead")
    page.goto(f"{base}/cases/{case.pk}/")
    badge = page.get_by_test_id("alert-count")
    expect(badge).to_have_text("0")
    page.evaluate("window.notReloaded = true")

    alert = alert_on(case, "pushed to the browser")
    expect(page.get_by_test_id("toast")).to_have_count(1)
    expect(page.get_by_test_id("toast").first).to_contain_text("提醒pushed to the browser")
    expect(badge).to_have_text("1")

    # acknowledged by a colleague on another page: the count on this one drops
    services.acknowledge_alert(officers["partner"], Alert.objects.get(pk=alert.pk))
    expect(badge).to_have_text("0")
    assert page.evaluate("window.notReloaded") is True
    page.goto("about:blank")
