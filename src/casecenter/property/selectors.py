"""Reads of seized property: whose items, which rooms, what a scanned code is.

Who sees an item: everyone who may know its case exists (``cases.access``), and
the property custodians who keep it — the same custodians the services let
move it. Rooms, shelves and counts are the custodians' own. Anything outside
a user's scope is "not found", exactly like something that does not exist, so
a scan or a URL never tells what lies beyond it. An owner's name is personal
data: shown only with need-to-know, and then audited; masked otherwise.

An item of a secret (涉密) case is *sealed* to a custodian not assigned to the
case: they keep it, so they see what its custody needs — its label number, kind,
quantity, state, shelf and holder — and nothing that names the case or its
people (case number, description, where it was seized, owner, the custody
chain's reasons, clocks' references, photos). Every read of items carries the
``sealed`` annotation (``_sealed``), so lists, pages, the API, labels and scan
results all decide from the same flag.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import BooleanField, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.db.models import Case as Choose

from casecenter.accounts.models import Organisation, Role, User
from casecenter.audit.services import record
from casecenter.cases import access
from casecenter.cases.models import Assignment, Case
from casecenter.errors import NotFound
from casecenter.law import mask_name
from casecenter.property.models import (
    Appraisal,
    Category,
    CustodyEvent,
    Item,
    Location,
    Room,
    Scan,
    StockTake,
)
from casecenter.property.services import (
    TRANSFER_KINDS,
    is_custodian,  # the services' rule
)
from casecenter.supervision.models import Deadline

__all__ = ["is_custodian"]


def _family(org: Organisation | None) -> list[int]:
    """An organisation, its parent, its children and its siblings: the branch
    whose center keeps the property of its stations."""
    if org is None:
        return []
    tops = [org.pk] + ([org.parent_id] if org.parent_id else [])
    below = Organisation.objects.filter(parent_id__in=tops).values_list("pk", flat=True)
    return [*tops, *below]


def _kept_by(user: User) -> Q:
    """Items whose case a custodian serves (mirrors ``services.is_custodian``)."""
    if user.role != Role.CUSTODY_STAFF or not user.organisation_id:
        return Q(pk__in=[])
    org = user.organisation
    kept = Q(case__organisation_id=org.pk) | Q(case__organisation__parent_id=org.pk)
    if org.parent_id:
        kept |= Q(case__organisation__parent_id=org.parent_id)
    return kept


def _sealed(user: User, items: QuerySet[Item]) -> QuerySet[Item]:
    """``items`` annotated with ``sealed``: the item's case is secret and the user
    is not assigned to it (a custodian keeping it; see the module's docstring)."""
    if not user.is_authenticated:
        return items.annotate(sealed=Value(True, output_field=BooleanField()))
    assigned = Assignment.objects.filter(
        case_id=OuterRef("case_id"), user_id=user.pk, ended_at__isnull=True
    )
    secret_not_mine = Q(case__secret=True) & ~Exists(assigned)
    return items.annotate(
        sealed=Choose(
            When(secret_not_mine, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def is_sealed(item: Item) -> bool:
    """Whether the item was read sealed (an item read without ``_sealed`` is)."""
    return bool(getattr(item, "sealed", True))


def item_scope(user: User) -> QuerySet[Item]:
    """Every item the user may know exists (annotated with ``sealed``)."""
    if not user.is_authenticated or not user.is_police:  # annotated too: callers filter on it
        return Item.objects.none().annotate(sealed=Value(False, output_field=BooleanField()))
    visible = Q(case__in=access.visible_cases(user).values("pk"))
    return _sealed(user, Item.objects.filter(visible | _kept_by(user)))


def item_list(
    user: User,
    *,
    number: str = "",
    description: str = "",
    category: str = "",
    state: str = "",
    room: int | None = None,
    case: int | None = None,
) -> QuerySet[Item]:
    """Items in scope, filtered; no personal data is in a list."""
    items = item_scope(user).select_related("case", "location__room", "holder")
    if description or case:  # no search by what a sealed item hides
        items = items.filter(sealed=False)
    if number:
        items = items.filter(number__icontains=number)
    if description:
        items = items.filter(description__icontains=description)
    if category:
        items = items.filter(category=category)
    if state:
        items = items.filter(state=state)
    if room:
        items = items.filter(location__room_id=room)
    if case:
        items = items.filter(case_id=case)
    return items.order_by("-seized_at", "-id")


def get_item(user: User, pk: int) -> Item:
    item = item_list(user).select_related("owner__person", "case__organisation").filter(pk=pk)
    found = item.first()
    if found is None:
        raise NotFound("property.not_found", "财物不存在。", "No such item.")
    return found


def items_of(case: Case) -> QuerySet[Item]:
    """A case's items (the caller has checked it may read the case)."""
    return case.items.select_related("location__room", "holder", "owner__person").order_by(
        "seized_at", "id"
    )


@dataclass(frozen=True)
class ItemRecord:
    """What an item's page and the API's item read show besides the item: the
    owner's name and the clocks, each person in them masked like the owner."""

    owner: str
    #: the owner's name is in full (the reader may read the case's personal data)
    in_full: bool
    clocks: list[tuple[Deadline, str]]  # each clock with its person, as shown


def read_item(user: User, item: Item, *, purpose: str = "view") -> ItemRecord:
    """The owner and the clocks of an item read by ``user`` — one audit entry per
    read: ``property.read_owner`` when names are shown in full (need-to-know),
    ``property.read_item`` when they are masked; either names the clocks shown.
    A sealed item shows no owner and its clocks no person at all."""
    basis = None if is_sealed(item) else access.access_basis(user, item.case)
    clocks = list(clocks_of(item))

    def shown(name: str) -> str:
        if is_sealed(item) or not name:
            return ""
        return name if basis is not None else mask_name(name)

    owner = shown(item.owner.person.name) if item.owner_id else ""
    rows = [(d, shown(d.party.person.name) if d.party_id else "") for d in clocks]
    people = sorted({d.party.person_id for d in clocks if d.party_id})
    data = {"clocks": [d.pk for d in clocks], "sealed": is_sealed(item)}
    with transaction.atomic():
        if basis is not None and (item.owner_id or people):
            record(
                user,
                "property.read_owner",
                item,
                reason=purpose,
                data={
                    **data,
                    "basis": basis,
                    "person": item.owner.person_id if item.owner_id else None,
                    "people": people,
                },
            )
        else:
            record(user, "property.read_item", item, reason=purpose, data=data)
    return ItemRecord(owner=owner, in_full=basis is not None, clocks=rows)


def owner_name(user: User, item: Item, *, purpose: str = "view") -> str:
    """The owner's name alone (in full with need-to-know, masked without), audited
    as a read of the item (:func:`read_item`)."""
    return read_item(user, item, purpose=purpose).owner


def events_of(item: Item) -> QuerySet[CustodyEvent]:
    """The chain of custody, oldest first."""
    return item.events.select_related(
        "actor", "giver", "receiver", "from_location__room", "to_location__room"
    ).order_by("at", "id")


def clocks_of(item: Item) -> QuerySet[Deadline]:
    return item.deadlines.select_related("rule", "case", "party__person").order_by(
        "state", "due_at"
    )


def appraisals_of(item: Item) -> QuerySet[Appraisal]:
    return item.appraisals.select_related("room", "requested_by").order_by("requested_at", "id")


def custodians_for(case: Case) -> QuerySet[User]:
    """The custodians who may receive the case's items."""
    org = case.organisation
    near = Q(organisation_id__in=[org.pk, org.parent_id])
    if org.parent_id:
        near |= Q(organisation__parent_id=org.parent_id)
    return User.objects.filter(near, role=Role.CUSTODY_STAFF, is_active=True).order_by("username")


def approvers_for(case: Case) -> QuerySet[User]:
    """The legal-affairs officers who may approve a disposal of the case's items."""
    if case.secret:
        return User.objects.none()
    org = case.organisation
    return User.objects.filter(
        role=Role.LEGAL_AFFAIRS, is_active=True, organisation_id__in=[org.pk, org.parent_id]
    ).order_by("username")


def transfer_organisations() -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind__in=TRANSFER_KINDS).order_by("kind", "name")


# --- rooms and shelves ------------------------------------------------------------------


def rooms_of(user: User) -> QuerySet[Room]:
    """The rooms a custodian keeps: those of the organisations around theirs."""
    if user.role != Role.CUSTODY_STAFF or not user.organisation_id:
        return Room.objects.none()
    return Room.objects.filter(organisation_id__in=_family(user.organisation)).select_related(
        "organisation"
    )


def appraisal_rooms(user: User) -> QuerySet[Room]:
    """The center's appraisal rooms an officer may send a request to."""
    if not user.is_police or not user.organisation_id:
        return Room.objects.none()
    return Room.objects.filter(
        kind=Room.Kind.APPRAISAL, organisation_id__in=_family(user.organisation)
    )


def get_room(user: User, pk: int) -> Room:
    room = rooms_of(user).filter(pk=pk).first()
    if room is None:
        raise NotFound("room.not_found", "库房不存在。", "No such storage room.")
    return room


def get_location(user: User, pk: int) -> Location:
    location = (
        Location.objects.filter(pk=pk, room__in=rooms_of(user)).select_related("room").first()
    )
    if location is None:
        raise NotFound("location.not_found", "库位不存在。", "No such shelf.")
    return location


def storage_places(user: User, item: Item) -> QuerySet[Location]:
    """Where the custodian may put the item: shelves of their storage rooms (the
    drug store for drugs), not where it is now."""
    places = Location.objects.filter(room__in=rooms_of(user)).exclude(
        room__kind=Room.Kind.APPRAISAL
    )
    if item.category == Category.DRUGS:
        places = places.filter(room__kind=Room.Kind.DRUG_STORE)
    if item.location_id:
        places = places.exclude(pk=item.location_id)
    return places.select_related("room").order_by("room__code", "shelf", "bin")


def shelf_items(user: User, location: Location) -> QuerySet[Item]:
    """What the records say lies on a shelf, annotated with ``sealed`` for ``user``."""
    return _sealed(
        user, location.items.select_related("case", "holder", "location__room")
    ).order_by("number")


def shelves_with_items(user: User, room: Room) -> list[tuple[Location, list[Item]]]:
    """Every shelf of the room with what the records say lies on it."""
    on_shelf = _sealed(user, Item.objects.select_related("case")).order_by("number")
    return [
        (location, list(location.items.all()))
        for location in room.locations.prefetch_related(Prefetch("items", queryset=on_shelf))
    ]


# --- scanning -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """What a scanned code is: an item, or a shelf."""

    item: Item | None = None
    location: Location | None = None


def lookup(user: User, code: str) -> Found:
    """The item or the shelf a label carries, within the user's scope.

    ``code`` is already clean (``labels.read_scan``). Item numbers are matched
    without regard to case (a scanner with Caps Lock on types them in lower
    case); outside the scope, as unknown, is "not found".
    """
    numbers = Q(number=code) | Q(number=code.upper())  # numbers are upper case: the index serves
    item = item_scope(user).filter(numbers).select_related("case").first()
    if item is not None:
        return Found(item=item)
    location = (
        Location.objects.filter(code__iexact=code, room__in=rooms_of(user))
        .select_related("room")
        .first()
    )
    if location is not None:
        return Found(location=location)
    raise NotFound(
        "scan.unknown",
        f"没有找到编号为“{code}”的财物或库位。",
        f"No item or shelf with the code '{code}' is known to you.",
    )


# --- stock-taking -----------------------------------------------------------------------


def counts_of(room: Room) -> QuerySet[StockTake]:
    return room.stock_takes.select_related("started_by", "signed_by").order_by("-started_at", "-id")


def get_count(user: User, pk: int) -> StockTake:
    count = (
        StockTake.objects.filter(pk=pk, room__in=rooms_of(user))
        .select_related("room", "started_by", "signed_by")
        .first()
    )
    if count is None:
        raise NotFound("stocktake.not_found", "盘点记录不存在。", "No such count.")
    return count


@dataclass(frozen=True)
class Tally:
    """How far a count has got: labels read against the records, the current shelf."""

    expected: int
    scanned: int
    shelf: str
    recent: list[Scan]


def tally(count: StockTake) -> Tally:
    shelves = set(count.room.locations.values_list("code", flat=True))
    scans = list(count.scans.order_by("-id"))
    items = {s.code for s in scans if s.code not in shelves}
    shelf = next((s.location_code for s in scans if s.code in shelves), "")
    return Tally(len(count.expected), len(items), shelf, scans[:10])


@dataclass(frozen=True)
class Verdict:
    """What one read means, to tell the person scanning at once.

    ``kind``: ``shelf`` (a shelf label: the following items are on it), ``ok``
    (expected on this shelf), ``misplaced`` (expected on ``expected_shelf``),
    ``no_shelf`` (expected here, but no shelf label was read first) or
    ``unexpected`` (not on this room's records).
    """

    kind: str
    code: str
    shelf: str
    expected_shelf: str = ""


def verdict(count: StockTake, scan: Scan) -> Verdict:
    if scan.code == scan.location_code:
        return Verdict("shelf", scan.code, scan.code)
    expected = count.expected.get(scan.code)
    if expected is None:
        return Verdict("unexpected", scan.code, scan.location_code)
    if not scan.location_code:
        return Verdict("no_shelf", scan.code, "", expected)
    if expected != scan.location_code:
        return Verdict("misplaced", scan.code, scan.location_code, expected)
    return Verdict("ok", scan.code, scan.location_code, expected)
