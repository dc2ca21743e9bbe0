"""Seized property: stock-taking at 100,000 items and custody moves per second, as JSON.

    .venv/bin/python bench/property.py [--db sqlite|postgres|both] [--items 100000]
                                       [--moves 1000] [--rounds 5]

1. ``count``: a count of one room holding ``--items`` stored items (400 shelf
   bins) against its scans, with a realistic sprinkle of differences — 0.3 %
   of the items not found (missing), 0.2 % found on another shelf (misplaced),
   one foreign label per 2,000 items (unexpected), 1 % of the labels read
   twice (a hand scanner's double read) — the scans in shelf-walk order.

   - ``compare``: ``property.counting.compare`` alone (pure Python, no
     database), median of ``--rounds``;
   - per database, the same count through the real path: ``start_count``
     (the service reads what the records expect), the scans bulk-inserted as
     ``Scan`` rows (a scanner's reads, shelf labels included), ``count_result``
     (what the count page shows) and ``sign_off`` (the result kept, audited).
     The stored items themselves are bulk-loaded as fixtures.

   Every run checks that the differences found are exactly those planted.

2. ``custody``: ``--moves`` custody events through the service layer —
   ``store_item`` moving each of that many stored items to another shelf, each
   move one transaction with its row lock, state check, ``CustodyEvent``,
   audit entry and outbox event — against a raw ``bulk_create`` of the same
   ``CustodyEvent`` rows, in the same run. ``service_vs_raw`` is the ratio of
   their rates.

Each database is a fresh, throw-away one, set up in a child process: a SQLite
file in a temporary folder and the PostgreSQL database
``casecenter_bench_property`` (dropped at the end); nothing here touches the
demo's. Absolute times depend on the machine; the ratios are the figures to
watch.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from casecenter.property.counting import compare  # noqa: E402 - pure, no Django

PG_URL = os.environ.get("PGTEST_URL", "postgres://postgres@127.0.0.1:5432/casecenter")
DB_NAME = "casecenter_bench_property"
SHELVES, BINS = 20, 20  # 400 shelf bins in the room
SEED = 20261126


# --- the count: records, scans and the planted differences --------------------------------


def shelf_codes() -> list[str]:
    return [f"BN-S{s:02d}-{b:02d}" for s in range(1, SHELVES + 1) for b in range(1, BINS + 1)]


def count_scenario(items: int) -> dict:
    """Records of ``items`` stored items and a scanner's reads of the room.

    Returns ``expected`` (number -> shelf), ``walk`` (shelf -> labels read there,
    in order) and the planted ``missing``, ``misplaced`` and ``unexpected``.
    """
    rng = random.Random(SEED)
    shelves = shelf_codes()
    expected = {f"BN-WP-2026-{i:06d}": shelves[i % len(shelves)] for i in range(items)}
    numbers = list(expected)
    planted = rng.sample(numbers, k=items * 5 // 1000)
    missing = set(planted[: items * 3 // 1000])
    misplaced = {}
    for number in planted[len(missing) :]:
        misplaced[number] = rng.choice([s for s in shelves[:8] if s != expected[number]])
    unexpected = {f"XX-WP-2026-{i:06d}": rng.choice(shelves) for i in range(max(1, items // 2000))}
    walk: dict[str, list[str]] = {shelf: [] for shelf in shelves}
    for number, shelf in expected.items():
        if number not in missing:
            walk[misplaced.get(number, shelf)].append(number)
    for code, shelf in unexpected.items():
        walk[shelf].append(code)
    for labels in walk.values():
        rng.shuffle(labels)
        for label in rng.sample(labels, k=len(labels) // 100):  # double reads
            labels.insert(rng.randrange(len(labels) + 1), label)
    return {
        "expected": expected,
        "walk": walk,
        "missing": sorted(missing),
        "misplaced": sorted(misplaced),
        "unexpected": sorted(unexpected),
    }


def check(result: dict, scenario: dict) -> None:
    """The count found exactly what was planted."""
    assert result["missing"] == scenario["missing"], "missing differs"
    assert result["unexpected"] == scenario["unexpected"], "unexpected differs"
    assert [m["number"] for m in result["misplaced"]] == scenario["misplaced"], "misplaced"
    planted = len(scenario["missing"]) + len(scenario["misplaced"])
    assert result["matched"] == len(scenario["expected"]) - planted, "matched differs"


def bench_compare(items: int, rounds: int) -> dict:
    scenario = count_scenario(items)
    scans = [(label, shelf) for shelf, labels in scenario["walk"].items() for label in labels]
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        result = compare(scenario["expected"], scans)
        times.append(time.perf_counter() - started)
    check(result.as_dict(), scenario)
    return {
        "items": items,
        "scans": len(scans),
        "missing": len(result.missing),
        "misplaced": len(result.misplaced),
        "unexpected": len(result.unexpected),
        "median_s": round(statistics.median(times), 4),
        "items_per_s": round(items / statistics.median(times)),
    }


# --- inside the child process -------------------------------------------------------------


def child(items: int, moves: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    world = make_world(items)
    return {"count": bench_count(world, items), "custody": bench_custody(world, moves)}


def make_world(items: int) -> dict:
    """A station, a custodian, a case, one room with 400 bins, ``items`` stored items."""
    from django.db import transaction
    from django.utils import timezone

    from casecenter.accounts.models import Organisation, OrganisationKind, Role, User
    from casecenter.cases.services import accept_case
    from casecenter.property.models import Item, ItemState, Location, Room

    org = Organisation.objects.create(
        code="bn", kind=OrganisationKind.POLICE_STATION, name="基准派出所"
    )
    officer = User.objects.create(username="officer", role=Role.CASE_OFFICER, organisation=org)
    custodian = User.objects.create(username="custodian", role=Role.CUSTODY_STAFF, organisation=org)
    case = accept_case(officer, kind="criminal", category="theft", title="基准案件")
    room = Room.objects.create(
        organisation=org, kind=Room.Kind.PROPERTY_ROOM, code="bn-cw", name="基准财物室"
    )
    locations = {
        code: Location.objects.create(room=room, shelf=code[3:6], bin=code[-2:], code=code)
        for code in shelf_codes()
    }
    scenario = count_scenario(items)
    now = timezone.now()
    with transaction.atomic():
        Item.objects.bulk_create(
            (
                Item(
                    case=case,
                    number=number,
                    category="phone",
                    description="基准手机",
                    quantity=1,
                    unit="部",
                    seized_at=now,
                    seized_place="基准地点",
                    seized_by=[officer.pk],
                    state=ItemState.STORED,
                    holder=custodian,
                    location=locations[shelf],
                    registered_by=officer,
                )
                for number, shelf in scenario["expected"].items()
            ),
            batch_size=2000,
        )
    return {
        "custodian": custodian,
        "room": room,
        "locations": locations,
        "scenario": scenario,
    }


def bench_count(world: dict, items: int) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from casecenter.property import services
    from casecenter.property.models import Scan

    custodian, room, scenario = world["custodian"], world["room"], world["scenario"]
    timings = {}

    started = time.perf_counter()
    count = services.start_count(custodian, room)
    timings["start_count_s"] = time.perf_counter() - started
    assert len(count.expected) == items

    now = timezone.now()
    rows = []
    for shelf, labels in scenario["walk"].items():
        rows.append(Scan(stock_take=count, code=shelf, location_code=shelf, at=now))
        rows.extend(
            Scan(stock_take=count, code=code, location_code=shelf, at=now) for code in labels
        )
    started = time.perf_counter()
    with transaction.atomic():
        Scan.objects.bulk_create(rows, batch_size=2000)
    timings["insert_scans_s"] = time.perf_counter() - started

    started = time.perf_counter()
    result = services.count_result(count)
    timings["count_result_s"] = time.perf_counter() - started
    check(result, scenario)

    started = time.perf_counter()
    count = services.sign_off(custodian, count, note="基准盘点")
    timings["sign_off_s"] = time.perf_counter() - started
    check(count.result, scenario)

    total = sum(timings.values())
    return {
        "items": items,
        "scan_rows": len(rows),
        **{k: round(v, 3) for k, v in timings.items()},
        "total_s": round(total, 3),
        "items_per_s": round(items / total),
    }


def bench_custody(world: dict, moves: int) -> dict:
    """``moves`` shelf moves through ``store_item`` against a raw insert of their rows."""
    from django.db import transaction
    from django.utils import timezone

    from casecenter.property import services
    from casecenter.property.models import CustodyEvent, Item

    custodian, locations = world["custodian"], list(world["locations"].values())
    items = list(Item.objects.order_by("pk")[:moves])
    plan = [(item, locations[(n * 7 + 3) % len(locations)]) for n, item in enumerate(items)]
    plan = [(i, loc if loc.pk != i.location_id else locations[0]) for i, loc in plan]

    started = time.perf_counter()
    for item, location in plan:
        services.store_item(custodian, item, location=location)
    service_s = time.perf_counter() - started
    made = CustodyEvent.objects.filter(kind=CustodyEvent.Kind.MOVED)
    assert made.count() == moves

    now = timezone.now()
    rows = [
        CustodyEvent(
            item_id=event.item_id,
            kind=event.kind,
            at=now,
            actor=custodian,
            giver=custodian,
            receiver=custodian,
            from_location_id=event.from_location_id,
            to_location_id=event.to_location_id,
        )
        for event in made
    ]
    started = time.perf_counter()
    with transaction.atomic():
        CustodyEvent.objects.bulk_create(rows, batch_size=500)
    raw_s = time.perf_counter() - started
    return {
        "moves": moves,
        "service_per_s": round(moves / service_s, 1),
        "raw_bulk_per_s": round(moves / raw_s, 1),
        "service_vs_raw": round(raw_s / service_s, 4),
    }


# --- the parent: one child per database -----------------------------------------------------


def admin_url() -> str:
    return PG_URL.rsplit("/", 1)[0] + "/postgres"


def postgres(action: str) -> None:
    import psycopg

    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        if action == "create":
            conn.execute(f"CREATE DATABASE {DB_NAME}")


def bench_db(db: str, items: int, moves: int) -> dict:
    data_dir = tempfile.mkdtemp(prefix=f"cc-bench-property-{db}-")
    env = {
        **os.environ,
        "CASECENTER_DATA_DIR": data_dir,
        "DJANGO_SETTINGS_MODULE": "casecenter.settings",
    }
    if db == "postgres":
        env["DATABASE_URL"] = PG_URL.rsplit("/", 1)[0] + f"/{DB_NAME}"
        postgres("create")
    else:
        env.pop("DATABASE_URL", None)
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(items), str(moves)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if db == "postgres":
            postgres("drop")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(child(int(sys.argv[2]), int(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--moves", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = {
        "benchmark": "property",
        "compare": bench_compare(args.items, args.rounds),
        "results": {db: bench_db(db, args.items, args.moves) for db in dbs},
    }
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
