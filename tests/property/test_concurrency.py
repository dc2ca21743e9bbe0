"""Two people scanning one item at once: exactly one move happens (F4.2).

Every move locks the item's row (``SELECT … FOR UPDATE`` on PostgreSQL; on
SQLite every write transaction takes the database's write lock at ``BEGIN``)
and checks, under the lock, that the move is still possible. These tests make
the moves really collide — N threads, each on its own database connection,
released together by a barrier — and check what is left: one winner, the
others refused with a domain error, one custody event, one consistent place,
an audit log that verifies.

They commit for real (``transaction=True``); an in-memory SQLite database is
one connection's and cannot be shared between threads, so they need a file
(``CASECENTER_TEST_SQLITE``) or PostgreSQL.

The stock-taking arithmetic (``property.counting.compare``) is tested here too,
by properties rather than by examples.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from casecenter.audit.models import AuditEntry
from casecenter.audit.sequencer import integrate_all
from casecenter.audit.verify import verify_log
from casecenter.errors import Conflict, InvalidInput
from casecenter.property import services
from casecenter.property.counting import compare
from casecenter.property.models import CustodyEvent
from casecenter.supervision.models import Deadline

THREADS = 6


def shared_database() -> None:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip(
            "an in-memory SQLite database is one connection's, so threads cannot collide on "
            "it: set CASECENTER_TEST_SQLITE to a file (or run on PostgreSQL)"
        )


def collide(moves: list[Callable[[], Any]]) -> tuple[list[Any], list[BaseException]]:
    """Run ``moves`` at once, one thread and one database connection each.

    Returns what succeeded and what was raised. Every thread closes its own
    connection, whatever happened.
    """
    start = threading.Barrier(len(moves))
    done: list[Any] = []
    raised: list[BaseException] = []
    lock = threading.Lock()

    def run(move: Callable[[], Any]) -> None:
        try:
            start.wait(timeout=30)
            result = move()
            with lock:
                done.append(result)
        except BaseException as exc:  # judged by the test, in its own thread
            with lock:
                raised.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(move,)) for move in moves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a move hung"
    return done, raised


def refusal_codes(raised: list[BaseException]) -> list[str]:
    unexpected = [exc for exc in raised if not isinstance(exc, Conflict | InvalidInput)]
    assert unexpected == [], f"not a domain refusal: {unexpected!r}"
    return sorted(exc.code for exc in raised)  # type: ignore[attr-defined]


def assert_log_verifies() -> None:
    integrate_all()
    report = verify_log()
    assert report.ok, report.problem


def audited(item, action: str) -> int:
    return AuditEntry.objects.filter(
        action=action, object_type="property.item", object_id=str(item.pk)
    ).count()


@pytest.fixture
def custodians(make_user):
    """Custody staff of the legal-affairs unit above the station: all may receive."""
    from casecenter.accounts.models import Role

    return [make_user(f"custodian{n}", Role.CUSTODY_STAFF, org="legal") for n in range(THREADS)]


@pytest.mark.django_db(transaction=True)
def test_an_item_handed_over_by_several_custodians_at_once_has_one_receiver(
    seize, officers, custodians
):
    shared_database()
    item = seize()

    done, raised = collide(
        [
            lambda c=custodian: services.hand_over(c, item, receiver=c)  # the receiver records
            for custodian in custodians
        ]
    )

    assert len(done) == 1
    assert refusal_codes(raised) == ["property.wrong_state"] * (THREADS - 1)
    item.refresh_from_db()
    winner = done[0].holder
    assert item.state == "in_custody" and item.holder == winner
    handed = item.events.filter(kind=CustodyEvent.Kind.HANDED_OVER)
    assert list(handed.values_list("giver", "receiver")) == [(officers["lead"].pk, winner.pk)]
    assert item.version == 3  # created, seized, handed over: nothing else was written
    assert audited(item, "property.handed_over") == 1
    assert list(Deadline.objects.filter(item=item).values_list("rule_id", "state")) == [
        ("property.hand_over", "met")
    ]
    assert_log_verifies()


@pytest.mark.django_db(transaction=True)
def test_an_item_checked_out_by_several_people_at_once_leaves_once(
    seize, officers, custodians, rooms
):
    shared_database()
    item = seize()
    services.hand_over(officers["lead"], item, receiver=custodians[0])
    services.store_item(custodians[0], item, location=rooms["CW1-A-01"])
    back = timezone.now() + timedelta(days=2)

    done, raised = collide(
        [
            lambda c=custodian, n=n: services.check_out(
                c, item, purpose="appraisal", to=f"物价鉴定室 鉴定人{n}", expected_return_at=back
            )
            for n, custodian in enumerate(custodians)
        ]
    )

    assert len(done) == 1
    assert refusal_codes(raised) == ["property.wrong_state"] * (THREADS - 1)
    item.refresh_from_db()
    assert item.state == "checked_out" and item.out_to == done[0].out_to
    assert item.location is None and item.holder is None
    out = item.events.filter(kind=CustodyEvent.Kind.CHECKED_OUT)
    assert list(out.values_list("counterparty", "from_location")) == [
        (item.out_to, rooms["CW1-A-01"].pk)
    ]
    assert audited(item, "property.checked_out") == 1
    assert Deadline.objects.filter(item=item, rule_id="property.return").count() == 1
    assert_log_verifies()


@pytest.mark.django_db(transaction=True)
def test_an_item_stored_on_one_shelf_by_several_custodians_at_once_is_stored_once(
    seize, officers, custodians, rooms
):
    shared_database()
    item = seize()
    services.hand_over(officers["lead"], item, receiver=custodians[0])

    done, raised = collide(
        [
            lambda c=custodian: services.store_item(c, item, location=rooms["CW1-A-01"])
            for custodian in custodians
        ]
    )

    assert len(done) == 1 and len(raised) == THREADS - 1
    assert set(refusal_codes(raised)) <= {"property.wrong_state", "property.same_place"}
    item.refresh_from_db()
    assert item.state == "stored" and item.location == rooms["CW1-A-01"]
    assert item.holder == done[0].holder
    stored = item.events.filter(kind__in=[CustodyEvent.Kind.STORED, CustodyEvent.Kind.MOVED])
    assert list(stored.values_list("kind", "to_location")) == [("stored", rooms["CW1-A-01"].pk)]
    assert audited(item, "property.stored") == 1
    assert_log_verifies()


def store_on_two_shelves_at_once(seize, officers, custodians, rooms):
    """Half the custodians store the in-custody item on A-01, half on A-02, at once."""
    shared_database()
    item = seize()
    services.hand_over(officers["lead"], item, receiver=custodians[0])
    shelves = [rooms["CW1-A-01"], rooms["CW1-A-02"]]
    done, raised = collide(
        [
            lambda c=custodian, shelf=shelves[n % 2]: services.store_item(c, item, location=shelf)
            for n, custodian in enumerate(custodians)
        ]
    )
    item.refresh_from_db()
    return item, done, raised


@pytest.mark.django_db(transaction=True)
def test_an_item_stored_on_two_shelves_at_once_is_in_one_place_with_one_record_per_move(
    seize, officers, custodians, rooms
):
    item, done, raised = store_on_two_shelves_at_once(seize, officers, custodians, rooms)

    placed = item.events.filter(kind__in=[CustodyEvent.Kind.STORED, CustodyEvent.Kind.MOVED])
    assert placed.count() == len(done) >= 1
    assert len(done) + len(refusal_codes(raised)) == THREADS
    assert item.state == "stored" and item.location_id == placed.last().to_location_id
    assert item.version == 3 + len(done)  # created, seized, handed over, then each move
    assert audited(item, "property.stored") + audited(item, "property.moved") == len(done)
    assert_log_verifies()


@pytest.mark.django_db(transaction=True)
def test_moves_of_one_item_at_once_record_an_unbroken_chain_of_shelves(
    seize, officers, custodians, rooms
):
    """Each move records the shelf the item left, as it was when the move took the lock."""
    shared_database()
    from casecenter.property.models import Location

    item = seize()
    services.hand_over(officers["lead"], item, receiver=custodians[0])
    services.store_item(custodians[0], item, location=rooms["CW1-A-01"])
    store = rooms["store"]
    shelves = [
        rooms["CW1-A-02"],
        Location.objects.create(room=store, shelf="B", bin="01", code="CW1-B-01"),
    ]

    done, raised = collide(
        [
            lambda c=custodian, shelf=shelves[n % 2]: services.move_item(c, item, location=shelf)
            for n, custodian in enumerate(custodians)
        ]
    )

    assert set(refusal_codes(raised)) <= {"property.same_place"}
    item.refresh_from_db()
    moves = list(
        item.events.filter(kind=CustodyEvent.Kind.MOVED)
        .order_by("id")
        .values_list("from_location", "to_location")
    )
    assert len(moves) == len(done) >= 1
    chain = [rooms["CW1-A-01"].pk] + [to for _, to in moves]
    assert [source for source, _ in moves] == chain[:-1]
    assert item.location_id == chain[-1]


@pytest.mark.django_db(transaction=True)
def test_an_item_stored_on_two_shelves_at_once_is_stored_once_and_never_moved(
    seize, officers, custodians, rooms
):
    """Each custodian thinks they hold the item: one stores it, the others are
    refused — their ``store`` must not become a move of an item they never had."""
    item, done, raised = store_on_two_shelves_at_once(seize, officers, custodians, rooms)

    assert len(done) == 1
    assert set(refusal_codes(raised)) <= {"property.wrong_state", "property.same_place"}
    placed = item.events.filter(kind__in=[CustodyEvent.Kind.STORED, CustodyEvent.Kind.MOVED])
    assert list(placed.values_list("kind", flat=True)) == ["stored"]
    assert item.location == done[0].location
    assert audited(item, "property.stored") == 1 and audited(item, "property.moved") == 0


# --- the stock-taking comparison, by properties -------------------------------------------

numbers = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=14)
shelf_codes = st.sampled_from(["ZX-CW-A-01", "ZX-CW-A-02", "ZX-CW-B-01", "ZX-CW-D-06"])
records = st.dictionaries(numbers, shelf_codes, max_size=60)


@st.composite
def records_and_scans(draw):
    """Records, and scans of expected items only, each at a known shelf, some twice."""
    expected = draw(records)
    scanned = draw(st.lists(st.sampled_from(sorted(expected)), unique=True)) if expected else []
    scans = [(number, draw(shelf_codes)) for number in scanned]
    return expected, scans


@given(records_and_scans())
def test_every_expected_item_is_matched_missing_or_misplaced(case):
    expected, scans = case
    result = compare(expected, scans)
    assert result.unexpected == []
    assert result.matched + len(result.missing) + len(result.misplaced) == len(expected)
    scanned = {number for number, _ in scans}
    assert set(result.missing) == set(expected) - scanned
    assert all(m["found"] != m["expected"] == expected[m["number"]] for m in result.misplaced)


@given(records_and_scans(), st.randoms(use_true_random=False), st.integers(1, 3))
def test_scan_order_and_repeated_scans_do_not_change_the_result(case, rng, repeats):
    expected, scans = case
    again = [scan for scan in scans for _ in range(repeats)]
    rng.shuffle(again)
    assert compare(expected, again) == compare(expected, scans)


@given(records, st.lists(st.tuples(numbers, shelf_codes | st.just(""))), numbers, shelf_codes)
def test_a_code_not_in_the_records_is_always_unexpected(expected, scans, stranger, shelf):
    if stranger in expected:
        expected = {k: v for k, v in expected.items() if k != stranger}
    result = compare(expected, [*scans, (stranger, shelf)])
    assert stranger in result.unexpected
    assert stranger not in result.missing
    assert all(m["number"] != stranger for m in result.misplaced)
    assert result.unexpected == sorted(set(result.unexpected))


@given(records)
def test_a_count_that_scans_every_item_where_recorded_is_clean(expected):
    result = compare(expected, list(expected.items()))
    assert result.clean and result.matched == len(expected)
