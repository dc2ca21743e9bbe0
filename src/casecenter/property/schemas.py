"""The property API's shapes: what goes in (bounded, with ``schema`` types) and what comes out."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema

from casecenter.accounts.models import User
from casecenter.property import selectors, services
from casecenter.property.models import (
    Appraisal,
    Category,
    CustodyEvent,
    Item,
    ItemState,
    Location,
    Photo,
    Room,
    StockTake,
)
from casecenter.schema import Choice, ChoiceFilter, Id, Limit, Offset, Text, Timestamp
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
    sealed: bool = Field(
        description="an item of a secret case you keep but are not assigned to: only what "
        "its custody needs (number, kind, quantity, state, shelf, holder); the rest is empty"
    )
    case_id: int | None
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
    category: ChoiceFilter(Category, 20) = ""
    state: ChoiceFilter(ItemState, 20) = ""
    room: Id | None = None
    case: Id | None = None
    limit: Limit = 50
    offset: Offset = 0


class ItemIn(Schema):
    category: Choice(Category, 20)
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
    purpose: Choice(sorted(services.CHECKOUT_PURPOSES), 30)
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
    method: Choice(sorted(services.DISPOSAL_METHODS), 30)
    approver_id: Id
    reason: Text(2000, 1)
    at: Timestamp | None = None


class AppraisalIn(Schema):
    kind: Choice(Appraisal.Kind, 10)
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
    """An item as a list shows it; a sealed item (``selectors.is_sealed``) without
    its case, description, place of seizure and seizing officers."""
    sealed = selectors.is_sealed(item)
    return {
        "id": item.pk,
        "number": item.number,
        "sealed": sealed,
        "case_id": None if sealed else item.case_id,
        "case_number": "" if sealed else item.case.number,
        "category": item.category,
        "category_label": item.get_category_display(),
        "description": "" if sealed else item.description,
        "quantity": str(item.quantity.normalize()),
        "unit": item.unit,
        "state": item.state,
        "state_label": item.get_state_display(),
        "seized_at": item.seized_at,
        "seized_place": "" if sealed else item.seized_place,
        "seized_by": [] if sealed else list(item.seized_by),
        "holder_id": item.holder_id,
        "holder": _name(item.holder),
        "location": location_out(item.location) if item.location_id else None,
        "out_to": item.out_to,
        "out_purpose": item.out_purpose,
        "expected_return_at": item.expected_return_at,
        "version": item.version,
    }


def event_out(event: CustodyEvent, *, sealed: bool = False) -> dict:
    """A custody event; of a sealed item without its reason, counterparty and facts."""
    if sealed:
        return {
            **event_out(event),
            "counterparty": "",
            "reason": "",
            "data": {},
        }
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


def appraisal_out(appraisal: Appraisal, *, sealed: bool = False) -> dict:
    """An appraisal; of a sealed item without its question and result (they name
    what the case is about)."""
    if sealed:
        return {**appraisal_out(appraisal), "question": "", "result": ""}
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


def clock_out(deadline, person: str, *, sealed: bool) -> dict:
    """An item's clock with its person as the item's owner is shown (masked
    without need-to-know); of a sealed item without the case or the person."""
    out = {**deadline_out(deadline), "person": person or None}
    if sealed:
        out |= {"case_id": None, "case_number": None, "reference": "", "party_id": None}
    return out


def item_detail_out(user: User, pk: int) -> dict:
    """The item as it is now (after a service changed it), with its whole record;
    the read is audited (``selectors.read_item``)."""
    item = selectors.get_item(user, pk)
    shown = selectors.read_item(user, item, purpose="api")
    sealed = selectors.is_sealed(item)
    return {
        **item_out(item),
        "owner": shown.owner or None,
        "owner_masked": bool(item.owner_id) and not shown.in_full,
        "events": [event_out(e, sealed=sealed) for e in selectors.events_of(item)],
        "clocks": [clock_out(d, person, sealed=sealed) for d, person in shown.clocks],
        "appraisals": [appraisal_out(a, sealed=sealed) for a in selectors.appraisals_of(item)],
        "photos": []
        if sealed
        else [photo_out(p) for p in item.photos.select_related("uploaded_by")],
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


def shelf_out(user: User, location: Location) -> dict:
    items = selectors.shelf_items(user, location)
    return {"location": location_out(location), "items": [item_out(i) for i in items]}
