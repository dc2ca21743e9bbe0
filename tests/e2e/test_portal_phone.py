"""A victim follows their case on a phone (issue 6, public case progress).

The officer prints the acceptance receipt; its QR code, read back by a real decoder,
opens the case on a phone (a separate browser context: 390×844, touch), which shows
the public timeline and no names. The officer files the case, the phone sees the new
step, rates it and writes a message; the officer answers it from the case page and
the phone reads the answer. The phone's page never scrolls sideways.
"""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
import zxingcpp
from django.db import connections
from PIL import Image
from playwright.sync_api import Page, expect

from casecenter.cases import services as cases
from casecenter.portal import selectors, services
from casecenter.portal.models import Message, Rating, Receipt
from casecenter.supervision import live
from tests.conftest import PASSWORD, valid_id
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_WIDTH = 390
PHONE = {
    "viewport": {"width": PHONE_WIDTH, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
    ),
}
VICTIM, VICTIM_PHONE = "王小明", "13812345678"

#: Elements whose right edge passes the viewport's: what makes a page scroll sideways.
TOO_WIDE = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > width + 0.5)
    .map((e) => {
      const cls = e.getAttribute("class");
      const id = e.getAttribute("data-testid");
      return `<${e.tagName.toLowerCase()}${cls ? ` class="${cls}"` : ""}`
        + `${id ? ` data-testid="${id}"` : ""}> right edge at `
        + `${Math.round(e.getBoundingClientRect().right)}px`;
    });
}"""


@pytest.fixture
def browsers(lively):
    """One Chromium, two strangers: the officer's desktop and the victim's phone."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        desk = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        phone = browser.new_context(locale="zh-CN", **PHONE)
        try:
            yield SimpleNamespace(staff=desk.new_page(), phone=phone.new_page())
        finally:
            for page in desk.pages:
                page.goto("about:blank")  # its alert stream sees the tab gone
            browser.close()
            # no stream thread may outlive the test and touch the database after it
            wait_for(lambda: live.open_streams() == 0, 10)
            # see tests/e2e/conftest.py: PostgreSQL must be able to drop the test database
            connections.close_all()


def log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("who")).to_contain_text(username)


def assert_fits_the_phone(phone: Page) -> None:
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, (
        f"the page is {width}px wide on a {PHONE_WIDTH}px phone; too wide: "
        + "; ".join(phone.evaluate(TOO_WIDE))
    )


def assert_no_personal_data(phone: Page) -> None:
    text = phone.locator("body").inner_text()
    assert VICTIM not in text and VICTIM_PHONE not in text


def test_a_victim_follows_rates_and_asks_about_the_case_on_a_phone(
    live_server, browsers, make_case, officers
):
    staff, phone = browsers.staff, browsers.phone
    case = make_case()
    cases.add_party(
        officers["lead"], case, role="victim", name=VICTIM, id_number=valid_id(), phone=VICTIM_PHONE
    )

    # 1. the officer prints the receipt: a page of its own, with the QR code inline
    log_in(staff, live_server, "lead")
    staff.goto(f"{live_server.url}/cases/{case.pk}/")
    receipts = staff.get_by_test_id("receipts-card")
    expect(receipts).to_contain_text(VICTIM)
    with staff.expect_popup() as printed:
        receipts.get_by_test_id("issue-receipt").click()
    receipt_page = printed.value
    receipt_page.wait_for_load_state()
    receipt = Receipt.objects.get(case=case)
    expect(receipt_page.get_by_test_id("receipt-number")).to_have_text(receipt.number)
    qr = receipt_page.get_by_test_id("receipt-qr").locator("svg")
    expect(qr).to_be_visible()

    # 2. the QR code, as the page draws it, reads back as the receipt's link
    read = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot())))
    assert [str(r.format) for r in read] == ["QR Code"]
    link = read[0].text
    token = re.fullmatch(rf"{re.escape(live_server.url)}/p/t/([A-Za-z0-9_-]+)/", link)
    assert token, f"the QR code reads {link!r}, not a link to /p/t/<token>/ on the server"
    assert services.token_digest(token[1]) == receipt.token_digest
    expect(receipt_page.get_by_test_id("receipt-link")).to_have_text(link)
    receipt_page.close()

    # 3. the phone scans it: the case opens, the token leaves the address bar
    phone.goto(link)
    expect(phone).to_have_url(f"{live_server.url}/p/case/")
    timeline = phone.get_by_test_id("public-timeline")
    expect(timeline.locator("li[data-milestone]")).to_have_count(1)
    expect(timeline).to_contain_text("已受理")
    expect(phone.get_by_test_id("public-case")).to_contain_text(receipt.number)
    assert_no_personal_data(phone)
    assert_fits_the_phone(phone)

    # 4. the officer files the case; the phone sees the new step
    staff.goto(f"{live_server.url}/cases/{case.pk}/")
    file = staff.locator('button[data-transition="file"]')
    step = staff.locator("details.action", has=file)
    if step.get_attribute("open") is None:
        step.locator("summary").click()
    file.click()
    expect(staff.get_by_test_id("case-state")).to_have_text("已立案")

    phone.reload()
    steps = timeline.locator("li[data-milestone]")
    expect(steps).to_have_count(2)
    newest = selectors.milestones(case)[-1]
    assert newest.title_zh == "已立案"
    filed = timeline.locator(f'li[data-milestone="{newest.key}"]')
    expect(filed).to_contain_text("已立案")
    expect(steps.last).to_have_attribute("data-milestone", newest.key)

    # 5. the phone rates the newest step, then writes to the unit
    filed.locator("details.rate summary").tap()
    rate = filed.get_by_test_id("rate-form")
    expect(rate).to_be_visible()
    assert_fits_the_phone(phone)
    rate.locator('input[name="stars"][value="4"]').check()
    rate.locator('input[name="comment"]').fill("民警态度很好")
    rate.get_by_role("button", name="提交评价").tap()
    expect(phone.locator(".messages")).to_contain_text("感谢您的评价")
    expect(filed.get_by_test_id("rated")).to_have_text("您对这一进展的评分：4/5。")
    expect(filed.locator("details.rate")).to_have_count(0)
    rating = Rating.objects.get()
    assert (rating.receipt, rating.milestone, rating.stars, rating.comment) == (
        receipt,
        newest.key,
        4,
        "民警态度很好",
    )

    question = "请问被盗的电动车什么时候能找回？"
    form = phone.get_by_test_id("message-form")
    form.locator("textarea").fill(question)
    form.get_by_role("button", name="发送留言").tap()
    expect(phone.locator(".messages")).to_contain_text("您的留言已发送给办案单位")
    sent = phone.get_by_test_id("public-message")
    expect(sent).to_have_count(1)
    expect(sent).to_contain_text(question)
    expect(sent).to_contain_text("等待答复")
    expect(phone.get_by_test_id("public-answer")).to_have_count(0)
    assert_fits_the_phone(phone)

    # 6. the officer sees the message on the feedback list and answers it on the case page
    staff.goto(f"{live_server.url}/feedback/")
    listed = staff.get_by_test_id("station-messages").get_by_test_id("staff-message")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(question)
    expect(listed).to_contain_text(case.number)

    staff.goto(f"{live_server.url}/cases/{case.pk}/")
    card = staff.get_by_test_id("feedback-card")
    waiting = card.get_by_test_id("staff-message").filter(has_text=question)
    expect(waiting).to_have_count(1)
    expect(card.get_by_test_id("staff-rating")).to_contain_text("4★")
    reply = "已立案侦查，找到车辆后会电话通知您。"
    answer = waiting.get_by_test_id("answer-form")
    answer.locator("textarea").fill(reply)
    answer.get_by_role("button", name="答复").click()
    expect(staff.locator(".messages")).to_contain_text("答复已发送")
    expect(card.get_by_test_id("staff-message").filter(has_text=question)).to_contain_text(reply)
    expect(card.get_by_test_id("answer-form")).to_have_count(0)
    message = Message.objects.get()
    assert (message.answer, message.answered_by) == (reply, officers["lead"])

    phone.reload()
    expect(phone.get_by_test_id("public-answer")).to_contain_text(reply)
    expect(sent).not_to_contain_text("等待答复")
    expect(phone).to_have_url(f"{live_server.url}/p/case/")
    assert_no_personal_data(phone)
    assert_fits_the_phone(phone)
