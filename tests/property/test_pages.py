"""The property pages through Django's test client: search, the item page and its moves,
photos, labels, the scan box, room inventories, counts and the case page's card."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from casecenter.audit.models import AuditEntry
from casecenter.cases.services import add_party
from casecenter.property.models import CustodyEvent, Item, Photo, StockTake
from casecenter.supervision.models import Deadline
from tests.property.conftest import png_bytes

pytestmark = pytest.mark.django_db


def local(at) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")


def messages_of(page: str) -> str:
    found = re.search(r'<ul class="messages">(.*?)</ul>', page, re.S)
    return found.group(1) if found else ""


# --- search and the item page -------------------------------------------------------------


def test_item_search_filters_by_number_description_category_state_and_room(
    seize, stored, browser_of, custodian, officers
):
    phone = seize(description="黑色苹果手机一部")
    cash = stored(category="cash", description="现金人民币2000元", unit="元", quantity=2000)
    lead, keeper = browser_of(officers["lead"]), browser_of(custodian)
    page = lead.get("/property/").content.decode()
    assert phone.number in page and cash.number in page
    assert "涉案财物" in page  # the nav link and the heading
    assert cash.number not in lead.get("/property/?description=手机").content.decode()
    only_cash = lead.get("/property/?category=cash").content.decode()
    assert cash.number in only_cash and phone.number not in only_cash
    stored_only = lead.get("/property/?state=stored").content.decode()
    assert cash.number in stored_only and phone.number not in stored_only
    in_room = keeper.get(f"/property/?room={cash.location.room_id}").content.decode()
    assert cash.number in in_room and phone.number not in in_room
    by_number = lead.get(f"/property/?number={phone.number[-6:]}").content.decode()
    assert phone.number in by_number and cash.number not in by_number


@pytest.mark.parametrize(
    "query", ["?room=99999999999999999999", "?state=%00", "?page=-1", "?category=<x>", "?room=abc"]
)
def test_odd_filters_give_a_page_not_an_error(seize, browser_of, officers, query):
    seize()
    assert browser_of(officers["lead"]).get(f"/property/{query}").status_code == 200


def test_items_of_another_station_are_not_found(seize, browser_of, officers):
    item = seize()
    stranger = browser_of(officers["stranger"])
    assert item.number not in stranger.get("/property/").content.decode()
    assert stranger.get(f"/property/items/{item.pk}/").status_code == 404
    assert stranger.get(f"/property/items/{item.pk}/label/").status_code == 404


def test_owner_is_named_with_need_to_know_and_masked_without(
    seize, browser_of, officers, custodian
):
    case = seize().case
    item = seize(owner=add_party(officers["lead"], case, role="victim", name="李秀英"))
    lead_page = browser_of(officers["lead"]).get(f"/property/items/{item.pk}/").content.decode()
    assert 'data-testid="owner">李秀英<' in lead_page
    assert AuditEntry.objects.filter(action="property.read_owner", actor_id=officers["lead"].pk)
    keeper_page = browser_of(custodian).get(f"/property/items/{item.pk}/").content.decode()
    assert 'data-testid="owner">李**<' in keeper_page and "李秀英" not in keeper_page


def test_the_holder_hands_over_and_the_custodian_stores_checks_out_and_returns(
    seize, browser_of, officers, custodian, rooms
):
    item = seize()
    lead, keeper = browser_of(officers["lead"]), browser_of(custodian)
    page = lead.get(f"/property/items/{item.pk}/").content.decode()
    assert 'data-move="hand-over"' in page and "custodian (" in page
    assert 'data-move="store"' not in page
    when = local(timezone.now() - timedelta(minutes=10))
    r = lead.post(f"/property/items/{item.pk}/hand-over/", {"receiver": custodian.pk, "at": when})
    assert r.status_code == 302 and r.url == f"/property/items/{item.pk}/"
    item.refresh_from_db()
    assert item.state == "in_custody" and item.holder == custodian
    handed = item.events.get(kind="handed_over")
    assert local(handed.at) == when  # as entered

    page = keeper.get(f"/property/items/{item.pk}/").content.decode()
    assert 'data-move="store"' in page and 'data-move="transfer"' in page
    assert "CW1-A-01" in page and "DP1-A-01" in page  # a phone may go to any storage shelf
    keeper.post(
        f"/property/items/{item.pk}/store/",
        {"location": rooms["CW1-A-01"].pk, "at": ""},
    )
    back = timezone.now() + timedelta(days=2)
    keeper.post(
        f"/property/items/{item.pk}/check-out/",
        {
            "purpose": "appraisal",
            "to": "物价鉴定室 李鉴定",
            "expected_return_at": local(back),
            "reason": "物价鉴定",
            "at": "",
        },
    )
    item.refresh_from_db()
    assert item.state == "checked_out" and item.out_to == "物价鉴定室 李鉴定"
    assert Deadline.objects.get(item=item, rule_id="property.return").state == "running"
    keeper.post(
        f"/property/items/{item.pk}/return/",
        {"location": rooms["CW1-A-02"].pk, "at": ""},
    )
    item.refresh_from_db()
    assert item.state == "stored" and item.location == rooms["CW1-A-02"]
    kinds = list(item.events.values_list("kind", flat=True))
    assert kinds == ["seized", "handed_over", "stored", "checked_out", "returned"]

    page = keeper.get(f"/property/items/{item.pk}/").content.decode()
    custody = page[page.index('data-testid="custody"') :]
    assert "移交财物管理员" in custody
    assert "<b>lead</b>" in custody and "<b>custodian</b>" in custody  # both sides
    assert "<code>CW1-A-01</code> → <code>CW1-A-02</code>" not in custody  # a return is to a shelf
    assert "→ <code>CW1-A-02</code>" in custody and "物价鉴定室 李鉴定" in custody
    assert "用途：鉴定" in custody
    assert 'data-rule="property.return"' in page and 'data-rule="property.hand_over"' in page


def test_a_stale_form_is_refused_and_records_nothing(seize, browser_of, officers, custodian):
    item = seize()
    lead = browser_of(officers["lead"])
    data = {"receiver": custodian.pk, "at": ""}
    lead.post(f"/property/items/{item.pk}/hand-over/", data)
    r = lead.post(f"/property/items/{item.pk}/hand-over/", data, follow=True)
    assert "不能办理此操作" in messages_of(r.content.decode())
    assert item.events.filter(kind=CustodyEvent.Kind.HANDED_OVER).count() == 1


def test_a_move_that_is_not_the_viewers_is_refused(seize, browser_of, officers, rooms):
    item = seize()
    r = browser_of(officers["partner"]).post(
        f"/property/items/{item.pk}/store/", {"location": rooms["CW1-A-01"].pk}, follow=True
    )
    assert "不能办理此操作" in messages_of(r.content.decode())
    item.refresh_from_db()
    assert item.state == "seized" and item.events.count() == 1


def test_an_invalid_move_form_says_what_is_wrong(stored, browser_of, custodian):
    item = stored()
    r = browser_of(custodian).post(
        f"/property/items/{item.pk}/check-out/",
        {"purpose": "holiday", "to": "", "expected_return_at": "soon"},
        follow=True,
    )
    text = messages_of(r.content.decode())
    assert "请更正" in text and "用途" in text
    item.refresh_from_db()
    assert item.state == "stored"


def test_transfer_and_disposal_through_the_forms(stored, browser_of, custodian, officers, orgs):
    first, second = stored(), stored(description="银色笔记本电脑")
    keeper = browser_of(custodian)
    page = keeper.get(f"/property/items/{first.pk}/").content.decode()
    assert "法院" in page and "legal (" in page  # the court to transfer to, the approver
    keeper.post(
        f"/property/items/{first.pk}/transfer/",
        {
            "organisation": orgs["court"].pk,
            "receipt_number": "HD-2026-7",
            "receiver_name": "吴法官",
            "at": "",
        },
    )
    keeper.post(
        f"/property/items/{second.pk}/dispose/",
        {
            "method": "returned_to_owner",
            "approver": officers["legal"].pk,
            "reason": "经审查与案件无关，发还",
            "at": "",
        },
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == "transferred" and first.events.last().data["receipt"] == "HD-2026-7"
    assert second.state == "disposed" and second.events.last().data["approved_by"] == (
        officers["legal"].pk
    )
    page = keeper.get(f"/property/items/{second.pk}/").content.decode()
    assert "发还" in page and "legal" in page
    assert "没有可办理的操作" in page


def test_appraisal_requested_and_its_result_recorded(seize, browser_of, officers, rooms):
    item = seize()
    lead = browser_of(officers["lead"])
    page = lead.get(f"/property/items/{item.pk}/").content.decode()
    assert "物价鉴定室" in page
    lead.post(
        f"/property/items/{item.pk}/appraisal/",
        {"kind": "price", "room": rooms["lab"].pk, "question": "估算该手机价值"},
    )
    appraisal = item.appraisals.get()
    r = lead.post(
        f"/property/appraisals/{appraisal.pk}/result/",
        {"result": "价值人民币5200元", "value": "5200"},
    )
    assert r.url.endswith("#appraisals")
    appraisal.refresh_from_db()
    assert appraisal.state == "done" and str(appraisal.value) == "5200.00"
    assert "价值人民币5200元" in lead.get(f"/property/items/{item.pk}/").content.decode()


# --- photos ---------------------------------------------------------------------------------


def test_a_photo_is_stored_by_its_hash_and_served_only_in_scope(seize, browser_of, officers, media):
    item = seize()
    lead = browser_of(officers["lead"])
    data = png_bytes()
    upload = SimpleUploadedFile("phone.png", data, content_type="image/png")
    r = lead.post(f"/property/items/{item.pk}/photo/", {"photo": upload})
    assert r.url.endswith("#photos")
    photo = Photo.objects.get(item=item)
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    assert photo.sha256 == digest and photo.file.name.endswith(f"{digest}.png")
    assert (media / photo.file.name).read_bytes() == data
    assert AuditEntry.objects.filter(action="property.photo_added").count() == 1
    served = lead.get(f"/property/photos/{photo.pk}/")
    assert served["Content-Type"] == "image/png" and served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content) == data
    assert browser_of(officers["stranger"]).get(f"/property/photos/{photo.pk}/").status_code == 404
    again = lead.post(
        f"/property/items/{item.pk}/photo/",
        {"photo": SimpleUploadedFile("again.png", data, content_type="image/png")},
        follow=True,
    )
    assert "已经上传" in messages_of(again.content.decode()) and item.photos.count() == 1


@pytest.mark.parametrize(
    "name,content,problem",
    [
        ("fake.png", b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "只能上传图片"),
        ("notes.txt", "不是图片".encode(), "只能上传图片"),
        ("huge.png", b"\x89PNG" + b"0" * (10 * 1024 * 1024), "10 MB"),
        ("cut.png", png_bytes()[:40], "只能上传图片"),
    ],
)
def test_only_images_of_at_most_10_mb_are_taken(
    seize, browser_of, officers, media, name, content, problem
):
    item = seize()
    r = browser_of(officers["lead"]).post(
        f"/property/items/{item.pk}/photo/",
        {"photo": SimpleUploadedFile(name, content, content_type="image/png")},
        follow=True,
    )
    assert problem in messages_of(r.content.decode())
    assert not Photo.objects.exists() and not (media / "property").exists()


# --- labels and the scan box ---------------------------------------------------------------


def test_label_page_is_sized_for_the_label_printer_and_carries_both_symbols(
    seize, browser_of, officers
):
    item = seize()
    page = browser_of(officers["lead"]).get(f"/property/items/{item.pk}/label/").content.decode()
    assert "casecenter/label.css" in page  # a static file: the policy refuses inline styles
    from django.conf import settings

    css = (settings.PACKAGE_DIR / "web/static/casecenter/label.css").read_text()
    assert "@page { size: 60mm 40mm; margin: 0; }" in css
    assert f'data-code="{item.number}"' in page
    assert 'class="qr"' in page and 'id="barcode_group"' in page
    assert "<?xml" not in page  # the SVGs are embedded, not documents
    assert item.case.number in page and "手机" in page


def test_shelf_labels_page_has_one_label_per_shelf(rooms, browser_of, custodian, officers):
    page = (
        browser_of(custodian).get(f"/property/rooms/{rooms['store'].pk}/labels/").content.decode()
    )
    assert page.count('class="label"') == 2
    assert 'data-code="CW1-A-01"' in page and 'data-code="CW1-A-02"' in page
    assert (
        browser_of(officers["lead"]).get(f"/property/rooms/{rooms['store'].pk}/labels/").status_code
        == 404
    )


def test_scanning_an_item_number_opens_the_item(seize, browser_of, officers):
    item = seize()
    lead = browser_of(officers["lead"])
    page = lead.get("/property/scan/").content.decode()
    assert 'name="code"' in page and "autofocus" in page
    for typed in [
        item.number,
        f"  {item.number}\t",
        item.number.lower(),
        item.number.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)}),
    ]:
        r = lead.get("/property/scan/", {"code": typed})
        assert r.status_code == 302 and r.url == f"/property/items/{item.pk}/", typed


def test_scanning_a_shelf_label_opens_its_inventory(stored, browser_of, custodian, rooms):
    item = stored()
    keeper = browser_of(custodian)
    r = keeper.get("/property/scan/", {"code": "CW1-A-01"})
    assert r.status_code == 302 and r.url == f"/property/shelves/{rooms['CW1-A-01'].pk}/"
    page = keeper.get(r.url).content.decode()
    assert item.number in page and "财物室一" in page


@pytest.mark.parametrize(
    "code,status,problem",
    [
        ("ZGC-WP-1999-999999", 404, "没有找到编号为“ZGC-WP-1999-999999”"),
        ("CW1-A-01", 404, "没有找到"),  # a shelf, but officers keep no rooms
        ("", 400, "无法识别的标签"),
        ("   ", 400, "无法识别的标签"),
        ("ZGC\x00WP", 400, "无法识别的标签"),
        ("A" * 101, 400, "无法识别的标签"),
        ("A" * 5000, 400, "无法识别的标签"),
        ("<script>alert(1)</script>", 404, "没有找到编号为“&lt;script&gt;"),
        ("' OR 1=1 --", 404, "没有找到"),
    ],
)
def test_unknown_and_malformed_scans_say_so_and_never_fail(
    rooms, browser_of, officers, code, status, problem
):
    r = browser_of(officers["lead"]).get("/property/scan/", {"code": code})
    page = r.content.decode()
    assert r.status_code == status and problem in page
    assert "<script>alert(1)" not in page


def test_an_item_beyond_the_scope_scans_exactly_like_an_unknown_one(seize, browser_of, officers):
    item = seize()
    stranger = browser_of(officers["stranger"])
    known = stranger.get("/property/scan/", {"code": item.number})
    unknown = stranger.get("/property/scan/", {"code": item.number[:-1] + "9"})
    assert known.status_code == unknown.status_code == 404

    def main(response, code: str) -> str:
        page = response.content.decode()
        start = page.index(">", page.index("<main")) + 1  # <main> may carry a class
        return page[start : page.index("</main>")].replace(code, "X")

    assert main(known, item.number) == main(unknown, item.number[:-1] + "9")


# --- rooms and counts -----------------------------------------------------------------------


def test_room_inventory_lists_every_shelf_and_its_items(stored, browser_of, custodian, rooms):
    on_one = stored()
    on_two = stored("CW1-A-02", description="银色笔记本电脑")
    keeper = browser_of(custodian)
    assert "财物室一" in keeper.get("/property/rooms/").content.decode()
    page = keeper.get(f"/property/rooms/{rooms['store'].pk}/").content.decode()
    one = page[page.index('data-shelf="CW1-A-01"') : page.index('data-shelf="CW1-A-02"')]
    two = page[page.index('data-shelf="CW1-A-02"') :]
    assert on_one.number in one and on_two.number not in one and on_two.number in two


def test_officers_have_no_storage_rooms(rooms, browser_of, officers):
    lead = browser_of(officers["lead"])
    assert "财物室一" not in lead.get("/property/rooms/").content.decode()
    assert lead.get(f"/property/rooms/{rooms['store'].pk}/").status_code == 404
    assert lead.get(f"/property/shelves/{rooms['CW1-A-01'].pk}/").status_code == 404
    assert lead.post(f"/property/rooms/{rooms['store'].pk}/counts/").status_code == 404
    assert not StockTake.objects.exists()


def test_a_count_by_scanning_shows_a_planted_discrepancy_and_is_signed_off(
    stored, browser_of, custodian, rooms
):
    right, wrong, gone = stored(), stored(description="二号"), stored(description="三号")
    keeper = browser_of(custodian)
    r = keeper.post(f"/property/rooms/{rooms['store'].pk}/counts/")
    count = StockTake.objects.get()
    assert r.url == f"/property/counts/{count.pk}/"
    page = keeper.get(r.url).content.decode()
    assert 'data-testid="count-input"' in page and 'data-testid="expected">3<' in page

    def scan(code: str) -> str:
        r = keeper.post(
            f"/property/counts/{count.pk}/scan/", {"code": code}, HTTP_HX_REQUEST="true"
        )
        assert r.status_code == 200
        return r.content.decode()

    assert "请扫描该库位上的财物" in scan("CW1-A-01")
    assert "verdict-ok" in scan(right.number)
    scan("CW1-A-02")
    live = scan(wrong.number)
    assert "verdict-misplaced" in live and "CW1-A-01" in live
    live = scan("XX-NOT-OURS")
    assert "verdict-unexpected" in live
    assert "verdict-error" in scan("\x07")
    assert 'data-testid="scanned">3<' in live
    missing = live[live.index('data-testid="missing"') :]
    assert gone.number in missing.split("</ul>")[0]

    keeper.post(f"/property/counts/{count.pk}/sign-off/", {"note": "二号误放 A-02"})
    count.refresh_from_db()
    assert count.state == "signed" and count.result["missing"] == [gone.number]
    assert count.result["unexpected"] == ["XX-NOT-OURS"]
    assert [m["number"] for m in count.result["misplaced"]] == [wrong.number]
    history = keeper.get(f"/property/rooms/{rooms['store'].pk}/counts/").content.decode()
    assert "已签字确认" in history
    page = keeper.get(f"/property/counts/{count.pk}/").content.decode()
    assert 'data-testid="count-input"' not in page and gone.number in page


def test_a_count_scan_without_htmx_comes_back_to_the_count(stored, browser_of, custodian, rooms):
    stored()
    keeper = browser_of(custodian)
    keeper.post(f"/property/rooms/{rooms['store'].pk}/counts/")
    count = StockTake.objects.get()
    r = keeper.post(f"/property/counts/{count.pk}/scan/", {"code": "CW1-A-01"}, follow=True)
    assert "CW1-A-01" in messages_of(r.content.decode())
    assert count.scans.count() == 1


def test_a_second_count_of_a_room_being_counted_is_refused(rooms, browser_of, custodian):
    keeper = browser_of(custodian)
    keeper.post(f"/property/rooms/{rooms['store'].pk}/counts/")
    r = keeper.post(f"/property/rooms/{rooms['store'].pk}/counts/", follow=True)
    assert "正在盘点" in messages_of(r.content.decode()) and StockTake.objects.count() == 1


# --- the case page ---------------------------------------------------------------------------


def test_case_page_lists_the_property_and_registers_a_seizure(make_case, browser_of, officers):
    case = make_case()
    lead = browser_of(officers["lead"])
    page = lead.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="property"' in page and "登记扣押财物" in page
    r = lead.post(
        f"/property/register/{case.pk}/",
        {
            "category": "cash",
            "description": "现金人民币2000元",
            "quantity": "2000",
            "unit": "元",
            "seized_at": local(timezone.now() - timedelta(minutes=30)),
            "seized_place": "中关村大街1号",
            "owner": "",
            "officers": [officers["lead"].pk, officers["partner"].pk],
        },
    )
    item = Item.objects.get()
    assert r.url == f"/property/items/{item.pk}/"
    assert item.category == "cash" and set(item.seized_by) == {
        officers["lead"].pk,
        officers["partner"].pk,
    }
    page = lead.get(f"/cases/{case.pk}/").content.decode()
    card = page[page.index('id="property"') :]
    assert item.number in card and "现金人民币2000元" in card and "已扣押" in card


def test_a_seizure_needs_two_officers_and_says_so(make_case, browser_of, officers):
    case = make_case()
    r = browser_of(officers["lead"]).post(
        f"/property/register/{case.pk}/",
        {
            "category": "phone",
            "description": "手机",
            "quantity": "1",
            "unit": "部",
            "seized_at": local(timezone.now()),
            "seized_place": "现场",
            "officers": [officers["lead"].pk],
        },
        follow=True,
    )
    assert r.redirect_chain[-1][0].endswith(f"/cases/{case.pk}/#property")
    assert "两名" in messages_of(r.content.decode()) and not Item.objects.exists()


def test_officers_not_on_the_case_get_no_seizure_form(make_case, browser_of, officers):
    case = make_case()
    page = browser_of(officers["manager"]).get(f"/cases/{case.pk}/").content.decode()
    assert 'id="property"' in page and f'action="/property/register/{case.pk}/"' not in page


def test_english_pages_are_english(seize, browser_of, officers):
    item = seize()
    page = browser_of(officers["lead"], "en").get(f"/property/items/{item.pk}/").content.decode()
    assert "Chain of custody" in page and "Hand over to the property custodian" in page
