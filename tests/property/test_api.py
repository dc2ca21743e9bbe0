"""Seized property through the JSON API: registration, every move of the chain of custody,
appraisals, photos, the scan lookup, rooms and stock-taking; errors as JSON 4xx."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from casecenter.audit.models import AuditEntry
from casecenter.cases.services import add_party
from casecenter.property.models import CustodyEvent, Item, StockTake
from casecenter.supervision.models import Deadline
from tests.property.conftest import png_bytes
from tests.supervision.conftest import post

pytestmark = pytest.mark.django_db


def seizure(team, **extra) -> dict:
    return {
        "category": "phone",
        "description": "黑色苹果手机一部",
        "quantity": "1",
        "unit": "部",
        "seized_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "seized_place": "中关村大街1号",
        "officers": [team["lead"].pk, team["partner"].pk],
        **extra,
    }


# --- registration and reading ---------------------------------------------------------------


def test_registering_an_item_numbers_it_and_starts_its_hand_over_clock(api, make_case, officers):
    case = make_case()
    r = post(api("lead"), f"/api/property/cases/{case.pk}/items", seizure(officers))
    assert r.status_code == 201, r.content
    item = r.json()
    assert item["number"].startswith("ZGC-WP-") and item["state"] == "seized"
    assert item["holder_id"] == officers["lead"].pk and item["quantity"] == "1"
    assert [e["kind"] for e in item["events"]] == ["seized"]
    assert [c["rule"] for c in item["clocks"]] == ["property.hand_over"]
    assert Item.objects.get().case == case


@pytest.mark.parametrize(
    "change,status",
    [
        ({"quantity": "0"}, 422),
        ({"quantity": "1e30"}, 422),
        ({"quantity": "NaN"}, 422),
        ({"description": "x" * 501}, 422),
        ({"description": "手机\x00"}, 422),
        ({"category": "spaceship"}, 422),
        ({"seized_at": "1800-01-01T00:00:00+08:00"}, 422),
        ({"officers": [1, 2, 3] * 10}, 422),
        ({"owner_id": 2**60}, 422),
        ({"unit": "   "}, 422),
    ],
)
def test_bad_registrations_are_json_4xx_and_write_nothing(api, make_case, officers, change, status):
    case = make_case()
    r = post(api("lead"), f"/api/property/cases/{case.pk}/items", seizure(officers, **change))
    assert r.status_code == status and "code" in r.json()
    assert not Item.objects.exists()


def test_a_stranger_cannot_register_in_or_read_a_case_not_theirs(api, make_case, officers, seize):
    case = make_case()
    stranger = api("stranger")
    r = post(stranger, f"/api/property/cases/{case.pk}/items", seizure(officers))
    assert r.status_code == 404
    item = seize()
    assert stranger.get(f"/api/property/items/{item.pk}").status_code == 404
    assert stranger.get("/api/property/items").json() == []


def test_the_owner_is_masked_without_need_to_know(api, seize, officers, custodian):
    case = seize().case
    item = seize(owner=add_party(officers["lead"], case, role="victim", name="李秀英"))
    mine = api("lead").get(f"/api/property/items/{item.pk}").json()
    assert mine["owner"] == "李秀英" and mine["owner_masked"] is False
    assert AuditEntry.objects.filter(action="property.read_owner", reason="api").exists()
    theirs = api("custodian").get(f"/api/property/items/{item.pk}").json()
    assert theirs["owner"] == "李**" and theirs["owner_masked"] is True


def test_items_list_filters_and_pages(api, seize, stored):
    phones = [seize() for _ in range(3)]
    cash = stored(category="cash", description="现金", unit="元", quantity=500)
    lead = api("lead")
    assert len(lead.get("/api/property/items").json()) == 4
    assert [i["number"] for i in lead.get("/api/property/items?category=cash").json()] == [
        cash.number
    ]
    assert len(lead.get("/api/property/items?state=seized&limit=2").json()) == 2
    assert len(lead.get("/api/property/items?state=seized&limit=2&offset=2").json()) == 1
    assert lead.get(f"/api/property/items?number={phones[0].number}").json()[0]["id"] == (
        phones[0].pk
    )
    assert lead.get("/api/property/items?limit=1000").status_code == 422
    assert lead.get("/api/property/items?room=0").status_code == 422


def test_a_search_by_someone_outside_the_police_is_an_empty_list(api, seize, officers):
    """Found by schemathesis: a judge's search by description was a 500 (an unannotated
    empty scope filtered on ``sealed``)."""
    seize()
    judge = api("judge")
    for query in ("description=手机", "case=1", ""):
        r = judge.get(f"/api/property/items?{query}")
        assert r.status_code == 200 and r.json() == [], (query, r.content)


# --- the chain of custody ---------------------------------------------------------------------


def test_the_whole_chain_through_the_api(api, seize, officers, custodian, rooms, orgs):
    item = seize()
    lead, keeper = api("lead"), api("custodian")
    r = post(lead, f"/api/property/items/{item.pk}/hand-over", {"receiver_id": custodian.pk})
    assert r.status_code == 200 and r.json()["state"] == "in_custody"
    r = post(keeper, f"/api/property/items/{item.pk}/store", {"location_id": rooms["CW1-A-01"].pk})
    assert r.json()["location"]["code"] == "CW1-A-01"
    back = (timezone.now() + timedelta(days=2)).isoformat()
    r = post(
        keeper,
        f"/api/property/items/{item.pk}/check-out",
        {"purpose": "court", "to": "海淀法院", "expected_return_at": back},
    )
    assert r.json()["state"] == "checked_out" and r.json()["out_to"] == "海淀法院"
    r = post(keeper, f"/api/property/items/{item.pk}/return", {"location_id": rooms["CW1-A-02"].pk})
    assert r.json()["state"] == "stored"
    r = post(
        keeper,
        f"/api/property/items/{item.pk}/transfer",
        {
            "organisation_id": orgs["court"].pk,
            "receipt_number": "HD-2026-7",
            "receiver_name": "吴法官",
        },
    )
    body = r.json()
    assert body["state"] == "transferred" and body["location"] is None
    events = body["events"]
    assert [e["kind"] for e in events] == [
        "seized",
        "handed_over",
        "stored",
        "checked_out",
        "returned",
        "transferred",
    ]
    assert events[1]["giver"] == "lead" and events[1]["receiver"] == "custodian"
    assert events[4]["to_location"] == "CW1-A-02" and events[4]["counterparty"] == "海淀法院"
    assert events[5]["data"]["receipt"] == "HD-2026-7"
    states = {c["rule"]: c["state"] for c in body["clocks"]}
    assert states == {"property.hand_over": "met", "property.return": "met"}


def test_a_move_from_the_wrong_state_is_409_and_records_nothing(api, stored, rooms):
    item = stored()
    keeper = api("custodian")
    back = (timezone.now() + timedelta(days=1)).isoformat()
    payload = {"purpose": "court", "to": "海淀法院", "expected_return_at": back}
    assert post(keeper, f"/api/property/items/{item.pk}/check-out", payload).status_code == 200
    r = post(keeper, f"/api/property/items/{item.pk}/check-out", payload)
    assert r.status_code == 409 and r.json()["code"] == "property.wrong_state"
    assert item.events.filter(kind=CustodyEvent.Kind.CHECKED_OUT).count() == 1


def test_drugs_are_refused_outside_the_drug_store(api, handed, rooms):
    item = handed("drugs", description="疑似冰毒", quantity="3.215", unit="克")
    keeper = api("custodian")
    r = post(keeper, f"/api/property/items/{item.pk}/store", {"location_id": rooms["CW1-A-01"].pk})
    assert r.status_code == 422 and r.json()["code"] == "property.drugs_store"
    r = post(keeper, f"/api/property/items/{item.pk}/store", {"location_id": rooms["DP1-A-01"].pk})
    assert r.status_code == 200 and r.json()["quantity"] == "3.215"


def test_moves_need_the_right_people(api, seize, stored, officers, custodian, rooms):
    item = seize()
    r = post(
        api("partner"), f"/api/property/items/{item.pk}/hand-over", {"receiver_id": custodian.pk}
    )
    assert r.status_code == 403
    r = post(
        api("lead"),
        f"/api/property/items/{item.pk}/hand-over",
        {"receiver_id": officers["partner"].pk},
    )
    assert r.status_code == 403
    r = post(api("lead"), f"/api/property/items/{item.pk}/hand-over", {"receiver_id": 999999})
    assert r.status_code == 404 and r.json()["code"] == "user.not_found"
    on_shelf = stored()
    r = post(
        api("lead"),
        f"/api/property/items/{on_shelf.pk}/store",
        {"location_id": rooms["CW1-A-02"].pk},
    )
    assert r.status_code == 404 and r.json()["code"] == "location.not_found"  # not their rooms
    r = post(
        api("custodian"),
        f"/api/property/items/{on_shelf.pk}/dispose",
        {"method": "destroyed", "approver_id": officers["lead"].pk, "reason": "无价值"},
    )
    assert r.status_code == 422 and r.json()["code"] == "property.approver"
    r = post(
        api("custodian"),
        f"/api/property/items/{on_shelf.pk}/dispose",
        {"method": "destroyed", "approver_id": officers["legal"].pk, "reason": "无价值"},
    )
    assert r.status_code == 200 and r.json()["state"] == "disposed"


def test_appraisal_request_and_result(api, seize, rooms):
    item = seize()
    lead = api("lead")
    r = post(
        lead,
        f"/api/property/items/{item.pk}/appraisals",
        {"kind": "price", "room_id": rooms["lab"].pk, "question": "估价"},
    )
    assert r.status_code == 201 and r.json()["state"] == "requested"
    appraisal = r.json()["id"]
    r = post(
        lead,
        f"/api/property/appraisals/{appraisal}/result",
        {"result": "价值人民币5200元", "value": "5200"},
    )
    assert r.status_code == 200 and r.json()["value"] == "5200.00"
    again = post(lead, f"/api/property/appraisals/{appraisal}/result", {"result": "again"})
    assert (again.status_code, again.json()["code"]) == (409, "appraisal.done")
    assert (
        post(
            api("stranger"), f"/api/property/appraisals/{appraisal}/result", {"result": "x"}
        ).status_code
        == 404
    )
    detail = lead.get(f"/api/property/items/{item.pk}").json()
    assert detail["appraisals"][0]["result"] == "价值人民币5200元"
    r = post(
        lead,
        f"/api/property/items/{item.pk}/appraisals",
        {"kind": "price", "room_id": rooms["store"].pk, "question": "估价"},
    )
    assert r.status_code == 404 and r.json()["code"] == "appraisal.room"  # not an appraisal room


def test_a_photo_upload_is_content_addressed(api, seize, media):
    item = seize()
    lead = api("lead")
    data = png_bytes(kind="JPEG")
    r = lead.post(
        f"/api/property/items/{item.pk}/photos",
        {"photo": SimpleUploadedFile("a.jpg", data, content_type="image/jpeg")},
    )
    assert r.status_code == 201, r.content
    digest = hashlib.sha256(data).hexdigest()
    assert r.json()["sha256"] == digest and r.json()["content_type"] == "image/jpeg"
    assert (media / "property" / "photos" / digest[:2] / f"{digest}.jpg").read_bytes() == data
    r = lead.post(
        f"/api/property/items/{item.pk}/photos",
        {"photo": SimpleUploadedFile("b.jpg", data, content_type="image/jpeg")},
    )
    assert r.status_code == 409 and r.json()["code"] == "photo.duplicate"
    r = lead.post(
        f"/api/property/items/{item.pk}/photos",
        {"photo": SimpleUploadedFile("a.gif", b"GIF89a nonsense")},
    )
    assert r.status_code == 422 and r.json()["code"] == "photo.not_image"
    photos = lead.get(f"/api/property/items/{item.pk}").json()["photos"]
    assert [p["sha256"] for p in photos] == [digest]


# --- scanning ---------------------------------------------------------------------------------


def test_scan_lookup_finds_items_and_shelves(api, stored, rooms):
    item = stored()
    keeper = api("custodian")
    r = keeper.get("/api/property/scan", {"code": f" {item.number.lower()}\n"})
    assert r.status_code == 200 and r.json()["kind"] == "item"
    assert r.json()["item"]["id"] == item.pk
    r = keeper.get("/api/property/scan", {"code": "CW1-A-01"})
    shelf = r.json()["shelf"]
    assert r.json()["kind"] == "location" and shelf["location"]["code"] == "CW1-A-01"
    assert [i["number"] for i in shelf["items"]] == [item.number]


@pytest.mark.parametrize(
    "code,status,error",
    [
        ("ZGC-WP-1999-000404", 404, "scan.unknown"),
        ("   ", 422, "scan.unreadable"),
        ("A\x07B", 422, "scan.unreadable"),
        ("A" * 150, 422, "scan.unreadable"),
        ("A" * 401, 422, "invalid_input"),
        ("", 422, "invalid_input"),
    ],
)
def test_unknown_and_malformed_scans_are_json_4xx(api, rooms, custodian, code, status, error):
    r = api("custodian").get("/api/property/scan", {"code": code})
    assert r.status_code == status and r.json()["code"] == error


def test_a_scan_never_reaches_beyond_the_users_scope(api, seize, rooms):
    item = seize()
    stranger = api("stranger")
    assert stranger.get("/api/property/scan", {"code": item.number}).json()["code"] == (
        "scan.unknown"
    )
    assert api("lead").get("/api/property/scan", {"code": "CW1-A-01"}).status_code == 404


# --- rooms and stock-taking -------------------------------------------------------------------


def test_rooms_and_their_inventory_are_the_custodians(api, stored, rooms):
    item = stored()
    keeper = api("custodian")
    listed = {r["code"]: r for r in keeper.get("/api/property/rooms").json()}
    assert set(listed) == {"cw1", "dp1", "jd1"}
    assert [loc["code"] for loc in listed["cw1"]["locations"]] == ["CW1-A-01", "CW1-A-02"]
    inventory = keeper.get(f"/api/property/rooms/{rooms['store'].pk}").json()
    shelves = {
        s["location"]["code"]: [i["number"] for i in s["items"]] for s in inventory["shelves"]
    }
    assert shelves == {"CW1-A-01": [item.number], "CW1-A-02": []}
    assert keeper.get(f"/api/property/locations/{rooms['CW1-A-02'].pk}").json()["items"] == []
    lead = api("lead")
    assert lead.get("/api/property/rooms").json() == []
    assert lead.get(f"/api/property/rooms/{rooms['store'].pk}").status_code == 404


def test_a_count_through_the_api(api, stored, rooms):
    right, wrong, gone = stored(), stored(), stored()
    keeper = api("custodian")
    r = post(keeper, f"/api/property/rooms/{rooms['store'].pk}/stock-takes", {})
    assert r.status_code == 201 and r.json()["expected"] == 3
    count = r.json()["id"]
    again = post(keeper, f"/api/property/rooms/{rooms['store'].pk}/stock-takes", {})
    assert again.status_code == 409 and again.json()["code"] == "stocktake.open"

    def scan(code: str) -> dict:
        r = post(keeper, f"/api/property/stock-takes/{count}/scans", {"code": code})
        assert r.status_code == 201, r.content
        return r.json()

    assert scan("CW1-A-01")["verdict"] == "shelf"
    assert scan(right.number)["verdict"] == "ok"
    assert scan("CW1-A-02")["verdict"] == "shelf"
    misplaced = scan(wrong.number)
    assert misplaced["verdict"] == "misplaced" and misplaced["expected_shelf"] == "CW1-A-01"
    last = scan("ZGC-WP-1999-000001")
    assert last["verdict"] == "unexpected" and last["stock_take"]["scanned"] == 3
    assert (
        post(keeper, f"/api/property/stock-takes/{count}/scans", {"code": "\x00"}).status_code
        == 422
    )
    r = post(keeper, f"/api/property/stock-takes/{count}/sign-off", {"note": "误放一件"})
    result = r.json()["result"]
    assert r.json()["state"] == "signed" and result["missing"] == [gone.number]
    assert result["unexpected"] == ["ZGC-WP-1999-000001"] and result["matched"] == 1
    late = post(keeper, f"/api/property/stock-takes/{count}/scans", {"code": gone.number})
    assert (late.status_code, late.json()["code"]) == (409, "stocktake.closed")
    history = keeper.get(f"/api/property/rooms/{rooms['store'].pk}/stock-takes").json()
    assert [c["id"] for c in history] == [count]
    assert api("lead").get(f"/api/property/stock-takes/{count}").status_code == 404
    assert StockTake.objects.get().signed_by.username == "custodian"


def test_the_openapi_document_lists_the_property_endpoints(api):
    paths = api("lead").get("/api/openapi.json").json()["paths"]
    for path in [
        "/api/property/items",
        "/api/property/items/{item_id}/hand-over",
        "/api/property/scan",
        "/api/property/stock-takes/{count_id}/scans",
        "/api/property/cases/{case_id}/items",
    ]:
        assert path in paths


def test_a_clock_of_the_item_is_in_its_detail(api, seize):
    item = seize()
    clock = api("lead").get(f"/api/property/items/{item.pk}").json()["clocks"][0]
    assert clock["id"] == Deadline.objects.get(item=item).pk and clock["state"] == "running"
