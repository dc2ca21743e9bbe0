"""An officer's page is open; a detention clock warns, then breaches: the bell and a
toast appear without a reload, and the toast leads to the alert and its legal basis."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from casecenter.cases.services import add_party
from casecenter.measures import services as measures
from casecenter.supervision import live, worker
from casecenter.supervision.models import Alert, Deadline
from tests.conftest import PASSWORD, valid_id
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_open_page_hears_a_clock_warn_then_breach(
    lively, live_server, page, make_case, officers
):
    case = make_case()
    suspect = add_party(officers["lead"], case, role="suspect", name="张三", id_number=valid_id())
    detention = measures.start_measure(
        officers["lead"],
        case,
        suspect,
        "criminal_detention",
        started_at=timezone.now() - timedelta(hours=20),
        officers=[officers["lead"], officers["partner"]],
    )
    to_house = Deadline.objects.get(measure=detention, rule_id="detention.to_house")

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    badge = page.get_by_test_id("alert-count")
    expect(badge).to_have_text("0")
    page.evaluate("window.notReloaded = true")

    # the worker (another process in production) reaches the warning moment
    worker.run_once(now=to_house.warn_at)
    expect(badge).to_have_text("3")  # the three 24-hour clocks of the detention
    expect(page.get_by_test_id("toast")).to_have_count(3)
    expect(page.get_by_test_id("toast").first).to_contain_text("即将到期")

    # …and then its due moment
    worker.run_once(now=to_house.due_at)
    expect(badge).to_have_text("6")
    breach = page.get_by_test_id("toast").filter(has_text="已超期：拘留后送看守所羁押")
    expect(breach).to_have_count(1)
    assert page.evaluate("window.notReloaded") is True

    alert = Alert.objects.get(deadline=to_house, kind="breach")
    breach.get_by_role("link", name=re.compile("已超期")).click()
    expect(page).to_have_url(f"{live_server.url}/alerts/{alert.pk}/")
    expect(page.get_by_test_id("alert-basis")).to_have_text("《刑事诉讼法》第85条")
    expect(page.locator(".explanation")).to_contain_text("《刑事诉讼法》第85条")
    expect(page.get_by_test_id("alert-case")).to_contain_text(case.number)

    page.get_by_test_id("acknowledge").click()
    expect(page.get_by_test_id("alert-state")).to_have_text("已确认")
    expect(badge).to_have_text("5")

    page.goto("about:blank")  # the stream sees its tab gone and frees its thread
    wait_for(lambda: live.open_streams() == 0)
