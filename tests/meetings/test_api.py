"""Remote meetings through the JSON API, end to end for a lawyer and the centre's
staff; need-to-know as 404, conflicts as 409, bad input as 422 changing nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casecenter.audit.models import AuditEntry
from casecenter.meetings.models import Booking, Detainee, Lawyer
from casecenter.supervision.models import Deadline
from tests.meetings.conftest import DETAINEE_ID, OTHER_ID, licence_number, slot
from tests.supervision.conftest import post

pytestmark = pytest.mark.django_db

BASE = "/api/meetings"


def slot_json(**kw) -> dict:
    starts_at, ends_at = slot(**kw)
    return {"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()}


@pytest.fixture
def clients(api, people):
    return {key: api(user.username) for key, user in people.items()}


def booking_body(centres, **extra) -> dict:
    return {
        "centre_id": centres["centre"].pk,
        "name": "张三",
        "id_number": DETAINEE_ID,
        **slot_json(),
        "authority": "engagement",
        "authority_reference": "（2026）明德委字第018号",
        **extra,
    }


def test_the_whole_walk_of_a_meeting_through_the_api(clients, centres, people, rooms):
    lawyer, staff = clients["lawyer"], clients["staff"]
    assert lawyer.get(f"{BASE}/lawyer").status_code == 404
    r = post(lawyer, f"{BASE}/lawyer", {"licence_number": licence_number("M")})
    assert r.status_code == 201, r.content
    me = r.json()
    assert (me["state"], me["practice"], me["first_licensed"]) == ("pending", "1", 2010)

    # the centre registers its detainee; the staff verify the lawyer
    r = post(
        staff,
        f"{BASE}/detainees",
        {
            "name": "张三",
            "id_number": DETAINEE_ID,
            "handling_organisation": "中关村派出所",
            "case_number": "ZGC-X-2026-00012",
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["name"] == "张*" and r.json()["id_number"].count("*") == 8
    assert [x["id"] for x in staff.get(f"{BASE}/lawyers?state=pending").json()] == [me["id"]]
    r = post(lawyer, f"{BASE}/bookings", booking_body(centres))
    assert r.status_code == 403 and r.json()["code"] == "booking.lawyer_unverified"
    r = post(staff, f"{BASE}/lawyers/{me['id']}/verify", {})
    assert r.status_code == 200 and r.json()["state"] == "verified"
    assert r.json()["verified_by"] == str(people["staff"])

    # the lawyer books
    centres_list = lawyer.get(f"{BASE}/centres").json()
    assert {c["code"] for c in centres_list} == {"cy-kss", "hd-kss"}
    r = post(lawyer, f"{BASE}/bookings", booking_body(centres))
    assert r.status_code == 201, r.content
    booking = r.json()
    assert booking["state"] == "requested" and booking["detainee_name"] == "张*"
    assert booking["number"].startswith("HD-KSS-HJ-")
    assert booking["clock"]["state"] == "running" and booking["clock"]["basis"] == "CPL Art. 39"
    assert booking["join_link"] is None

    # the staff see the request with its clock, read it (the detainee in full)
    [listed] = staff.get(f"{BASE}/bookings?state=requested").json()
    assert listed["id"] == booking["id"] and listed["clock"]["due_at"]
    detail = staff.get(f"{BASE}/bookings/{booking['id']}").json()
    assert detail["detainee"]["name"] == "张三" and detail["detainee"]["masked"] is False
    mine = lawyer.get(f"{BASE}/bookings/{booking['id']}").json()
    assert mine["detainee"]["name"] == "张*" and mine["detainee"]["masked"] is True
    assert AuditEntry.objects.filter(action="meeting.detainee_read").count() == 2

    # confirmed in a room: the clock is met
    rooms_list = staff.get(f"{BASE}/rooms").json()
    assert {r["code"] for r in rooms_list} == {"r1", "r2"}
    r = post(staff, f"{BASE}/bookings/{booking['id']}/confirm", {"room_id": rooms["one"].pk})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "confirmed" and r.json()["room"] == "远程会见室一"
    assert r.json()["clock"]["state"] == "met"

    # the lawyer cancels it before it starts
    r = post(lawyer, f"{BASE}/bookings/{booking['id']}/cancel", {"reason": "已与当事人通话"})
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert r.json()["cancel_reason"] == "已与当事人通话"


def test_the_staff_hold_a_meeting_through_the_api_and_each_side_gets_its_own_link(
    clients, book, people, rooms
):
    from datetime import timedelta

    yesterday = slot(days=-1)
    booking = book(when=yesterday, at=timezone.now() - timedelta(days=3))
    staff, lawyer = clients["staff"], clients["lawyer"]
    from casecenter.meetings import services

    services.confirm_booking(
        people["staff"], booking, room=rooms["one"], at=timezone.now() - timedelta(days=2)
    )
    at = (yesterday[0] + timedelta(minutes=3)).isoformat()
    r = post(staff, f"{BASE}/bookings/{booking.pk}/start", {"at": at})
    assert r.status_code == 200, r.content
    held = r.json()
    assert held["state"] == "held" and held["in_progress"] is True
    assert held["join_link"].startswith("casecenter-video://") and "/centre?" in held["join_link"]
    theirs = lawyer.get(f"{BASE}/bookings/{booking.pk}").json()["join_link"]
    assert "/lawyer?" in theirs and theirs != held["join_link"]
    r = post(lawyer, f"{BASE}/bookings/{booking.pk}/end", {})
    assert r.status_code == 403  # only the centre records the end
    r = staff.post(f"{BASE}/bookings/{booking.pk}/end", content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["ended_at"] and r.json()["join_link"] is None


def test_the_api_gives_409_for_a_conflict_with_the_other_booking(clients, book, centres, verified):
    first = book("duty")
    verified("lawyer")
    r = post(clients["lawyer"], f"{BASE}/bookings", booking_body(centres))
    assert r.status_code == 409, r.content
    assert r.json()["code"] == "booking.detainee_busy"
    assert r.json()["facts"]["starts_at"] and first.number not in r.content.decode()
    assert Booking.objects.count() == 1


def test_a_detainee_not_matched_is_one_404_and_its_look_up_is_audited(
    clients, book, centres, other_detainee
):
    book(when=slot(days=3))
    misses = []
    for name, number in (("张三", OTHER_ID), ("李四", DETAINEE_ID), ("王五", OTHER_ID)):
        r = post(
            clients["lawyer"],
            f"{BASE}/bookings",
            booking_body(centres, name=name, id_number=number),
        )
        assert r.status_code == 404
        misses.append(r.json())
    assert len({(m["code"], m["message_zh"], m["message_en"]) for m in misses}) == 1
    assert AuditEntry.objects.filter(action="meeting.detainee_not_matched").count() == 3


@pytest.mark.parametrize("who", ["other_staff", "officer", "judge", "duty", "admin"])
def test_a_booking_is_404_to_everyone_without_need_to_know(clients, book, rooms, who):
    booking = book("lawyer")
    client = clients[who]
    assert client.get(f"{BASE}/bookings/{booking.pk}").status_code == 404
    assert client.get(f"{BASE}/bookings").json() == []
    for action, body in (("confirm", {"room_id": rooms["one"].pk}), ("cancel", {}), ("start", {})):
        r = post(client, f"{BASE}/bookings/{booking.pk}/{action}", body)
        assert r.status_code == 404, (action, r.content)
    assert not AuditEntry.objects.filter(action="meeting.detainee_read").exists()


def test_the_detainee_record_is_404_outside_the_centre(clients, detainee):
    assert clients["staff"].get(f"{BASE}/detainees/{detainee.pk}").json()["name"] == "张三"
    for who in ("other_staff", "lawyer", "officer", "judge"):
        assert clients[who].get(f"{BASE}/detainees/{detainee.pk}").status_code == 404
        r = post(clients[who], f"{BASE}/detainees/{detainee.pk}/release", {})
        assert r.status_code == 404
    assert clients["officer"].get(f"{BASE}/detainees").status_code == 404
    assert clients["other_staff"].get(f"{BASE}/detainees").json() == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"starts_at": "not a time"}, 422, "invalid_input"),
        ({"authority": "power_of_attorney"}, 422, "invalid_input"),
        ({"centre_id": 0}, 422, "invalid_input"),
        ({"name": ""}, 422, "invalid_input"),
        ({"id_number": "11010819880512321"}, 422, "id_number.length"),
        ({"id_number": DETAINEE_ID[:-1] + "0"}, 422, "id_number.check_digit"),
        ({"name": "张\x00三"}, 422, "invalid_input"),
        ({**slot_json(minutes=10)}, 422, "booking.slot_length"),
        ({**slot_json(hour=6)}, 422, "booking.slot_hours"),
        ({**slot_json(days=-2)}, 422, "booking.slot_past"),
        ({"starts_at": "9999-01-01T10:00:00+08:00"}, 422, "invalid_input"),
        ({"centre_id": 2**60}, 422, "invalid_input"),
    ],
)
def test_bad_booking_input_is_4xx_json_and_writes_nothing(
    clients, centres, verified, detainee, body, status, code
):
    verified("lawyer")
    before = AuditEntry.objects.count()
    r = post(clients["lawyer"], f"{BASE}/bookings", booking_body(centres, **body))
    assert r.status_code == status, r.content
    assert r.json()["code"] == code
    assert not Booking.objects.exists() and not Deadline.objects.exists()
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/lawyer", {"licence_number": "1101201011001234X"}),
        ("/lawyer", {"licence_number": "x" * 41}),
        ("/lawyer", {}),
        (
            "/detainees",
            {"name": "王五", "id_number": "123", "handling_organisation": "x", "case_number": "y"},
        ),
        (
            "/detainees",
            {
                "name": "王五",
                "id_number": OTHER_ID,
                "handling_organisation": "",
                "case_number": "y",
            },
        ),
        (
            "/detainees",
            {
                "name": "王五",
                "id_number": OTHER_ID,
                "handling_organisation": "x",
                "case_number": "y",
                "received_at": "2100-01-01T00:00:00+08:00",
            },
        ),
    ],
)
def test_bad_registration_input_is_422_and_writes_nothing(clients, url, body):
    client = clients["lawyer"] if url == "/lawyer" else clients["staff"]
    before = AuditEntry.objects.count()
    r = post(client, f"{BASE}{url}", body)
    assert r.status_code == 422, r.content
    assert "code" in r.json() and "message" in r.json()
    assert not Lawyer.objects.exists() and not Detainee.objects.exists()
    assert AuditEntry.objects.count() == before


ENDPOINTS = [
    "/lawyer",
    "/lawyers/{lawyer}/verify",
    "/lawyers/{lawyer}/refuse",
    "/detainees",
    "/detainees/{detainee}/release",
    "/bookings",
    "/bookings/{booking}/confirm",
    "/bookings/{booking}/refuse",
    "/bookings/{booking}/cancel",
    "/bookings/{booking}/start",
    "/bookings/{booking}/end",
    "/bookings/{booking}/missed",
]
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False),
        st.text(max_size=30),
        st.sampled_from(["2026-12-08T10:00:00+08:00", "engagement", "legal_aid", DETAINEE_ID]),
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)
fields = st.sampled_from(
    [
        "licence_number",
        "reason",
        "name",
        "id_number",
        "handling_organisation",
        "case_number",
        "received_at",
        "at",
        "centre_id",
        "starts_at",
        "ends_at",
        "authority",
        "authority_reference",
        "room_id",
    ]
)


@pytest.fixture
def fuzz_target(clients, book, people):
    booking = book()
    return {
        "clients": clients,
        "ids": {
            "lawyer": booking.lawyer_id,
            "detainee": booking.detainee_id,
            "booking": booking.pk,
        },
    }


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    who=st.sampled_from(["staff", "lawyer"]),
    body=st.one_of(st.dictionaries(fields, json_values, max_size=6), json_values),
)
def test_no_input_makes_the_meetings_api_answer_500(fuzz_target, endpoint, who, body):
    url = BASE + endpoint.format(**fuzz_target["ids"])
    r = post(fuzz_target["clients"][who], url, body)
    assert r.status_code < 500, (url, body, r.content)
