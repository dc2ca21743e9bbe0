"""Demo property (涉案财物): the center's rooms, hundreds of seized items in every state
of the chain of custody, appraisals, a signed count, and a planted discrepancy.

Everything goes through ``property.services``: every item is registered by its
case's two officers, handed to the center's custodian 赵刚 (``zhaogang``),
stored, checked out and returned, transferred or disposed exactly as real use
would do it, so each item's timeline, clocks and audit entries are real.

The planted discrepancy (for a newcomer's count, see docs/property.md): in the
property room 涉案财物室, the item recorded on shelf ZX-CW-A-01 with the highest
number is *not on the shelf*, and the first item recorded on ZX-CW-A-02 lies on
A-01 instead. A count of the room is kept open with every shelf already
scanned but A-01; ``count_exercise`` says which labels a newcomer scans there,
and signing off then shows one missing and one misplaced item.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from casecenter.accounts.models import Organisation, User
from casecenter.cases.models import Assignment, AssignmentRole, Case, CaseKind, CaseState
from casecenter.cases.models import PartyRole as P
from casecenter.property import services
from casecenter.property.models import Item, ItemState, Location, Room, StockTake

CENTER = "hd-zx"
CUSTODIAN = "zhaogang"
APPROVER = "sunli"
PROPERTY_ROOM, DRUG_STORE, YARD = "zx-cw", "zx-dp", "zx-cl"
PRICE_ROOM, INJURY_ROOM = "zx-wj", "zx-sj"
COUNTED_SHELF, NEXT_SHELF = "ZX-CW-A-01", "ZX-CW-A-02"
CABINET = 6  # items kept on the counted shelf

ROOMS = [
    # room code, kind, name, location prefix, shelves, bins per shelf
    (PROPERTY_ROOM, Room.Kind.PROPERTY_ROOM, "涉案财物室", "ZX-CW", "ABCD", 6),
    (DRUG_STORE, Room.Kind.DRUG_STORE, "毒品库", "ZX-DP", "A", 4),
    (YARD, Room.Kind.VEHICLE_YARD, "涉案车辆停放场", "ZX-CL", "P", 12),
    (PRICE_ROOM, Room.Kind.APPRAISAL, "物价鉴定室", "", "", 0),
    (INJURY_ROOM, Room.Kind.APPRAISAL, "伤情鉴定室", "", "", 0),
]

# What each kind of case seizes: category, description, quantity range, unit, owner's role.
GOODS: dict[str, list[tuple[str, str, tuple[float, float], str, str]]] = {
    "theft": [
        ("phone", "苹果iPhone 13手机一部（黑色，屏幕有裂痕）", (1, 1), "部", P.VICTIM),
        ("vehicle", "雅迪牌电动自行车一辆（白色）", (1, 1), "辆", P.VICTIM),
        ("cash", "人民币现金（百元面额为主）", (300, 4800), "元", P.SUSPECT),
        ("other", "撬锁工具一套（改锥、钢丝钳）", (1, 1), "套", P.SUSPECT),
        ("document", "被盗居民身份证一张", (1, 1), "张", P.VICTIM),
    ],
    "fraud": [
        ("phone", "作案用华为手机一部（蓝色）", (1, 1), "部", P.SUSPECT),
        ("document", "他人名下银行卡", (3, 25), "张", P.SUSPECT),
        ("document", "手机SIM卡", (5, 40), "张", P.SUSPECT),
        ("cash", "赃款人民币现金", (2000, 60000), "元", P.VICTIM),
        ("other", "联想笔记本电脑一台", (1, 1), "台", P.SUSPECT),
    ],
    "dangerous_driving": [
        ("vehicle", "小型轿车一辆（大众朗逸，银色）", (1, 1), "辆", P.SUSPECT),
        ("document", "机动车驾驶证一本", (1, 1), "本", P.SUSPECT),
        ("document", "机动车行驶证一本", (1, 1), "本", P.SUSPECT),
    ],
    "injury": [
        ("weapon", "单刃水果刀一把（刃长约12厘米）", (1, 1), "把", P.SUSPECT),
        ("weapon", "木棍一根（长约80厘米，带血迹）", (1, 1), "根", P.SUSPECT),
        ("phone", "小米手机一部（现场遗留）", (1, 1), "部", P.SUSPECT),
        ("other", "沾有血迹的白色T恤一件", (1, 1), "件", P.VICTIM),
    ],
    "drugs": [
        ("drugs", "疑似甲基苯丙胺（冰毒）晶体，密封袋装", (0.12, 9.5), "克", P.SUSPECT),
        ("drugs", "疑似海洛因粉末，锡纸包装", (0.05, 3.2), "克", P.SUSPECT),
        ("other", "吸毒工具（冰壶）一套", (1, 1), "套", P.SUSPECT),
        ("phone", "OPPO手机一部（用于联系上家）", (1, 1), "部", P.SUSPECT),
    ],
}

# Where an item ends up, by the state of its case: (target, weight).
TARGETS: dict[str, list[tuple[str, int]]] = {
    CaseState.ACCEPTED: [("seized", 6), ("in_custody", 3), ("stored", 3)],
    CaseState.NOT_FILED: [("disposed", 6), ("in_custody", 1), ("stored", 1)],
    CaseState.FILED: [("seized", 2), ("in_custody", 2), ("stored", 5), ("checked_out", 3)],
    CaseState.INVESTIGATING: [
        ("seized", 1),
        ("stored", 5),
        ("checked_out", 3),
        ("returned", 3),
        ("disposed", 1),
    ],
    CaseState.TRANSFERRED: [("transferred", 6), ("stored", 2), ("returned", 1)],
    CaseState.DECIDED: [("stored", 3), ("disposed", 3)],
    CaseState.CLOSED: [("transferred", 3), ("disposed", 4), ("stored", 2)],
}

DISPOSAL = {  # category -> (method, grounds)
    "cash": ("confiscated", "经审查系违法所得，依法没收，上缴国库。"),
    "drugs": ("destroyed", "毒品经检验鉴定并留样后，依法统一销毁。"),
    "weapon": ("destroyed", "管制器具，依法收缴销毁。"),
    "other": ("confiscated", "作案工具，依法没收。"),
}
RETURN_TO_OWNER = ("returned_to_owner", "经审查系被害人合法财产，权属明确，依法发还。")
RETURN_UNRELATED = ("returned_to_owner", "经审查与案件无关，依法退还所有人。")
AUCTION = ("auctioned", "经公告无人认领，依法委托拍卖，价款上缴国库。")

PRICE_RESULTS = {
    "phone": (800, 6500, "经鉴定，该手机鉴定基准日价值人民币{v}元。"),
    "vehicle": (1200, 90000, "经鉴定，该车辆鉴定基准日价值人民币{v}元。"),
    "other": (300, 5200, "经鉴定，该物品鉴定基准日价值人民币{v}元。"),
}
INJURY_RESULT = "经鉴定，被害人损伤程度为轻伤二级，损伤系该物品所致。"
DRUG_LAB = "海淀分局刑事科学技术室（毒品定性定量检验）"


@dataclass
class CountExercise:
    """The newcomer's part of the open count: scan ``labels`` at ``shelf``, sign off."""

    count: StockTake
    shelf: str
    found: list[Item]  # on the shelf, in scanning order
    lost: Item  # recorded on the shelf, not there
    misplaced: Item  # recorded on A-02, found on the shelf

    @property
    def labels(self) -> list[str]:
        """What the newcomer scans: the shelf's own label first, then each item's."""
        return [self.shelf, *(item.number for item in self.found)]


class PropertyBuilder:
    """Seeded: the same rooms, items and moves every time (given the same cases)."""

    def __init__(self, rng: random.Random, users: dict[str, User]):
        self.rng = rng
        self.by_pk = {user.pk: user for user in users.values()}
        self.custodian = users[CUSTODIAN]
        self.approver = users[APPROVER]
        self.now = timezone.now()
        self.rooms: dict[str, Room] = {}
        self.shelves: dict[str, list[Location]] = {}
        self.turn: dict[str, int] = {}
        self.in_cabinet = 0

    def build(self) -> None:
        self.make_rooms()
        self.court = Organisation.objects.get(code="hd-fy")
        self.procuratorate = Organisation.objects.get(code="hd-jc")
        cases = Case.objects.filter(category__in=GOODS).filter(
            Q(kind=CaseKind.CRIMINAL) | Q(category="drugs")  # drug use: administrative
        )
        for case in cases.order_by("pk"):
            self.seize_for(case)
        self.history_count()
        count_exercise(create=True)

    # --- rooms ----------------------------------------------------------------------------
    def make_rooms(self) -> None:
        center = Organisation.objects.get(code=CENTER)
        for code, kind, name, prefix, shelves, bins in ROOMS:
            room = Room.objects.create(organisation=center, kind=kind, code=code, name=name)
            self.rooms[code] = room
            self.shelves[code] = [
                Location.objects.create(
                    room=room, shelf=shelf, bin=f"{n:02d}", code=f"{prefix}-{shelf}-{n:02d}"
                )
                for shelf in shelves
                for n in range(1, bins + 1)
            ]
            self.turn[code] = self.rng.randrange(max(1, len(self.shelves[code])))

    def shelf_for(self, item: Item, *, stays: bool = False) -> Location:
        """Drugs to the drug store, vehicles to the yard, the rest round the property room.

        Shelf A-01 is the valuables cabinet (phones and cash): it takes a few items
        that stay there, so the newcomer's count of it is short.
        """
        room = {"drugs": DRUG_STORE, "vehicle": YARD}.get(item.category, PROPERTY_ROOM)
        shelves = self.shelves[room]
        if room == PROPERTY_ROOM:
            cabinet, shelves = shelves[0], shelves[1:]
            if stays and item.category in ("phone", "cash") and self.in_cabinet < CABINET:
                self.in_cabinet += 1
                return cabinet
        while True:
            self.turn[room] += 1
            shelf = shelves[self.turn[room] % len(shelves)]
            if shelf.pk != item.location_id:
                return shelf

    # --- items ----------------------------------------------------------------------------
    def later(self, at: datetime, low_hours: float, high_hours: float) -> datetime:
        """A moment some hours after ``at``, but never later than a minute ago."""
        step = at + timedelta(hours=self.rng.uniform(low_hours, high_hours))
        return max(at, min(step, self.now - timedelta(minutes=1)))

    def seize_for(self, case: Case) -> None:
        team = dict(
            Assignment.objects.filter(
                case=case,
                ended_at__isnull=True,
                role__in=[AssignmentRole.LEAD, AssignmentRole.ASSISTING],
            ).values_list("role", "user")
        )
        lead = self.by_pk[team[AssignmentRole.LEAD]]
        partner = self.by_pk[team[AssignmentRole.ASSISTING]]
        parties = {p.role: p for p in case.parties.order_by("-pk")}
        goods = GOODS[case.category]
        picked = self.rng.sample(goods, k=min(len(goods), self.rng.randint(2, 4)))
        targets, weights = zip(*TARGETS[case.state], strict=True)
        start = case.occurred_at or case.accepted_at
        for category, description, (low, high), unit, owner_role in picked:
            target = self.rng.choices(targets, weights)[0]
            if target == "disposed" and case.secret:  # nobody may approve it (need-to-know)
                target = "stored"
            if target == "seized" and self.rng.random() < 0.5:
                seized_at = self.now - timedelta(hours=self.rng.uniform(1, 20))  # clock running
            else:
                seized_at = self.later(start, 0.2, 6)
            amount = self.rng.uniform(low, high)
            if unit == "克":  # drugs are weighed to the milligram
                quantity = Decimal(f"{amount:.3f}")
            else:  # counted; cash to the ten yuan
                quantity = Decimal(round(amount, -1 if unit == "元" else 0)).quantize(Decimal(1))
            item = services.register_item(
                lead,
                case,
                category=category,
                description=description,
                quantity=quantity,
                unit=unit,
                seized_at=seized_at,
                seized_place=case.place or "北京市海淀区",
                officers=[lead, partner],
                owner=parties.get(owner_role),
            )
            self.advance(item, target, lead, case)

    def advance(self, item: Item, target: str, lead: User, case: Case) -> None:
        if target == "seized":
            return
        rng, keeper = self.rng, self.custodian
        late = rng.random() < 0.1  # handed over after the 24 hours: a breach on record
        at = self.later(item.seized_at, *((25, 40) if late else (0.3, 10)))
        item = services.hand_over(lead, item, receiver=keeper, at=at)
        if target == "in_custody":
            return
        at = self.later(at, 0.1, 3)
        moved = target == "stored" and rng.random() < 0.08  # re-shelved once
        stays = target == "stored" and not moved
        item = services.store_item(keeper, item, location=self.shelf_for(item, stays=stays), at=at)
        if moved:
            item = services.move_item(
                keeper, item, location=self.shelf_for(item), at=self.later(at, 24, 240)
            )
        if target in ("checked_out", "returned"):
            self.check_out_and_back(item, lead, returned=target == "returned", after=at)
        elif target == "transferred":  # with the case: to the procuratorate, or the court
            court = case.state == CaseState.CLOSED
            receipt = f"京海{'法' if court else '检'}收〔{at.year}〕{rng.randint(100, 999)}号"
            services.transfer(
                keeper,
                item,
                organisation=self.court if court else self.procuratorate,
                receipt_number=receipt,
                receiver_name="吴芳" if court else "周健",
                at=self.later(at, 24, 24 * 20),
            )
        elif target == "disposed":
            owner = item.owner.role if item.owner_id else None
            if owner == P.VICTIM:
                method, grounds = RETURN_TO_OWNER
            elif item.category in DISPOSAL:
                method, grounds = DISPOSAL[item.category]
            elif item.category == "vehicle" and owner is None:
                method, grounds = AUCTION
            else:
                method, grounds = RETURN_UNRELATED
            services.dispose(
                keeper,
                item,
                method=method,
                approver=self.approver,
                reason=grounds,
                at=self.later(at, 24, 24 * 15),
            )

    def check_out_and_back(
        self, item: Item, lead: User, *, returned: bool, after: datetime
    ) -> None:
        """Out for appraisal (most) or identification; back on a shelf, or still out."""
        rng, keeper = self.rng, self.custodian
        appraisal = None
        if item.category == "drugs":
            purpose, to = "appraisal", DRUG_LAB
        elif item.category in PRICE_RESULTS or item.category == "weapon":
            injury = item.category == "weapon"
            room = self.rooms[INJURY_ROOM if injury else PRICE_ROOM]
            appraisal = services.request_appraisal(
                lead,
                item,
                kind="injury" if injury else "price",
                room=room,
                question=(
                    "被害人损伤程度鉴定，并判断损伤是否系该物品所致。"
                    if injury
                    else "对该物品鉴定基准日的市场价格进行鉴定。"
                ),
            )
            purpose, to = "appraisal", f"{room.name} 鉴定人{rng.choice('王李张刘陈')}工"
        else:
            purpose, to = "investigation", f"{lead.display_name}（组织辨认、核对）"
        if returned:
            out_at = self.later(after, 24, 24 * 10)
        else:  # still out: some within the promised return, some past it
            out_at = max(after, self.now - timedelta(days=rng.uniform(0.2, 9)))
        promised = out_at + timedelta(days=rng.uniform(2, 7))
        item = services.check_out(
            keeper, item, purpose=purpose, to=to, expected_return_at=promised, at=out_at
        )
        if not returned:
            return
        back = self.later(out_at, 12, 24 * 9)  # sometimes after the promise: a breach
        services.return_item(keeper, item, location=self.shelf_for(item), at=back)
        if appraisal is not None:
            if appraisal.kind == "injury":
                result, value = INJURY_RESULT, None
            else:
                low, high, text = PRICE_RESULTS[item.category]
                value = rng.randint(low // 100, high // 100) * 100
                result = text.format(v=value)
            services.record_appraisal_result(lead, appraisal, result=result, value=value)

    # --- counts ---------------------------------------------------------------------------
    def history_count(self) -> None:
        """The drug store's last count: every label scanned, signed off clean."""
        room = self.rooms[DRUG_STORE]
        count = services.start_count(self.custodian, room)
        scan_shelves(self.custodian, count, room, skip_shelves=(), skip_items=())
        services.sign_off(self.custodian, count, note="月度盘点：账物相符。")


def scan_shelves(
    actor: User,
    count: StockTake,
    room: Room,
    *,
    skip_shelves: Collection[str],
    skip_items: Collection[str],
) -> None:
    """Scan each shelf label, then the items recorded there (as a custodian walks)."""
    on_shelves: dict[str, list[str]] = {}
    for number, code in sorted(count.expected.items()):
        on_shelves.setdefault(code, []).append(number)
    for shelf in room.locations.order_by("code"):
        if shelf.code in skip_shelves or shelf.code not in on_shelves:
            continue
        services.record_scan(actor, count, shelf.code)
        for number in on_shelves[shelf.code]:
            if number not in skip_items:
                services.record_scan(actor, count, number)


def count_exercise(*, create: bool = False) -> CountExercise | None:
    """The open count of the property room a newcomer finishes at shelf A-01.

    With ``create``, a count is opened (when none is) and every shelf but A-01
    scanned — except the planted misplaced item, which is not on A-02.
    """
    room = Room.objects.filter(code=PROPERTY_ROOM).first()
    if room is None:
        return None
    on = Item.objects.filter(state=ItemState.STORED).order_by("number")
    here = list(on.filter(location__code=COUNTED_SHELF))
    next_door = on.filter(location__code=NEXT_SHELF).first()
    if len(here) < 2 or next_door is None:
        return None
    lost, misplaced = here[-1], next_door
    count = room.stock_takes.filter(state=StockTake.State.OPEN).first()
    if count is None:
        if not create:
            return None
        custodian = User.objects.get(username=CUSTODIAN)
        count = services.start_count(custodian, room)
        scan_shelves(
            custodian,
            count,
            room,
            skip_shelves={COUNTED_SHELF},
            skip_items={misplaced.number},
        )
    return CountExercise(count, COUNTED_SHELF, [*here[:-1], misplaced], lost, misplaced)
