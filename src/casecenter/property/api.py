"""API: seized items, every move of their chain of custody, appraisals, photos and the
scan lookup (F4). Rooms, shelves and counts are in ``storage_api``, mounted here."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import File, Query, Router, Status, UploadedFile

from casecenter.accounts.models import Organisation, User
from casecenter.cases import selectors as cases
from casecenter.cases.api import _officers as officers_by_id
from casecenter.errors import NotFound
from casecenter.property import labels, selectors, services
from casecenter.property.models import Appraisal, Location
from casecenter.property.schemas import (
    AppraisalIn,
    AppraisalOut,
    CheckOutIn,
    DisposeIn,
    HandOverIn,
    ItemDetailOut,
    ItemFilter,
    ItemIn,
    ItemOut,
    PhotoOut,
    PlaceIn,
    ResultIn,
    ScanOut,
    TransferIn,
    appraisal_out,
    item_detail_out,
    item_out,
    photo_out,
    shelf_out,
)
from casecenter.property.storage_api import router as storage_router
from casecenter.schema import Id, Text

router = Router(tags=["property"])
router.add_router("", storage_router)


def _user(pk: int, zh: str, en: str) -> User:
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise NotFound("user.not_found", f"{zh}不存在。", f"No such {en}: user {pk}.")
    return user


def _place(user: User, pk: int) -> Location:
    location = (
        Location.objects.filter(pk=pk, room__in=selectors.rooms_of(user))
        .select_related("room")
        .first()
    )
    if location is None:
        raise NotFound("location.not_found", "库位不存在。", "No such shelf in your rooms.")
    return location


# --- items -------------------------------------------------------------------------------


@router.get("/items", response=list[ItemOut])
def list_items(request: HttpRequest, filters: Query[ItemFilter]):
    """Items you may know exist, newest seizure first (no personal data in a list)."""
    rows = selectors.item_list(
        request.auth,
        number=filters.number,
        description=filters.description,
        category=filters.category,
        state=filters.state,
        room=filters.room,
        case=filters.case,
    )
    return [item_out(i) for i in rows[filters.offset : filters.offset + filters.limit]]


@router.get("/items/{item_id}", response=ItemDetailOut)
def read_item(request: HttpRequest, item_id: Id):
    """An item with its chain of custody, clocks, appraisals and photos. The owner's
    name is masked unless you may read the case's personal data (then audited)."""
    return item_detail_out(request.auth, item_id)


@router.post("/cases/{case_id}/items", response={201: ItemDetailOut})
def register(request: HttpRequest, case_id: Id, payload: ItemIn):
    """Register a seized item: two of the case's officers took part; its hand-over
    clock starts at ``seized_at``."""
    case = cases.get_case(request.auth, case_id)
    owner = None
    if payload.owner_id is not None:
        owner = case.parties.filter(pk=payload.owner_id).first()
        if owner is None:
            raise NotFound("party.not_found", "该人员不在本案中。", "No such party in this case.")
    item = services.register_item(
        request.auth,
        case,
        category=payload.category,
        description=payload.description,
        quantity=payload.quantity,
        unit=payload.unit,
        seized_at=payload.seized_at,
        seized_place=payload.seized_place,
        officers=officers_by_id(payload.officers),
        owner=owner,
    )
    return Status(201, item_detail_out(request.auth, item.pk))


@router.post("/items/{item_id}/hand-over", response=ItemDetailOut)
def hand_over(request: HttpRequest, item_id: Id, payload: HandOverIn):
    """The holder hands the item to a custodian (recorded by either of them)."""
    item = selectors.get_item(request.auth, item_id)
    receiver = _user(payload.receiver_id, "接收人", "receiver")
    services.hand_over(request.auth, item, receiver=receiver, at=payload.at)
    return item_detail_out(request.auth, item_id)


@router.post("/items/{item_id}/store", response=ItemDetailOut)
def store(request: HttpRequest, item_id: Id, payload: PlaceIn):
    """Put an item the custodian received on a shelf (drugs: the drug store only)."""
    item = selectors.get_item(request.auth, item_id)
    location = _place(request.auth, payload.location_id)
    services.store_item(request.auth, item, location=location, at=payload.at)
    return item_detail_out(request.auth, item_id)


@router.post("/items/{item_id}/move", response=ItemDetailOut)
def move(request: HttpRequest, item_id: Id, payload: PlaceIn):
    """Move a stored item to another shelf."""
    item = selectors.get_item(request.auth, item_id)
    location = _place(request.auth, payload.location_id)
    services.move_item(request.auth, item, location=location, at=payload.at)
    return item_detail_out(request.auth, item_id)


@router.post("/items/{item_id}/check-out", response=ItemDetailOut)
def check_out(request: HttpRequest, item_id: Id, payload: CheckOutIn):
    """Take a stored item out (``appraisal``, ``court``, ``investigation``,
    ``return_to_owner``) with a promised return; its return clock starts."""
    item = selectors.get_item(request.auth, item_id)
    services.check_out(
        request.auth,
        item,
        purpose=payload.purpose,
        to=payload.to,
        expected_return_at=payload.expected_return_at,
        reason=payload.reason,
        at=payload.at,
    )
    return item_detail_out(request.auth, item_id)


@router.post("/items/{item_id}/return", response=ItemDetailOut)
def return_item(request: HttpRequest, item_id: Id, payload: PlaceIn):
    """A checked-out item comes back to a shelf."""
    item = selectors.get_item(request.auth, item_id)
    location = _place(request.auth, payload.location_id)
    services.return_item(request.auth, item, location=location, at=payload.at)
    return item_detail_out(request.auth, item_id)


@router.post("/items/{item_id}/transfer", response=ItemDetailOut)
def transfer(request: HttpRequest, item_id: Id, payload: TransferIn):
    """Transfer the item to a procuratorate or court, with their receipt."""
    item = selectors.get_item(request.auth, item_id)
    organisation = Organisation.objects.filter(pk=payload.organisation_id).first()
    if organisation is None:
        raise NotFound("organisation.not_found", "单位不存在。", "No such organisation.")
    services.transfer(
        request.auth,
        item,
        organisation=organisation,
        receipt_number=payload.receipt_number,
        receiver_name=payload.receiver_name,
        at=payload.at,
    )
    return item_detail_out(request.auth, item_id)


@router.post("/items/{item_id}/dispose", response=ItemDetailOut)
def dispose(request: HttpRequest, item_id: Id, payload: DisposeIn):
    """Dispose of the item (``returned_to_owner``, ``confiscated``, ``destroyed``,
    ``auctioned``) with the approval of the case's legal-affairs unit."""
    item = selectors.get_item(request.auth, item_id)
    approver = _user(payload.approver_id, "审批人", "approver")
    services.dispose(
        request.auth,
        item,
        method=payload.method,
        approver=approver,
        reason=payload.reason,
        at=payload.at,
    )
    return item_detail_out(request.auth, item_id)


@router.post("/items/{item_id}/appraisals", response={201: AppraisalOut})
def request_appraisal(request: HttpRequest, item_id: Id, payload: AppraisalIn):
    """Ask an appraisal room for a ``price`` or ``injury`` appraisal."""
    item = selectors.get_item(request.auth, item_id)
    room = selectors.appraisal_rooms(request.auth).filter(pk=payload.room_id).first()
    if room is None:
        raise NotFound("appraisal.room", "请选择鉴定室。", "No such appraisal room.")
    appraisal = services.request_appraisal(
        request.auth, item, kind=payload.kind, room=room, question=payload.question
    )
    return Status(201, appraisal_out(appraisal))


@router.post("/appraisals/{appraisal_id}/result", response=AppraisalOut)
def record_result(request: HttpRequest, appraisal_id: Id, payload: ResultIn):
    """Attach the appraisal's opinion (and, for a price, the value in yuan)."""
    appraisal = Appraisal.objects.filter(
        pk=appraisal_id, item__in=selectors.item_scope(request.auth)
    ).first()
    if appraisal is None:
        raise NotFound("appraisal.not_found", "鉴定不存在。", "No such appraisal.")
    services.record_appraisal_result(
        request.auth, appraisal, result=payload.result, value=payload.value
    )
    return appraisal_out(Appraisal.objects.select_related("room").get(pk=appraisal.pk))


@router.post("/items/{item_id}/photos", response={201: PhotoOut})
def add_photo(request: HttpRequest, item_id: Id, photo: File[UploadedFile]):
    """Attach a photo (JPEG, PNG, WebP or GIF, at most 10 MB), stored by its SHA-256."""
    item = selectors.get_item(request.auth, item_id)
    return Status(201, photo_out(services.add_photo(request.auth, item, photo)))


@router.get("/scan", response=ScanOut)
def scan(request: HttpRequest, code: Text(400, 1)):
    """What a scanned label is: an item (by its number) or a shelf (by its code,
    with what lies on it). Unknown, or outside your scope: 404; unreadable: 422."""
    found = selectors.lookup(request.auth, labels.read_scan(code))
    if found.item is not None:
        return {"kind": "item", "item": item_out(found.item), "shelf": None}
    return {"kind": "location", "item": None, "shelf": shelf_out(request.auth, found.location)}
