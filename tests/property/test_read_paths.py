"""Every read path of seized property (issue 14): an item's clocks name the owner as
the item does, and reading them is audited; an item of a secret case is sealed to
the custodian who keeps it — its label, shelf and state, nothing of the case."""

from __future__ import annotations

import pytest

from casecenter.audit.models import AuditEntry
from casecenter.cases.services import add_party
from tests.conftest import valid_id
from tests.property.conftest import png_bytes

OWNER = "王小明"
SECRET_TEXT = "涉密账册一本"
SECRET_PLACE = "某部委大院"


@pytest.fixture
def owned(seize, officers, make_case):
    """An item of the default case with an owner (its hand-over clock names them)."""

    def make(**extra):
        item = seize(**extra)
        owner = add_party(
            officers["lead"], item.case, role="victim", name=OWNER, id_number=valid_id()
        )
        item.owner = owner
        item.save(update_fields=["owner"])
        item.deadlines.update(party=owner)
        return item

    return make


def test_an_items_clocks_name_the_owner_masked_without_need_to_know(api, owned, custodian):
    item = owned()
    before = AuditEntry.objects.filter(action="property.read_item").count()
    body = api("custodian").get(f"/api/property/items/{item.pk}").json()
    assert body["owner"] == "王**" and body["owner_masked"] is True
    assert [c["person"] for c in body["clocks"]] == ["王**"]
    entry = AuditEntry.objects.filter(action="property.read_item").order_by("id").last()
    assert AuditEntry.objects.filter(action="property.read_item").count() == before + 1
    assert entry.actor_id == custodian.pk
    assert entry.data["clocks"] == [c["id"] for c in body["clocks"]]


def test_an_items_clocks_name_the_owner_in_full_to_its_officers_audited(api, owned, officers):
    item = owned()
    body = api("lead").get(f"/api/property/items/{item.pk}").json()
    assert body["owner"] == OWNER and [c["person"] for c in body["clocks"]] == [OWNER]
    entry = AuditEntry.objects.filter(action="property.read_owner").order_by("id").last()
    assert entry.actor_id == officers["lead"].pk and entry.data["basis"] == "assigned"
    assert entry.data["people"] == [item.owner.person_id]
    assert entry.data["clocks"] == [c["id"] for c in body["clocks"]]


def test_the_item_page_shows_the_clocks_person_as_the_owner_and_audits(
    browser_of, owned, custodian
):
    item = owned()
    browser = browser_of(custodian)  # logged in (an audited login) before counting
    before = AuditEntry.objects.count()
    page = browser.get(f"/property/items/{item.pk}/").content.decode()
    assert OWNER not in page and 'data-testid="clock-person">王**<' in page
    assert AuditEntry.objects.filter(action="property.read_item").count() == 1
    assert AuditEntry.objects.count() == before + 1


# --- a secret case's items, as their custodian sees them ----------------------------


@pytest.fixture
def secret_item(make_case, officers, custodian, rooms):
    """An item of a secret case, handed to the custodian and stored on CW1-A-02."""
    from casecenter.property import services

    case = make_case(secret=True, title="某某泄密案")
    owner = add_party(officers["lead"], case, role="suspect", name=OWNER, id_number=valid_id())
    item = services.register_item(
        officers["lead"],
        case,
        category="document",
        description=SECRET_TEXT,
        quantity=1,
        unit="本",
        seized_at=case.accepted_at,
        seized_place=SECRET_PLACE,
        officers=[officers["lead"], officers["partner"]],
        owner=owner,
    )
    services.add_photo(officers["lead"], item, _upload())
    item = services.hand_over(officers["lead"], item, receiver=custodian)
    return services.store_item(custodian, item, location=rooms["CW1-A-02"])


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("p.png", png_bytes(), content_type="image/png")


def _leaks(text: str, item) -> list[str]:
    return [
        w for w in (item.case.number, SECRET_TEXT, SECRET_PLACE, OWNER, "王**", "泄密") if w in text
    ]


def test_a_secret_cases_item_is_sealed_in_every_api_read_of_its_custodian(
    api, secret_item, custodian, rooms
):
    client = api("custodian")
    item = secret_item
    reads = {
        "list": client.get("/api/property/items"),
        "detail": client.get(f"/api/property/items/{item.pk}"),
        "scan": client.get(f"/api/property/scan?code={item.number}"),
        "shelf": client.get(f"/api/property/locations/{rooms['CW1-A-02'].pk}"),
        "room": client.get(f"/api/property/rooms/{rooms['store'].pk}"),
    }
    for name, r in reads.items():
        assert r.status_code == 200, name
        assert _leaks(r.content.decode(), item) == [], name
    detail = reads["detail"].json()
    # what custody needs: the label's number, the kind, the quantity, the state, the shelf
    assert detail["sealed"] is True and detail["number"] == item.number
    assert detail["state"] == "stored" and detail["location"]["code"] == "CW1-A-02"
    assert detail["category"] == "document" and detail["quantity"] == "1"
    assert detail["case_id"] is None and detail["description"] == "" and detail["owner"] is None
    assert detail["photos"] == [] and all(e["reason"] == "" for e in detail["events"])
    assert all(c["case_number"] is None and c["person"] is None for c in detail["clocks"])
    assert reads["list"].json()[0]["number"] == item.number
    # no search by what the seal hides
    assert client.get("/api/property/items", {"description": "账册"}).json() == []
    assert client.get("/api/property/items", {"case": item.case_id}).json() == []


def test_a_secret_cases_item_is_sealed_on_every_page_and_label_of_its_custodian(
    browser_of, secret_item, custodian, rooms
):
    client = browser_of(custodian)
    item = secret_item
    pages = {
        "list": client.get("/property/"),
        "item": client.get(f"/property/items/{item.pk}/"),
        "label": client.get(f"/property/items/{item.pk}/label/"),
        "shelf": client.get(f"/property/shelves/{rooms['CW1-A-02'].pk}/"),
        "room": client.get(f"/property/rooms/{rooms['store'].pk}/"),
    }
    for name, r in pages.items():
        assert r.status_code == 200, name
        text = r.content.decode()
        assert _leaks(text, item) == [], name
        assert item.number in text, name
    assert client.get(f"/property/scan/?code={item.number}")["Location"] == (
        f"/property/items/{item.pk}/"
    )
    photo = item.photos.get()
    assert client.get(f"/property/photos/{photo.pk}/").status_code == 404


def test_the_secret_cases_officers_see_their_item_whole(api, secret_item, officers):
    detail = api("lead").get(f"/api/property/items/{secret_item.pk}").json()
    assert detail["sealed"] is False and detail["description"] == SECRET_TEXT
    assert detail["case_number"] == secret_item.case.number and detail["owner"] == OWNER
    assert len(detail["photos"]) == 1


def test_others_do_not_see_a_secret_cases_item_at_all(api, secret_item):
    for who in ("bystander", "manager", "legal", "stranger"):
        assert api(who).get(f"/api/property/items/{secret_item.pk}").status_code == 404, who
        assert api(who).get("/api/property/items").json() == [], who
