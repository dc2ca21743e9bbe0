"""Need-to-know: the centre's staff see their centre's bookings and detainees, a
lawyer only their own bookings and that detainee masked; everyone else nothing.
Every read of a detainee's data is audited."""

from __future__ import annotations

import pytest

from casecenter.audit.models import AuditEntry
from casecenter.errors import NotFound, PermissionDenied
from casecenter.meetings import detainees, selectors
from casecenter.meetings.models import Detainee
from tests.meetings.conftest import DETAINEE_ID, slot

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["other_staff", "officer", "judge", "admin", "duty"])
def test_a_booking_is_not_found_by_anyone_but_its_lawyer_and_its_centres_staff(book, people, who):
    booking = book("lawyer")
    assert selectors.get_booking(people["lawyer"], booking.pk) == booking
    assert selectors.get_booking(people["colleague"], booking.pk) == booking
    with pytest.raises(NotFound) as caught:
        selectors.get_booking(people[who], booking.pk)
    assert caught.value.code == "booking.not_found"
    assert not selectors.visible_bookings(people[who]).exists()


def test_a_lawyer_lists_only_their_own_bookings(book, people):
    mine = book("lawyer")
    theirs = book("duty", when=slot(days=2))
    assert list(selectors.visible_bookings(people["lawyer"])) == [mine]
    assert list(selectors.visible_bookings(people["duty"])) == [theirs]
    assert set(selectors.visible_bookings(people["staff"])) == {mine, theirs}


def test_the_centres_staff_read_the_detainee_in_full_and_the_read_is_audited(
    book, people, detainee
):
    booking = book()
    view = selectors.read_detainee(people["staff"], detainee, booking=booking)
    assert (view.name, view.id_number, view.masked) == ("张三", DETAINEE_ID, False)
    assert view.case_number == "ZGC-X-2026-00012"
    entry = AuditEntry.objects.filter(action="meeting.detainee_read").get()
    assert entry.actor_id == people["staff"].pk and entry.data["basis"] == "centre_staff"


def test_a_lawyer_sees_their_own_bookings_detainee_masked_and_nothing_more(book, people, detainee):
    booking = book()
    view = selectors.read_detainee(people["lawyer"], detainee, booking=booking)
    assert view.masked and view.name == "张*" and view.id_number == detainee.id_number_masked
    assert "1988" not in view.id_number and view.case_number == "" and view.birth_date is None
    entry = AuditEntry.objects.filter(action="meeting.detainee_read").get()
    assert entry.data == {"basis": "own_booking", "booking": booking.pk, "masked": True}
    # without their booking, or through someone else's, they read nothing
    with pytest.raises(NotFound):
        selectors.read_detainee(people["lawyer"], detainee)
    other = book("duty", when=slot(days=2))
    with pytest.raises(NotFound):
        selectors.read_detainee(people["lawyer"], detainee, booking=other)


@pytest.mark.parametrize("who", ["other_staff", "officer", "judge", "admin", "lawyer"])
def test_nobody_else_reads_or_lists_the_centres_detainees(people, detainee, who):
    with pytest.raises(NotFound):
        selectors.read_detainee(people[who], detainee)
    with pytest.raises(NotFound):
        selectors.get_detainee(people[who], detainee.pk)
    if who == "other_staff":  # their own centre's list, without ours
        assert detainee not in selectors.centre_detainees(people[who])
    else:
        with pytest.raises(NotFound):
            selectors.centre_detainees(people[who])
    assert not AuditEntry.objects.filter(action="meeting.detainee_read").exists()


def test_the_detainees_name_and_number_are_encrypted_at_rest(detainee):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, id_number, id_number_index FROM meetings_detainee WHERE id = %s",
            [detainee.pk],
        )
        name, number, index = cursor.fetchone()
    assert name.startswith("v1:") and number.startswith("v1:")
    assert "张三" not in name and DETAINEE_ID not in number and DETAINEE_ID not in index
    assert Detainee.objects.get().id_number_masked == DETAINEE_ID[:6] + "*" * 8 + DETAINEE_ID[-4:]


def test_only_the_centres_staff_register_and_release_and_a_person_is_held_once(people, detainee):
    from casecenter.errors import Conflict

    for who in ("lawyer", "officer", "judge", "admin"):
        with pytest.raises(PermissionDenied):
            detainees.register_detainee(
                people[who],
                name="王五",
                id_number=DETAINEE_ID,
                handling_organisation="x",
                case_number="y",
            )
    with pytest.raises(PermissionDenied):
        detainees.release_detainee(people["other_staff"], detainee)
    with pytest.raises(Conflict) as twice:
        detainees.register_detainee(
            people["colleague"],
            name="张三",
            id_number=DETAINEE_ID.lower(),
            handling_organisation="中关村派出所",
            case_number="ZGC-X-2026-00012",
        )
    assert twice.value.code == "detainee.held"
    # held at another centre is another centre's record
    detainees.register_detainee(
        people["other_staff"],
        name="张三",
        id_number=DETAINEE_ID,
        handling_organisation="朝阳分局",
        case_number="CY-9",
    )
    detainees.release_detainee(people["staff"], detainee)
    with pytest.raises(Conflict):
        detainees.release_detainee(people["staff"], detainee)
    # released, the person may be received again
    again = detainees.register_detainee(
        people["staff"],
        name="张三",
        id_number=DETAINEE_ID,
        handling_organisation="中关村派出所",
        case_number="ZGC-X-2026-00099",
    )
    assert again.pk != detainee.pk and Detainee.objects.count() == 3
