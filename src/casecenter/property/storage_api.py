"""API: the custodians' rooms and shelves, and stock-taking (盘点) by scanning labels."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from casecenter.property import labels, selectors, services
from casecenter.property.schemas import (
    CountScanIn,
    CountScanOut,
    RoomInventoryOut,
    RoomOut,
    ShelfOut,
    SignOffIn,
    StockTakeOut,
    count_out,
    room_out,
    shelf_out,
)
from casecenter.schema import Id

router = Router(tags=["property"])


@router.get("/rooms", response=list[RoomOut])
def list_rooms(request: HttpRequest):
    """The storage rooms you keep, with their shelves (custodians)."""
    return [room_out(r) for r in selectors.rooms_of(request.auth)]


@router.get("/rooms/{room_id}", response=RoomInventoryOut)
def room_inventory(request: HttpRequest, room_id: Id):
    """A room's inventory: every shelf and the items on it."""
    room = selectors.get_room(request.auth, room_id)
    return {
        "room": room_out(room),
        "shelves": [shelf_out(request.auth, loc) for loc in room.locations.select_related("room")],
    }


@router.get("/locations/{location_id}", response=ShelfOut)
def shelf(request: HttpRequest, location_id: Id):
    return shelf_out(request.auth, selectors.get_location(request.auth, location_id))


@router.get("/rooms/{room_id}/stock-takes", response=list[StockTakeOut])
def count_history(request: HttpRequest, room_id: Id):
    """The room's counts, newest first."""
    room = selectors.get_room(request.auth, room_id)
    return [count_out(c) for c in selectors.counts_of(room)]


@router.post("/rooms/{room_id}/stock-takes", response={201: StockTakeOut})
def start_count(request: HttpRequest, room_id: Id):
    """Open a count of the room: the records' expectation is fixed now."""
    room = selectors.get_room(request.auth, room_id)
    count = services.start_count(request.auth, room)
    return Status(201, count_out(selectors.get_count(request.auth, count.pk)))


@router.get("/stock-takes/{count_id}", response=StockTakeOut)
def read_count(request: HttpRequest, count_id: Id):
    """A count with its differences so far (or as signed off)."""
    return count_out(selectors.get_count(request.auth, count_id))


@router.post("/stock-takes/{count_id}/scans", response={201: CountScanOut})
def count_scan(request: HttpRequest, count_id: Id, payload: CountScanIn):
    """One label read: a shelf label says where the following items are."""
    count = selectors.get_count(request.auth, count_id)
    read = services.record_scan(request.auth, count, labels.read_scan(payload.code))
    verdict = selectors.verdict(count, read)
    return Status(
        201,
        {
            "verdict": verdict.kind,
            "code": verdict.code,
            "shelf": verdict.shelf,
            "expected_shelf": verdict.expected_shelf,
            "stock_take": count_out(selectors.get_count(request.auth, count_id)),
        },
    )


@router.post("/stock-takes/{count_id}/sign-off", response=StockTakeOut)
def sign_off(request: HttpRequest, count_id: Id, payload: SignOffIn):
    """Close the count; its differences are kept with it."""
    count = selectors.get_count(request.auth, count_id)
    services.sign_off(request.auth, count, note=payload.note)
    return count_out(selectors.get_count(request.auth, count_id))
