"""Every write of seized property: one function per move, one transaction each.

Each move locks the item's row, checks the move is allowed from where the item
is (the state machine below), records a ``CustodyEvent`` with both sides of a
hand-over, starts or meets its clocks, and writes the audit entry and outbox
event. Two people scanning the same item at once queue on the lock; the
second finds the item already moved and is refused.

    seized ─hand_over─> in_custody ─store─> stored ─check_out─> checked_out ─return─> stored
    stored ─store (move)─> stored
    stored / in_custody ─transfer─> transferred   (to the procuratorate or court)
    stored / in_custody ─dispose─> disposed        (with a legal-affairs approval)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from casecenter import images
from casecenter.accounts.models import OrganisationKind, Role, User
from casecenter.accounts.services import next_serial
from casecenter.audit.services import record
from casecenter.cases import access
from casecenter.cases.models import Case, CaseEvent, Party
from casecenter.cases.services import log_event, require_two_officers
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.moments import past_moment
from casecenter.outbox.services import emit
from casecenter.property.counting import compare
from casecenter.property.models import (
    Appraisal,
    Category,
    CustodyEvent,
    Item,
    ItemState,
    Location,
    Photo,
    Room,
    Scan,
    StockTake,
)
from casecenter.supervision import services as clocks

S, K = ItemState, CustodyEvent.Kind
CHECKOUT_PURPOSES = {"appraisal", "court", "return_to_owner", "investigation"}
DISPOSAL_METHODS = {"returned_to_owner", "confiscated", "destroyed", "auctioned"}
TRANSFER_KINDS = {OrganisationKind.PROCURATORATE, OrganisationKind.COURT}


def _when(at: datetime | None, what: str) -> datetime:
    return past_moment(at, code="property", what_zh=f"{what}时间", what_en=f"{what} time")


def _locked(item: Item, *allowed: str) -> Item:
    """Lock the item's row, then read it afresh with its case and shelf.

    Two statements on purpose: on PostgreSQL a locking read that waited re-reads
    only the locked row, not the rows joined to it, so a joined shelf could come
    back stale (or empty) after another move committed.
    """
    Item.objects.select_for_update().filter(pk=item.pk).values_list("pk").get()
    item = Item.objects.select_related("case", "location__room").get(pk=item.pk)
    if item.state not in allowed:
        raise Conflict(
            "property.wrong_state",
            f"该财物当前状态为“{item.get_state_display()}”，不能进行此操作。",
            f"The item is '{item.state}'; this move is not possible from there.",
            state=item.state,
        )
    return item


def is_custodian(user: User, case: Case) -> bool:
    """Property custodians: custody-area staff of the case's organisation, of the
    one above it, or of a sibling under the same parent (the branch's center)."""
    if user.role != Role.CUSTODY_STAFF or user.organisation_id is None:
        return False
    org, mine = case.organisation, user.organisation
    return mine.pk in (org.pk, org.parent_id) or (
        org.parent_id is not None and mine.parent_id == org.parent_id
    )


def _require_custodian(user: User, case: Case) -> None:
    if not is_custodian(user, case):
        raise PermissionDenied(
            "property.not_custodian",
            "只有财物管理员可以办理此操作。",
            "Only a property custodian may do this.",
        )


def _move(
    actor: User,
    item: Item,
    kind: str,
    *,
    at: datetime,
    reason: str = "",
    giver: User | None = None,
    receiver: User | None = None,
    counterparty: str = "",
    from_location: Location | None = None,
    to_location: Location | None = None,
    **data: Any,
) -> CustodyEvent:
    """The record of one move, its audit entry and its outbox event."""
    item.version += 1
    item.save()
    event = CustodyEvent.objects.create(
        item=item,
        kind=kind,
        at=at,
        actor=actor,
        giver=giver,
        receiver=receiver,
        counterparty=counterparty,
        from_location=from_location,
        to_location=to_location,
        reason=reason,
        data=data,
    )
    record(
        actor,
        f"property.{kind}",
        item,
        reason=reason,
        data={
            "state": item.state,
            "giver": getattr(giver, "pk", None),
            "receiver": getattr(receiver, "pk", None),
            "counterparty": counterparty,
            "from": getattr(from_location, "code", None),
            "to": getattr(to_location, "code", None),
            **data,
        },
    )
    emit(f"property.{kind}", item_id=item.pk, number=item.number, case_id=item.case_id)
    return event


@transaction.atomic
def register_item(
    actor: User,
    case: Case,
    *,
    category: str,
    description: str,
    quantity: Any,
    unit: str,
    seized_at: datetime,
    seized_place: str,
    officers: Iterable[User],
    owner: Party | None = None,
) -> Item:
    """Register a seized item (F4.1): two officers, where and when; its hand-over clock starts."""
    case = (
        Case.objects.select_for_update(of=("self",)).select_related("organisation").get(pk=case.pk)
    )
    if not access.is_assigned(actor, case) or not actor.is_police:
        raise PermissionDenied(
            "property.not_assigned",
            "只有本案办案民警可以登记扣押财物。",
            "Only the case's officers register seized property.",
        )
    if category not in Category.values:
        raise InvalidInput(
            "property.category", f"未知的财物类别：{category}", f"Unknown category: {category}"
        )
    description, unit, seized_place = description.strip(), unit.strip(), seized_place.strip()
    if not description or not unit or not seized_place:
        raise InvalidInput(
            "property.missing",
            "请填写名称、计量单位和扣押地点。",
            "Description, unit and place of seizure are required.",
        )
    try:
        quantity = Decimal(str(quantity))
    except (InvalidOperation, ValueError):
        raise InvalidInput(
            "property.quantity", "数量有误。", "The quantity is not a number."
        ) from None
    if not quantity.is_finite() or not Decimal(0) < quantity < Decimal(10) ** 11:
        raise InvalidInput("property.quantity", "数量须大于零。", "The quantity must be positive.")
    if owner is not None and owner.case_id != case.pk:
        raise InvalidInput(
            "property.owner", "所有人须为本案人员。", "The owner must be a person of this case."
        )
    seized_at = _when(seized_at, "扣押")
    team = require_two_officers(case, officers)
    year = timezone.localtime(seized_at).year
    serial = next_serial(case.organisation_id, "item", year)
    item = Item.objects.create(
        case=case,
        owner=owner,
        number=f"{case.organisation.code.upper()}-WP-{year}-{serial:06d}",
        category=category,
        description=description,
        quantity=quantity,
        unit=unit,
        seized_at=seized_at,
        seized_place=seized_place,
        seized_by=[o.pk for o in team],
        holder=actor,
        registered_by=actor,
    )
    _move(
        actor,
        item,
        K.SEIZED,
        at=seized_at,
        receiver=actor,
        reason=seized_place,
        officers=[o.pk for o in team],
    )
    clocks.open_deadline(
        actor, "property.hand_over", case, trigger_at=seized_at, item=item, party=owner
    )
    log_event(
        actor, case, CaseEvent.Kind.PROPERTY, item_id=item.pk, number=item.number, move=K.SEIZED
    )
    return item


@transaction.atomic
def hand_over(actor: User, item: Item, *, receiver: User, at: datetime | None = None) -> Item:
    """The seizing officer hands the item to the property custodian; both are recorded."""
    item = _locked(item, S.SEIZED)
    giver = item.holder
    if actor.pk not in (getattr(giver, "pk", None), receiver.pk):
        raise PermissionDenied(
            "property.not_party_to_handover",
            "交接须由交出人或接收人登记。",
            "The giver or the receiver records a hand-over.",
        )
    _require_custodian(receiver, item.case)
    at = _when(at, "移交")
    item.state, item.holder = S.IN_CUSTODY, receiver
    _move(actor, item, K.HANDED_OVER, at=at, giver=giver, receiver=receiver)
    clocks.meet_deadlines(actor, item.case, ["property.hand_over"], at=at, item=item)
    return item


@transaction.atomic
def store_item(actor: User, item: Item, *, location: Location, at: datetime | None = None) -> Item:
    """Put an item the custodian received on a shelf; drugs only go to the drug store."""
    item = _locked(item, S.IN_CUSTODY)
    return _shelve(actor, item, location, K.STORED, at)


@transaction.atomic
def move_item(actor: User, item: Item, *, location: Location, at: datetime | None = None) -> Item:
    """Move a stored item to another shelf. Only a stored item moves: a custodian who
    lost a race to store it is refused, not recorded as having moved it."""
    item = _locked(item, S.STORED)
    return _shelve(actor, item, location, K.MOVED, at)


def _shelve(actor: User, item: Item, location: Location, kind: str, at: datetime | None) -> Item:
    _require_custodian(actor, item.case)
    _check_drugs(item, location)
    if item.location_id == location.pk:
        raise InvalidInput("property.same_place", "财物已在该位置。", "The item is already there.")
    at = _when(at, "入库")
    previous = item.location
    item.state, item.location, item.holder = S.STORED, location, actor
    _move(
        actor,
        item,
        kind,
        at=at,
        from_location=previous,
        to_location=location,
        giver=actor,
        receiver=actor,
    )
    return item


def _check_drugs(item: Item, location: Location) -> None:
    if item.category == Category.DRUGS and location.room.kind != Room.Kind.DRUG_STORE:
        raise InvalidInput(
            "property.drugs_store",
            "毒品只能存放于毒品库。",
            "Drugs are kept only in the drug store.",
        )


@transaction.atomic
def check_out(
    actor: User,
    item: Item,
    *,
    purpose: str,
    to: str,
    expected_return_at: datetime,
    reason: str = "",
    at: datetime | None = None,
) -> Item:
    """Take a stored item out (appraisal, court, investigation) with a promised return."""
    item = _locked(item, S.STORED)
    _require_custodian(actor, item.case)
    if purpose not in CHECKOUT_PURPOSES:
        raise InvalidInput("property.purpose", "未知的调取用途。", f"Unknown purpose: {purpose}")
    to = to.strip()
    if not to:
        raise InvalidInput("property.to", "请填写领取人或单位。", "Say who takes the item.")
    at = _when(at, "出库")
    if timezone.is_naive(expected_return_at):
        expected_return_at = timezone.make_aware(expected_return_at)
    if expected_return_at <= at:
        raise InvalidInput(
            "property.return_before_out",
            "预计归还时间须晚于出库时间。",
            "The promised return must come after the check-out.",
        )
    previous = item.location
    item.state, item.location, item.holder = S.CHECKED_OUT, None, None
    item.out_to, item.out_purpose, item.expected_return_at = to, purpose, expected_return_at
    _move(
        actor,
        item,
        K.CHECKED_OUT,
        at=at,
        giver=actor,
        counterparty=to,
        from_location=previous,
        reason=reason,
        purpose=purpose,
        expected_return_at=expected_return_at.isoformat(),
    )
    clocks.open_deadline(
        actor, "property.return", item.case, trigger_at=at, item=item, due_at=expected_return_at
    )
    return item


@transaction.atomic
def return_item(actor: User, item: Item, *, location: Location, at: datetime | None = None) -> Item:
    """A checked-out item comes back to a shelf; its return clock is met."""
    item = _locked(item, S.CHECKED_OUT)
    _require_custodian(actor, item.case)
    _check_drugs(item, location)
    at = _when(at, "归还")
    back_from = item.out_to
    item.state, item.location, item.holder = S.STORED, location, actor
    item.out_to, item.out_purpose, item.expected_return_at = "", "", None
    _move(
        actor, item, K.RETURNED, at=at, receiver=actor, counterparty=back_from, to_location=location
    )
    clocks.meet_deadlines(actor, item.case, ["property.return"], at=at, item=item)
    return item


@transaction.atomic
def transfer(
    actor: User,
    item: Item,
    *,
    organisation: Any,
    receipt_number: str,
    receiver_name: str,
    at: datetime | None = None,
) -> Item:
    """Hand the item to the procuratorate or the court with their receipt (移送)."""
    item = _locked(item, S.STORED, S.IN_CUSTODY)
    _require_custodian(actor, item.case)
    if organisation.kind not in TRANSFER_KINDS:
        raise InvalidInput(
            "property.transfer_to",
            "只能移送检察院或法院。",
            "Items are transferred only to a procuratorate or a court.",
        )
    receipt_number, receiver_name = receipt_number.strip(), receiver_name.strip()
    if not receipt_number or not receiver_name:
        raise InvalidInput(
            "property.receipt",
            "请填写回执编号和接收人。",
            "The receipt number and the receiving person are required.",
        )
    at = _when(at, "移送")
    previous = item.location
    item.state, item.location, item.holder = S.TRANSFERRED, None, None
    _move(
        actor,
        item,
        K.TRANSFERRED,
        at=at,
        giver=actor,
        from_location=previous,
        counterparty=f"{organisation.name} · {receiver_name}",
        receipt=receipt_number,
        organisation_id=organisation.pk,
    )
    clocks.meet_deadlines(actor, item.case, ["property.dispose"], at=at, item=item)
    return item


@transaction.atomic
def dispose(
    actor: User, item: Item, *, method: str, approver: User, reason: str, at: datetime | None = None
) -> Item:
    """Return to the owner, confiscate, destroy or auction — approved by legal affairs."""
    item = _locked(item, S.STORED, S.IN_CUSTODY)
    _require_custodian(actor, item.case)
    if method not in DISPOSAL_METHODS:
        raise InvalidInput("property.method", "未知的处置方式。", f"Unknown disposal: {method}")
    if approver.role != Role.LEGAL_AFFAIRS or not access.is_supervising(approver, item.case):
        raise InvalidInput(
            "property.approver",
            "处置须经法制部门审批。",
            "A disposal needs the approval of the case's legal-affairs unit.",
        )
    reason = reason.strip()
    if not reason:
        raise InvalidInput("property.reason", "请填写处置依据。", "State the grounds.")
    at = _when(at, "处置")
    previous = item.location
    item.state, item.location, item.holder = S.DISPOSED, None, None
    _move(
        actor,
        item,
        K.DISPOSED,
        at=at,
        giver=actor,
        from_location=previous,
        reason=reason,
        method=method,
        approved_by=approver.pk,
    )
    clocks.meet_deadlines(actor, item.case, ["property.dispose"], at=at, item=item)
    return item


@transaction.atomic
def request_appraisal(
    actor: User, item: Item, *, kind: str, room: Room, question: str
) -> Appraisal:
    """Ask the center's appraisal room for a price or injury appraisal (F4.3)."""
    item = Item.objects.select_related("case").get(pk=item.pk)
    if not access.is_assigned(actor, item.case):
        raise PermissionDenied(
            "property.not_assigned",
            "只有本案办案民警可以申请鉴定。",
            "Only the case's officers request appraisals.",
        )
    if kind not in Appraisal.Kind.values:
        raise InvalidInput("appraisal.kind", "未知的鉴定类型。", f"Unknown appraisal: {kind}")
    if room.kind != Room.Kind.APPRAISAL:
        raise InvalidInput("appraisal.room", "请选择鉴定室。", "Choose an appraisal room.")
    question = question.strip()
    if not question:
        raise InvalidInput("appraisal.question", "请填写鉴定事项。", "Say what is to be appraised.")
    appraisal = Appraisal.objects.create(
        item=item,
        kind=kind,
        room=room,
        question=question,
        requested_by=actor,
        requested_at=timezone.now(),
    )
    record(
        actor, "property.appraisal_requested", appraisal, data={"item": item.number, "kind": kind}
    )
    log_event(
        actor,
        item.case,
        CaseEvent.Kind.PROPERTY,
        item_id=item.pk,
        number=item.number,
        move="appraisal_requested",
        appraisal=kind,
    )
    return appraisal


@transaction.atomic
def record_appraisal_result(
    actor: User, appraisal: Appraisal, *, result: str, value: Any = None
) -> Appraisal:
    """The appraisal opinion, attached to the item and to the case's timeline."""
    appraisal = (
        Appraisal.objects.select_for_update(of=("self",))
        .select_related("item__case")
        .get(pk=appraisal.pk)
    )
    case = appraisal.item.case
    if not (access.is_assigned(actor, case) or is_custodian(actor, case)):
        raise PermissionDenied(
            "appraisal.forbidden", "您不能登记该鉴定结果。", "You may not record this result."
        )
    if appraisal.state == Appraisal.State.DONE:
        raise Conflict("appraisal.done", "鉴定结果已登记。", "The result is already recorded.")
    result = result.strip()
    if not result:
        raise InvalidInput("appraisal.result", "请填写鉴定意见。", "The opinion is required.")
    if value not in (None, ""):
        try:
            value = Decimal(str(value))
        except (InvalidOperation, ValueError):
            raise InvalidInput(
                "appraisal.value", "金额有误。", "The value is not a number."
            ) from None
        if not value.is_finite() or value < 0 or value >= Decimal(10) ** 12:
            raise InvalidInput("appraisal.value", "金额有误。", "The value is out of range.")
    else:
        value = None
    appraisal.state, appraisal.result, appraisal.value = Appraisal.State.DONE, result, value
    appraisal.done_at = timezone.now()
    appraisal.save()
    record(
        actor,
        "property.appraisal_result",
        appraisal,
        data={"item": appraisal.item.number, "value": str(value) if value is not None else None},
    )
    log_event(
        actor,
        case,
        CaseEvent.Kind.PROPERTY,
        item_id=appraisal.item_id,
        number=appraisal.item.number,
        move="appraisal_result",
        appraisal=appraisal.kind,
    )
    return appraisal


# --- photos -------------------------------------------------------------------------------


@transaction.atomic
def add_photo(actor: User, item: Item, uploaded_file: Any) -> Photo:
    """Attach a photo to the item (F4.1): an image of at most 10 MB, stored under its
    SHA-256, so the same picture is kept once and no file is ever overwritten.

    The file is written before the row; if the transaction then rolls back, the
    file stays behind unreferenced — harmless, as its name is its content.
    """
    item = Item.objects.select_for_update().select_related("case").get(pk=item.pk)
    if not (access.is_assigned(actor, item.case) or is_custodian(actor, item.case)):
        raise PermissionDenied(
            "property.photo_forbidden",
            "只有本案办案民警或财物管理员可以上传照片。",
            "Only the case's officers and the property custodians add photos.",
        )
    data, digest, content_type, suffix = images.read_checked(uploaded_file)
    if item.photos.filter(sha256=digest).exists():
        raise Conflict(
            "photo.duplicate", "该照片已经上传过。", "This photo is already attached to the item."
        )
    name = images.store("property/photos", data, digest, suffix, content_type).name
    photo = Photo.objects.create(
        item=item, sha256=digest, file=name, content_type=content_type, uploaded_by=actor
    )
    record(
        actor,
        "property.photo_added",
        item,
        data={"photo": photo.pk, "sha256": digest, "bytes": len(data), "type": content_type},
    )
    emit("property.photo_added", item_id=item.pk, number=item.number, case_id=item.case_id)
    return photo


# --- stock-taking -------------------------------------------------------------------------


@transaction.atomic
def start_count(actor: User, room: Room) -> StockTake:
    """Open a count of a room: what the records say is on its shelves, now (F4.4)."""
    if actor.role != Role.CUSTODY_STAFF:
        raise PermissionDenied(
            "stocktake.role", "只有财物管理员可以盘点。", "Only property custodians count rooms."
        )
    if room.stock_takes.filter(state=StockTake.State.OPEN).exists():
        raise Conflict("stocktake.open", "该库房正在盘点中。", "This room is being counted.")
    expected = dict(
        Item.objects.filter(location__room=room, state=S.STORED).values_list(
            "number", "location__code"
        )
    )
    count = StockTake.objects.create(
        room=room, started_by=actor, started_at=timezone.now(), expected=expected
    )
    record(
        actor, "property.count_started", count, data={"room": room.code, "expected": len(expected)}
    )
    return count


SCAN_MAX = 100


@transaction.atomic
def record_scan(actor: User, count: StockTake, code: str) -> Scan:
    """One label read. A shelf label sets where the following items were found."""
    count = (
        StockTake.objects.select_for_update(of=("self",)).select_related("room").get(pk=count.pk)
    )
    if count.state != StockTake.State.OPEN:
        raise Conflict("stocktake.closed", "盘点已结束。", "The count is signed off.")
    code = (code or "").strip()
    if not code or len(code) > SCAN_MAX or not code.isprintable():
        raise InvalidInput("scan.unreadable", "无法识别的标签。", "The label could not be read.")
    if Location.objects.filter(room=count.room, code=code).exists():
        return Scan.objects.create(
            stock_take=count, code=code, location_code=code, at=timezone.now()
        )
    last_shelf = count.scans.filter(code=F("location_code")).order_by("-id").first()
    return Scan.objects.create(
        stock_take=count,
        code=code,
        location_code=last_shelf.location_code if last_shelf else "",
        at=timezone.now(),
    )


def count_result(count: StockTake) -> dict:
    """Missing, unexpected and misplaced items of a count (so far, or as signed)."""
    if count.state == StockTake.State.SIGNED:
        return count.result
    shelves = set(count.room.locations.values_list("code", flat=True))
    rows = count.scans.order_by("id").values_list("code", "location_code")
    scans = [(code, where) for code, where in rows if code not in shelves]
    return compare(count.expected, scans).as_dict()


@transaction.atomic
def sign_off(actor: User, count: StockTake, *, note: str = "") -> StockTake:
    """Close the count with its differences; the record is kept in the room's history."""
    count = (
        StockTake.objects.select_for_update(of=("self",)).select_related("room").get(pk=count.pk)
    )
    if actor.role != Role.CUSTODY_STAFF:
        raise PermissionDenied(
            "stocktake.role",
            "只有财物管理员可以签字确认盘点。",
            "Only property custodians sign off counts.",
        )
    if count.state != StockTake.State.OPEN:
        raise Conflict("stocktake.closed", "盘点已结束。", "The count is signed off.")
    count.result = count_result(count)
    count.state, count.signed_by, count.signed_at = StockTake.State.SIGNED, actor, timezone.now()
    count.note = note.strip()
    count.save()
    result = count.result
    record(
        actor,
        "property.count_signed",
        count,
        reason=count.note,
        data={
            "room": count.room.code,
            "matched": result["matched"],
            "missing": result["missing"],
            "unexpected": result["unexpected"],
            "misplaced": [m["number"] for m in result["misplaced"]],
        },
    )
    emit(
        "property.count_signed",
        stock_take_id=count.pk,
        room=count.room.code,
        differences=len(result["missing"]) + len(result["unexpected"]) + len(result["misplaced"]),
    )
    return count
