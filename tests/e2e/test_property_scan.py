"""A custodian scans an item's label into the browser (a hand scanner types the code and
Enter), lands on the item and takes it over from the seizing officer, then shelves it;
the printed label reads back; unknown and malformed scans say so, never a server error."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
import zxingcpp
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from casecenter.accounts.models import Role
from casecenter.property import services
from casecenter.property.models import CustodyEvent, Location, Room
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scene(make_case, make_user, officers, orgs):
    """A phone seized an hour ago and still with the officer; the branch's custodian
    and its property room with one shelf."""
    custodian = make_user("custodian", Role.CUSTODY_STAFF, org="legal")
    room = Room.objects.create(
        organisation=orgs["legal"], kind=Room.Kind.PROPERTY_ROOM, code="cw1", name="财物室一"
    )
    shelf = Location.objects.create(room=room, shelf="A", bin="01", code="CW1-A-01")
    item = services.register_item(
        officers["lead"],
        make_case(),
        category="phone",
        description="黑色苹果手机一部",
        quantity=1,
        unit="部",
        seized_at=timezone.now() - timedelta(hours=1),
        seized_place="中关村大街1号",
        officers=[officers["lead"], officers["partner"]],
    )
    return SimpleNamespace(item=item, custodian=custodian, shelf=shelf)


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("who")).to_contain_text(username)


def scan(page, code: str):
    """What a hand scanner does: the code typed into the focused box, then Enter."""
    box = page.get_by_test_id("scan-input")
    expect(box).to_be_focused()
    with page.expect_response(lambda r: "/property/scan/?" in r.url) as answer:
        box.fill(code)
        box.press("Enter")
    return answer.value


def test_custodian_scans_the_label_and_takes_the_item_over_by_the_form(
    live_server, page, scene, officers
):
    item, custodian, shelf = scene.item, scene.custodian, scene.shelf
    log_in(page, live_server, "custodian")
    page.get_by_role("link", name="涉案财物").click()
    page.get_by_role("link", name="扫描标签").click()

    assert scan(page, item.number).status == 302
    expect(page).to_have_url(re.compile(rf"/property/items/{item.pk}/$"))
    expect(page.get_by_test_id("item-state")).to_have_text("已扣押")
    hand_over = page.locator('form[data-move="hand-over"]')
    expect(page.locator("summary", has_text="接收 lead 移交的财物")).to_be_visible()
    hand_over.get_by_role("button", name="登记移交").click()
    expect(page.locator(".messages")).to_contain_text("移交已登记")
    expect(page.get_by_test_id("item-state")).to_have_text("已移交财物管理员")

    item.refresh_from_db()
    assert item.state == "in_custody" and item.holder == custodian
    handed = item.events.get(kind=CustodyEvent.Kind.HANDED_OVER)
    assert (handed.giver, handed.receiver, handed.actor) == (officers["lead"], custodian, custodian)

    store = page.locator('form[data-move="store"]')
    store.locator("select[name=location]").select_option(str(shelf.pk))
    store.get_by_role("button", name="入库").click()
    expect(page.get_by_test_id("item-state")).to_have_text("已入库")
    item.refresh_from_db()
    assert item.state == "stored" and item.location == shelf
    assert list(item.events.values_list("kind", flat=True)) == ["seized", "handed_over", "stored"]

    # the shelf's own label opens what lies on it
    page.get_by_test_id("where").get_by_role("link").click()
    page.get_by_role("link", name="继续扫描").click()
    scan(page, "CW1-A-01")
    expect(page.get_by_test_id("shelf")).to_contain_text("CW1-A-01")
    expect(page.locator(f'tr[data-item="{item.number}"]')).to_be_visible()


def test_unknown_and_malformed_scans_say_so_and_keep_the_box_ready(live_server, page, scene):
    log_in(page, live_server, "custodian")
    page.goto(f"{live_server.url}/property/scan/")

    answer = scan(page, "ZGC-WP-1999-999999")
    assert answer.status == 404
    expect(page.get_by_test_id("scan-problem")).to_have_text(
        "没有找到编号为“ZGC-WP-1999-999999”的财物或库位。"
    )
    answer = scan(page, "#" * 150)  # a misread: far longer than any label
    assert answer.status == 400
    expect(page.get_by_test_id("scan-problem")).to_have_text("无法识别的标签，请重新扫描。")
    answer = scan(page, "<b>ZGC</b>")
    assert answer.status < 500
    expect(page.get_by_test_id("scan-problem")).to_contain_text("<b>ZGC</b>")  # shown, as text
    expect(page.locator("main b", has_text="ZGC")).to_have_count(0)


def test_the_printed_label_reads_back_and_prints_on_a_60_by_40_mm_page(live_server, page, scene):
    item = scene.item
    log_in(page, live_server, "custodian")
    page.goto(f"{live_server.url}/property/items/{item.pk}/")
    page.get_by_test_id("print-label").click()
    label = page.locator(f'.label[data-code="{item.number}"]')
    expect(label).to_be_visible()

    # a finer raster for the decoder, set through the CSSOM (the policy refuses a <style>)
    page.locator(".sheet").evaluate("sheet => { sheet.style.zoom = 4; }")
    shot = Image.open(io.BytesIO(label.screenshot()))
    read = {str(r.format): r.text for r in zxingcpp.read_barcodes(shot)}
    assert read == {"QR Code": item.number, "Code 128": item.number}

    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([0-9.]+) ([0-9.]+)\s*\]", pdf)
    assert len(boxes) == 1  # one label, one page
    width_mm, height_mm = (float(v) / 72 * 25.4 for v in boxes[0])
    assert width_mm == pytest.approx(60, abs=0.5) and height_mm == pytest.approx(40, abs=0.5)
