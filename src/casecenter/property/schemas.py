"""The property API's shapes: what goes in (bounded, with ``schema`` types) and what comes out."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema

from casecenter.accounts.models import User
from casecenter.cases import access
from casecenter.property import selectors, services
from casecenter.property.models import (
    Appraisal,
    CustodyEvent,
    Item,
    Location,
    Photo,
    Room,
    StockTake,
)
from casecenter.schema import Id, Limit, Offset, Text, Timestamp
from casecenter.supervision.api import DeadlineOut, deadline_out

Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=3)]
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


class LocationOut(Schema):
    id: int
    code: str
    room_id: int
    room: str
    shelf: str
    bin: str


class ItemOut(Schema):
    id: int
    number: str
    case_id: int
    case_number: str
    category: str
    category_label: str
    description: str
    quantity: str
    unit: str
    state: str
    state_label: str
    seized_at: datetime
    seized_place: str
    seized_by: list[int]
    holder_id: int | None
    holder: str | None
    location: LocationOut | None
    out_to: str
    out_purpose: str
    expected_return_at: datetime | None
    version: int


class EventOut(Schema):
    id: int
    kind: str
    label: str
    at: datetime
    actor: str
    giver_id: int | None
    giver: str | None
    receiver_id: int | None
    receiver: str | None
    counterparty: str
    from_location: str | None
    to_location: str | None
    reason: str
    data: dict


class AppraisalOut(Schema):
    id: int
    item_id: int
    kind: str
    room_id: int
    room: str
    state: str
    question: str
    requested_by: str
    requested_at: datetime
    result: str
    value: str | None
    done_at: datetime | None


class PhotoOut(Schema):
    id: int
    sha256: str
    content_type: str
    uploaded_by: str
    uploaded_at: datetime
    url: str


class ItemDetailOut(ItemOut):
    owner: str | None
    owner_masked: bool
    events: list[EventOut]
    clocks: list[DeadlineOut]
    appraisals: list[AppraisalOut]
    photos: list[PhotoOut]


class ItemFilter(Schema):
    number: Text(40) = ""
    description: Text(100) = ""
    category: Text(20) = ""
    state: Text(20) = ""
    room: Id | None = None
    case: Id | None = None
    limit: Limit = 50
    offset: Offset = 0


class ItemIn(Schema):
    category: Text(20, 1)
    description: Text(500, 1)
    quantity: Quantity
    unit: Text(20, 1)
    seized_at: Timestamp
    seized_place: Text(200, 1)
    officers: Annotated[list[Id], Field(max_length=20)] = []
    owner_id: Id | None = None


class HandOverIn(Schema):
    receiver_id: Id
    at: Timestamp | None = None


class PlaceIn(Schema):
    location_id: Id
    at: Timestamp | None = None


class CheckOutIn(Schema):
    purpose: Text(30, 1)
    to: Text(200, 1)
    expected_return_at: Timestamp
    reason: Text(2000) = ""
    at: Timestamp | None = None


class TransferIn(Schema):
    organisation_id: Id
    receipt_number: Text(100, 1)
    receiver_name: Text(100, 1)
    at: Timestamp | None = None


class DisposeIn(Schema):
    method: Text(30, 1)
    approver_id: Id
    reason: Text(2000, 1)
    at: Timestamp | None = None


class AppraisalIn(Schema):
    kind: Text(10, 1)
    room_id: Id
    question: Text(2000, 1)


class ResultIn(Schema):
    result: Text(5000, 1)
    value: Money | None = None


class RoomOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    organisation: str
    locations: list[LocationOut]


class ShelfOut(Schema):
    location: LocationOut
    items: list[ItemOut]


class RoomInventoryOut(Schema):
    room: RoomOut
    shelves: list[ShelfOut]


class ScanOut(Schema):
    kind: Literal["item", "location"]
    item: ItemOut | None
    shelf: ShelfOut | None


class CountResultOut(Schema):
    matched: int
    missing: list[str]
    unexpected: list[str]
    misplaced: list[dict[str, str]]


class StockTakeOut(Schema):
    id: int
    room_id: int
    room: str
    state: str
    started_by: str
    started_at: datetime
    signed_by: str | None
    signed_at: datetime | None
    note: str
    expected: int
    scanned: int
    current_shelf: str
    result: CountResultOut


class CountScanIn(Schema):
    code: Text(400, 1)


class CountScanOut(Schema):
    verdict: str
    code: str
    shelf: str
    expected_shelf: str
    stock_take: StockTakeOut


class SignOffIn(Schema):
    note: Text(2000) = ""


# --- shaping -----------------------------------------------------------------------------


def _name(user: User | None) -> str | None:
    return str(user) if user is not None else None


def location_out(location: Location) -> dict:
    return {
        "id": location.pk,
        "code": location.code,
        "room_id": location.room_id,
        "room": str(location.room),
        "shelf": location.shelf,
        "bin": location.bin,
    }


def item_out(item: Item) -> dict:
    return {
        "id": item.pk,
        "number": item.number,
        "case_id": item.case_id,
        "case_number": item.case.number,
        "category": item.category,
        "category_label": item.get_category_display(),
        "description": item.description,
        "quantity": str(item.quantity.normalize()),
        "unit": item.unit,
        "state": item.state,
        "state_label": item.get_state_display(),
        "seized_at": item.seized_at,
        "seized_place": item.seized_place,
        "seized_by": list(item.seized_by),
        "holder_id": item.holder_id,
        "holder": _name(item.holder),
        "location": location_out(item.location) if item.location_id else None,
        "out_to": item.out_to,
        "out_purpose": item.out_purpose,
        "expected_return_at": item.expected_return_at,
        "version": item.version,
    }


def event_out(event: CustodyEvent) -> dict:
    return {
        "id": event.pk,
        "kind": event.kind,
        "label": event.get_kind_display(),
        "at": event.at,
        "actor": str(event.actor),
        "giver_id": event.giver_id,
        "giver": _name(event.giver),
        "receiver_id": event.receiver_id,
        "receiver": _name(event.receiver),
        "counterparty": event.counterparty,
        "from_location": event.from_location.code if event.from_location_id else None,
        "to_location": event.to_location.code if event.to_location_id else None,
        "reason": event.reason,
        "data": event.data,
    }


def appraisal_out(appraisal: Appraisal) -> dict:
    return {
        "id": appraisal.pk,
        "item_id": appraisal.item_id,
        "kind": appraisal.kind,
        "room_id": appraisal.room_id,
        "room": str(appraisal.room),
        "state": appraisal.state,
        "question": appraisal.question,
        "requested_by": str(appraisal.requested_by),
        "requested_at": appraisal.requested_at,
        "result": appraisal.result,
        "value": str(appraisal.value) if appraisal.value is not None else None,
        "done_at": appraisal.done_at,
    }


def photo_out(photo: Photo) -> dict:
    return {
        "id": photo.pk,
        "sha256": photo.sha256,
        "content_type": photo.content_type,
        "uploaded_by": str(photo.uploaded_by),
        "uploaded_at": photo.uploaded_at,
        "url": f"/property/photos/{photo.pk}/",
    }


def item_detail_out(user: User, pk: int) -> dict:
    """The item as it is now (after a service changed it), with its whole record."""
    item = selectors.get_item(user, pk)
    owner = selectors.owner_name(user, item, purpose="api")
    return {
        **item_out(item),
        "owner": owner or None,
        "owner_masked": bool(item.owner_id) and not access.may_read_personal(user, item.case),
        "events": [event_out(e) for e in selectors.events_of(item)],
        "clocks": [deadline_out(d) for d in selectors.clocks_of(item)],
        "appraisals": [appraisal_out(a) for a in selectors.appraisals_of(item)],
        "photos": [photo_out(p) for p in item.photos.select_related("uploaded_by")],
    }


def room_out(room: Room) -> dict:
    return {
        "id": room.pk,
        "code": room.code,
        "name": room.name,
        "kind": room.kind,
        "organisation": str(room.organisation),
        "locations": [location_out(loc) for loc in room.locations.select_related("room")],
    }


def count_out(count: StockTake) -> dict:
    tally = selectors.tally(count)
    return {
        "id": count.pk,
        "room_id": count.room_id,
        "room": str(count.room),
        "state": count.state,
        "started_by": str(count.started_by),
        "started_at": count.started_at,
        "signed_by": _name(count.signed_by),
        "signed_at": count.signed_at,
        "note": count.note,
        "expected": tally.expected,
        "scanned": tally.scanned,
        "current_shelf": tally.shelf,
        "result": services.count_result(count),
    }


def shelf_out(location: Location) -> dict:
    items = location.items.select_related("case", "holder", "location__room").order_by("number")
    return {"location": location_out(location), "items": [item_out(i) for i in items]}
