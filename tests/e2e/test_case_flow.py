"""A case officer logs in, registers an incident, turns it into a case and files it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from casecenter.cases.models import Case
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_officer_registers_incident_turns_it_into_a_case_and_files_it(live_server, page, officers):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("who")).to_contain_text("lead")

    page.goto(f"{live_server.url}/incidents/new/")
    page.select_option("#id_channel", "call_110")
    page.fill("#id_received_at", "2026-11-25T21:40")
    page.fill("#id_place", "北京市海淀区中关村大街27号")
    page.select_option("#id_category", "assault")
    page.fill("#id_summary", "报警人称在饭馆内与邻桌发生口角，被对方打伤面部。")
    page.fill("#id_reporter_name", "王小明")
    page.fill("#id_reporter_phone", "13812345678")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("ZGC-JQ-")

    page.select_option("#id_kind", "administrative")
    page.get_by_role("button", name="受案", exact=True).click()
    expect(page).to_have_url(re.compile(r"/cases/\d+/$"))
    expect(page.get_by_test_id("case-state")).to_have_text("已受案")
    expect(page.locator("table").first).to_contain_text("王小明")

    # an enforcement step needs a second officer: the lead adds the partner first
    page.locator("summary", has_text="指派民警").click()
    page.select_option("#id_user", str(officers["partner"].pk))
    page.get_by_role("button", name="指派", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("民警已指派")

    page.locator('button[data-transition="start_investigation"]').click()
    expect(page.get_by_test_id("case-state")).to_have_text(re.compile("调查"))
    case = Case.objects.get()
    assert case.state == "investigating"
    assert set(case.events.last().data["officers"]) == {officers["lead"].pk, officers["partner"].pk}
