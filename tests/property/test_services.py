"""The chain of custody (F4.2), appraisals (F4.3) and stock-taking (F4.4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.property import services
from casecenter.property.models import CustodyEvent, Item
from casecenter.supervision.models import Deadline

pytestmark = pytest.mark.django_db


def test_seizure_numbers_the_item_and_starts_its_hand_over_clock(seize, officers):
    item = seize()
    assert item.number.startswith("ZGC-WP-") and item.state == "seized"
    assert item.holder == officers["lead"] and set(item.seized_by) == {
        officers["lead"].pk,
        officers["partner"].pk,
    }
    clock = Deadline.objects.get(item=item)
    assert clock.rule_id == "property.hand_over"
    assert clock.due_at == item.seized_at + timedelta(hours=24)


def test_the_whole_chain_records_both_sides_of_every_move(seize, officers, custodian, rooms):
    item = seize()
    services.hand_over(officers["lead"], item, receiver=custodian)
    services.store_item(custodian, item, location=rooms["CW1-A-01"])
    services.check_out(
        custodian,
        item,
        purpose="appraisal",
        to="物价鉴定室 李鉴定",
        expected_return_at=timezone.now() + timedelta(days=2),
    )
    services.return_item(custodian, item, location=rooms["CW1-A-02"])
    item.refresh_from_db()
    assert item.state == "stored" and item.location == rooms["CW1-A-02"]
    moves = list(item.events.values_list("kind", "giver__username", "receiver__username"))
    assert moves == [
        ("seized", None, "lead"),
        ("handed_over", "lead", "custodian"),
        ("stored", "custodian", "custodian"),
        ("checked_out", "custodian", None),
        ("returned", None, "custodian"),
    ]
    states = dict(Deadline.objects.filter(item=item).values_list("rule_id", "state"))
    assert states == {"property.hand_over": "met", "property.return": "met"}


def test_an_item_cannot_be_checked_out_twice(seize, officers, custodian, rooms):
    item = seize()
    services.hand_over(custodian, item, receiver=custodian)  # the receiver records it
    services.store_item(custodian, item, location=rooms["CW1-A-01"])
    later = timezone.now() + timedelta(days=1)
    services.check_out(custodian, item, purpose="court", to="海淀法院", expected_return_at=later)
    with pytest.raises(Conflict) as err:
        services.check_out(
            custodian, item, purpose="court", to="海淀法院", expected_return_at=later
        )
    assert err.value.code == "property.wrong_state"
    assert item.events.filter(kind=CustodyEvent.Kind.CHECKED_OUT).count() == 1


def test_drugs_go_only_to_the_drug_store(seize, officers, custodian, rooms):
    item = seize("drugs", description="疑似冰毒", quantity="3.215", unit="克")
    services.hand_over(officers["lead"], item, receiver=custodian)
    with pytest.raises(InvalidInput) as err:
        services.store_item(custodian, item, location=rooms["CW1-A-01"])
    assert err.value.code == "property.drugs_store"
    services.store_item(custodian, item, location=rooms["DP1-A-01"])
    item.refresh_from_db()
    assert item.location.room.kind == "drug_store" and str(item.quantity) == "3.215"


def test_only_a_custodian_receives_and_stores(seize, officers, custodian, rooms):
    item = seize()
    with pytest.raises(PermissionDenied):
        services.hand_over(officers["lead"], item, receiver=officers["partner"])
    with pytest.raises(PermissionDenied):
        services.hand_over(officers["bystander"], item, receiver=custodian)
    item.refresh_from_db()
    assert item.state == "seized" and item.events.count() == 1


def test_disposal_needs_legal_affairs_approval(seize, officers, custodian, rooms):
    item = seize()
    services.hand_over(officers["lead"], item, receiver=custodian)
    services.store_item(custodian, item, location=rooms["CW1-A-01"])
    with pytest.raises(InvalidInput):
        services.dispose(
            custodian, item, method="destroyed", approver=officers["lead"], reason="无保存价值"
        )
    services.dispose(
        custodian,
        item,
        method="returned_to_owner",
        approver=officers["legal"],
        reason="经审查与案件无关，发还",
    )
    item.refresh_from_db()
    assert item.state == "disposed" and item.location is None
    assert item.events.last().data["approved_by"] == officers["legal"].pk


def test_transfer_goes_only_to_procuratorate_or_court(seize, officers, custodian, rooms, orgs):
    item = seize()
    services.hand_over(officers["lead"], item, receiver=custodian)
    with pytest.raises(InvalidInput):
        services.transfer(
            custodian, item, organisation=orgs["station"], receipt_number="1", receiver_name="某"
        )
    services.transfer(
        custodian,
        item,
        organisation=orgs["court"],
        receipt_number="HD-2026-7",
        receiver_name="吴法官",
    )
    item.refresh_from_db()
    assert item.state == "transferred" and item.events.last().data["receipt"] == "HD-2026-7"


@pytest.mark.parametrize(
    "field,value,code",
    [
        ("category", "spaceship", "property.category"),
        ("quantity", "-1", "property.quantity"),
        ("quantity", "NaN", "property.quantity"),
        ("quantity", "lots", "property.quantity"),
        ("unit", " ", "property.missing"),
    ],
)
def test_bad_registrations_are_refused_and_write_nothing(seize, field, value, code):
    before = Item.objects.count()
    with pytest.raises(InvalidInput) as err:
        seize(**{field: value})
    assert err.value.code == code and Item.objects.count() == before


def test_appraisal_result_is_attached_to_item_and_case(seize, officers, rooms):
    item = seize()
    appraisal = services.request_appraisal(
        officers["lead"], item, kind="price", room=rooms["lab"], question="估价"
    )
    services.record_appraisal_result(
        officers["lead"], appraisal, result="价值人民币5200元", value="5200"
    )
    appraisal.refresh_from_db()
    assert appraisal.state == "done" and str(appraisal.value) == "5200.00"
    assert item.case.events.filter(kind="property", data__move="appraisal_result").exists()


def test_a_count_finds_missing_unexpected_and_misplaced(seize, officers, custodian, rooms):
    items = [seize(description=f"物品{i}") for i in range(3)]
    for item in items:
        services.hand_over(officers["lead"], item, receiver=custodian)
        services.store_item(custodian, item, location=rooms["CW1-A-01"])
    count = services.start_count(custodian, rooms["store"])
    assert len(count.expected) == 3
    services.record_scan(custodian, count, "CW1-A-01")
    services.record_scan(custodian, count, items[0].number)
    services.record_scan(custodian, count, "CW1-A-02")
    services.record_scan(custodian, count, items[1].number)  # on the wrong shelf
    services.record_scan(custodian, count, "XX-NOT-OURS")
    with pytest.raises(InvalidInput):
        services.record_scan(custodian, count, "\x00\x01")
    count = services.sign_off(custodian, count, note="A-02 架有误放")
    result = count.result
    assert result["missing"] == [items[2].number]
    assert result["unexpected"] == ["XX-NOT-OURS"]
    assert result["misplaced"] == [
        {"number": items[1].number, "expected": "CW1-A-01", "found": "CW1-A-02"}
    ]
    assert result["matched"] == 1
    with pytest.raises(Conflict) as err:
        services.record_scan(custodian, count, items[2].number)
    assert err.value.code == "stocktake.closed"


def test_a_stored_item_moves_only_through_move_item(seize, officers, custodian, rooms):
    item = seize()
    services.hand_over(officers["lead"], item, receiver=custodian)
    services.store_item(custodian, item, location=rooms["CW1-A-01"])
    with pytest.raises(Conflict) as err:
        services.store_item(custodian, item, location=rooms["CW1-A-02"])
    assert err.value.code == "property.wrong_state"
    services.move_item(custodian, item, location=rooms["CW1-A-02"])
    last = item.events.last()
    assert (last.kind, last.from_location, last.to_location) == (
        "moved",
        rooms["CW1-A-01"],
        rooms["CW1-A-02"],
    )
