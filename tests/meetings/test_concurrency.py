"""Two requests at the same moment cannot both win a slot (F7.4).

Each pair of threads runs on its own database connections, released together
by a barrier, and commits for real (``transaction=True``): of two overlapping
requests for one detainee, or by one lawyer, and of two confirmations into one
room, exactly one succeeds and the other is refused with its 409. The service
checks the overlap under row locks (``SELECT … FOR UPDATE`` of the lawyer, the
detainee, the room on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` write lock).
An in-memory SQLite database is one connection's, so these tests need
``CASECENTER_TEST_SQLITE`` (a file) or PostgreSQL.
"""

from __future__ import annotations

import pytest

from casecenter.audit.sequencer import integrate_all
from casecenter.audit.verify import verify_log
from casecenter.errors import Conflict
from casecenter.meetings import services
from casecenter.meetings.models import Booking, BookingState
from casecenter.supervision.models import Deadline
from tests.meetings.conftest import DETAINEE_ID, OTHER_ID, slot
from tests.property.test_concurrency import collide, shared_database

pytestmark = pytest.mark.django_db(transaction=True)


def refused(raised: list[BaseException]) -> list[str]:
    unexpected = [exc for exc in raised if not isinstance(exc, Conflict)]
    assert unexpected == [], f"not a conflict: {unexpected!r}"
    return [exc.code for exc in raised]  # type: ignore[attr-defined]


def request(people, centres, key: str, when, name="张三", id_number=DETAINEE_ID):
    authority = "legal_aid" if key == "duty" else "engagement"
    return lambda: services.request_booking(
        people[key],
        centre=centres["centre"],
        name=name,
        id_number=id_number,
        starts_at=when[0],
        ends_at=when[1],
        authority=authority,
        authority_reference="函001",
    )


def test_two_lawyers_asking_for_one_detainee_at_once_get_one_booking(
    people, centres, detainee, verified
):
    shared_database()
    verified("lawyer")
    verified("duty")
    done, raised = collide(
        [
            request(people, centres, "lawyer", slot(hour=10)),
            request(people, centres, "duty", slot(hour=10, minute=30)),
        ]
    )
    assert len(done) == 1 and refused(raised) == ["booking.detainee_busy"]
    assert Booking.objects.count() == 1
    assert Deadline.objects.filter(rule_id="lawyer.meeting").count() == 1
    integrate_all()
    assert verify_log().ok


def test_one_lawyer_asking_for_two_detainees_at_once_gets_one_booking(
    people, centres, detainee, other_detainee, verified
):
    shared_database()
    verified("lawyer")
    done, raised = collide(
        [
            request(people, centres, "lawyer", slot(hour=14)),
            request(people, centres, "lawyer", slot(hour=14), name="李四", id_number=OTHER_ID),
        ]
    )
    assert len(done) == 1 and refused(raised) == ["booking.lawyer_busy"]
    assert Booking.objects.count() == 1


def test_two_staff_confirming_two_meetings_into_one_room_at_once_place_one(
    people, centres, rooms, detainee, other_detainee, verified, book
):
    shared_database()
    first = book("lawyer", when=slot(hour=9))
    second = book("duty", when=slot(hour=9, minute=30), name="李四", id_number=OTHER_ID)
    done, raised = collide(
        [
            lambda: services.confirm_booking(people["staff"], first, room=rooms["one"]),
            lambda: services.confirm_booking(people["colleague"], second, room=rooms["one"]),
        ]
    )
    assert len(done) == 1 and refused(raised) == ["booking.room_busy"]
    states = sorted(Booking.objects.values_list("state", flat=True))
    assert states == [BookingState.CONFIRMED, BookingState.REQUESTED]
    assert Deadline.objects.filter(state="met").count() == 1
    integrate_all()
    assert verify_log().ok
