"""The meetings pages through Django's test client, for a lawyer and for the
centre's staff; need-to-know as 404; a refused post changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casecenter.audit.models import AuditEntry
from casecenter.meetings import services
from casecenter.meetings.models import Booking, BookingState, Detainee, Lawyer, LawyerState
from casecenter.supervision.models import Deadline
from tests.meetings.conftest import DETAINEE_ID, OTHER_ID, licence_number, slot

pytestmark = pytest.mark.django_db


def messages_of(page: str) -> str:
    found = re.search(r'<ul class="messages">(.*?)</ul>', page, re.S)
    return found.group(1) if found else ""


@pytest.fixture
def browser(people):
    def client_for(key: str, language: str = "") -> Client:
        client = Client()
        if language:
            client.cookies["django_language"] = language
        client.force_login(people[key])
        return client

    return client_for


def test_the_staff_desk_shows_the_requests_with_their_clock_most_urgent_first(
    browser, book, people, rooms, other_detainee
):
    fresh = book("lawyer", when=slot(days=2))
    late = book("duty", when=slot(days=3), at=timezone.now() - timedelta(hours=50))
    page = browser("staff").get("/meetings/").content.decode()
    requests = page.split('data-testid="requests"')[1].split("</table>")[0]
    assert requests.index(late.number) < requests.index(fresh.number)  # overdue first
    assert "已超期" in requests  # its clock, breached
    assert 'data-testid="requests-count">2<' in page
    assert "张*" in page and "张三" not in page  # lists mask the detainee's name


def test_the_desk_lists_todays_meetings(browser, book, people, rooms):
    booking = book()
    services.confirm_booking(people["staff"], booking, room=rooms["one"])
    now = timezone.now()  # moved to this very moment: a meeting of today at any hour
    Booking.objects.filter(pk=booking.pk).update(starts_at=now, ends_at=now + timedelta(hours=1))
    page = browser("staff").get("/meetings/").content.decode()
    today = page.split('data-testid="today"')[1].split("</table>")[0]
    assert booking.number in today


def test_a_lawyer_sees_their_licence_and_own_bookings_only(browser, book):
    mine = book("lawyer")
    theirs = book("duty", when=slot(days=2))
    page = browser("lawyer").get("/meetings/").content.decode()
    assert mine.number in page and theirs.number not in page
    assert 'data-testid="new-booking"' in page and 'data-testid="licence-state"' in page


def test_the_pages_speak_chinese_and_english_when_asked(browser, book):
    book()
    page = browser("staff", "en").get("/meetings/").content.decode()
    assert "Requests to arrange" in page and "Remote lawyer meetings" in page
    page = browser("staff").get("/meetings/").content.decode()  # Chinese by default
    assert "待安排的会见申请" in page and "远程律师会见" in page


@pytest.mark.parametrize("who", ["officer", "judge"])
@pytest.mark.parametrize(
    "url",
    [
        "/meetings/",
        "/meetings/new/",
        "/meetings/lawyer/",
        "/meetings/detainees/",
        "/meetings/lawyers/",
    ],
)
def test_the_meetings_pages_are_not_found_by_police_or_judges(browser, who, url):
    assert browser(who).get(url).status_code == 404


@pytest.mark.parametrize("who", ["other_staff", "officer", "judge", "duty", "admin"])
def test_a_booking_page_is_not_found_without_need_to_know_and_nothing_is_read(
    browser, book, rooms, who
):
    booking = book("lawyer")
    client = browser(who)
    assert client.get(f"/meetings/{booking.pk}/").status_code == 404
    r = client.post(f"/meetings/{booking.pk}/confirm/", {"room": rooms["one"].pk})
    assert r.status_code == 404
    assert client.post(f"/meetings/{booking.pk}/cancel/", {}).status_code == 404
    assert not AuditEntry.objects.filter(action="meeting.detainee_read").exists()
    booking.refresh_from_db()
    assert booking.state == BookingState.REQUESTED


def test_the_staff_confirm_from_the_booking_page_and_the_clock_is_met(browser, book, people, rooms):
    booking = book()
    client = browser("staff")
    page = client.get(f"/meetings/{booking.pk}/").content.decode()
    assert "张三" in page  # the centre's own record, its name read in full (audited)
    assert DETAINEE_ID not in page and DETAINEE_ID[-4:] in page  # the number masked
    assert 'data-testid="confirm"' in page and 'data-testid="refuse"' in page
    assert 'data-testid="cancel"' not in page
    assert 'data-rule="lawyer.meeting"' in page
    r = client.post(f"/meetings/{booking.pk}/confirm/", {"room": rooms["two"].pk}, follow=True)
    assert r.status_code == 200
    booking.refresh_from_db()
    assert booking.state == BookingState.CONFIRMED and booking.room == rooms["two"]
    assert Deadline.objects.get(subject=booking.subject).state == "met"


def test_the_lawyer_sees_the_detainee_masked_and_may_cancel(browser, book):
    booking = book()
    client = browser("lawyer")
    page = client.get(f"/meetings/{booking.pk}/").content.decode()
    assert "张*" in page and "张三" not in page and DETAINEE_ID not in page
    assert 'data-testid="cancel"' in page and 'data-testid="confirm"' not in page
    entry = AuditEntry.objects.get(action="meeting.detainee_read")
    assert entry.data["masked"] is True
    r = client.post(f"/meetings/{booking.pk}/cancel/", {"reason": "另约时间"}, follow=True)
    assert r.status_code == 200
    booking.refresh_from_db()
    assert booking.state == BookingState.CANCELLED


def test_a_lawyer_books_through_the_form(browser, verified, detainee, centres):
    verified("lawyer")
    day = (timezone.localdate() + timedelta(days=2)).isoformat()
    form = {
        "centre": centres["centre"].pk,
        "name": "张三",
        "id_number": DETAINEE_ID,
        "day": day,
        "start": "09:30",
        "end": "10:30",
        "authority": "engagement",
        "authority_reference": "明德委字018号",
    }
    r = browser("lawyer").post("/meetings/new/", form)
    booking = Booking.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/meetings/{booking.pk}/"
    assert timezone.localtime(booking.starts_at).strftime("%H:%M") == "09:30"


def test_a_refused_booking_form_keeps_what_was_typed_and_writes_nothing(
    browser, verified, detainee, centres
):
    verified("lawyer")
    lawyer = browser("lawyer")  # logged in (an audited login) before counting
    before = AuditEntry.objects.count()
    form = {
        "centre": centres["centre"].pk,
        "name": "张三",
        "id_number": DETAINEE_ID,
        "day": (timezone.localdate() + timedelta(days=2)).isoformat(),
        "start": "19:30",
        "end": "20:30",
        "authority": "engagement",
        "authority_reference": "明德委字018号",
    }
    r = lawyer.post("/meetings/new/", form)
    assert r.status_code == 422
    page = r.content.decode()
    assert "8:00至20:00" in page and 'value="明德委字018号"' in page
    assert not Booking.objects.exists() and AuditEntry.objects.count() == before


def test_an_unverified_lawyer_is_sent_to_the_licence_page(browser, people):
    page = browser("lawyer").get("/meetings/new/").content.decode()
    assert 'data-testid="not-verified"' in page and 'data-testid="booking-form"' not in page


def test_a_lawyer_registers_the_licence_and_the_staff_verify_it(browser, people):
    r = browser("lawyer").post("/meetings/lawyer/", {"licence_number": licence_number("M")})
    assert r.status_code == 302
    lawyer = Lawyer.objects.get()
    page = browser("lawyer").get("/meetings/lawyer/").content.decode()
    assert lawyer.licence_number in page and "licence-state" in page
    listing = browser("staff").get("/meetings/lawyers/?state=pending").content.decode()
    assert f'data-lawyer="{people["lawyer"].username}"' in listing
    browser("staff").post(f"/meetings/lawyers/{lawyer.pk}/verify/")
    lawyer.refresh_from_db()
    assert lawyer.state == LawyerState.VERIFIED
    assert (
        'data-testid="licence-form"'
        not in browser("lawyer").get("/meetings/lawyer/").content.decode()
    )


def test_a_wrong_licence_number_is_told_on_the_page_and_writes_nothing(browser):
    r = browser("lawyer").post(
        "/meetings/lawyer/", {"licence_number": "11012010910012345"}, follow=True
    )
    assert "第9位" in messages_of(r.content.decode())
    # nothing written but the login itself
    assert not Lawyer.objects.exists()
    assert not AuditEntry.objects.exclude(action="account.login").exists()


def test_the_staff_register_and_release_detainees_on_their_page(browser, people):
    client = browser("staff")
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    r = client.post(
        "/meetings/detainees/",
        {
            "name": "李四",
            "id_number": OTHER_ID,
            "handling_organisation": "学院路派出所",
            "case_number": "XYL-X-2026-00003",
            "received_at": now,
        },
    )
    assert r.status_code == 302
    detainee = Detainee.objects.get()
    page = client.get("/meetings/detainees/").content.decode()
    assert "李*" in page and OTHER_ID not in page and "学院路派出所" in page
    client.post(f"/meetings/detainees/{detainee.pk}/release/", {"at": now})
    detainee.refresh_from_db()
    assert detainee.released_at is not None


def test_a_bad_detainee_registration_writes_nothing(browser):
    staff = browser("staff")  # logged in (an audited login) before counting
    before = AuditEntry.objects.count()
    r = staff.post(
        "/meetings/detainees/",
        {
            "name": "李四",
            "id_number": OTHER_ID[:-1] + "0",
            "handling_organisation": "x",
            "case_number": "y",
            "received_at": "2026-01-01T08:00",
        },
        follow=True,
    )
    assert "校验码" in messages_of(r.content.decode())
    assert not Detainee.objects.exists() and AuditEntry.objects.count() == before


def test_the_staff_hold_the_meeting_and_each_side_gets_its_join_link(browser, book, people, rooms):
    yesterday = slot(days=-1)
    booking = book(when=yesterday, at=timezone.now() - timedelta(days=3))
    services.confirm_booking(
        people["staff"], booking, room=rooms["one"], at=timezone.now() - timedelta(days=2)
    )
    staff = browser("staff")
    assert 'data-testid="start"' in staff.get(f"/meetings/{booking.pk}/").content.decode()
    at = timezone.localtime(yesterday[0] + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M")
    staff.post(f"/meetings/{booking.pk}/start/", {"at": at})
    booking.refresh_from_db()
    assert booking.in_progress
    staff_page = staff.get(f"/meetings/{booking.pk}/").content.decode()
    lawyer_page = browser("lawyer").get(f"/meetings/{booking.pk}/").content.decode()
    assert booking.centre_link.replace("&", "&amp;") in staff_page
    assert booking.lawyer_link.replace("&", "&amp;") in lawyer_page
    assert booking.centre_link not in lawyer_page and 'data-testid="end"' in staff_page
    staff.post(
        f"/meetings/{booking.pk}/end/", {"at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}
    )
    booking.refresh_from_db()
    assert booking.ended_at is not None


FORM_FIELDS = [
    "centre",
    "name",
    "id_number",
    "day",
    "start",
    "end",
    "authority",
    "authority_reference",
    "room",
    "reason",
    "at",
    "licence_number",
    "handling_organisation",
    "case_number",
    "received_at",
]
form_values = st.one_of(
    st.text(max_size=30),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(
        [
            "2026-12-08",
            "10:00",
            "25:61",
            "0001-01-01T00:00",
            "9999-12-31T23:59",
            "engagement",
            "legal_aid",
            "1",
            DETAINEE_ID,
            "\x00",
        ]
    ),
)


@pytest.fixture
def fuzz_pages(browser, book):
    booking = book()
    return {"staff": browser("staff"), "lawyer": browser("lawyer"), "booking": booking}


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(
        [
            "/meetings/new/",
            "/meetings/{b}/confirm/",
            "/meetings/{b}/refuse/",
            "/meetings/{b}/cancel/",
            "/meetings/{b}/start/",
            "/meetings/{b}/end/",
            "/meetings/{b}/missed/",
            "/meetings/lawyer/",
            "/meetings/lawyers/{l}/refuse/",
            "/meetings/detainees/",
            "/meetings/detainees/{d}/release/",
        ]
    ),
    who=st.sampled_from(["staff", "lawyer"]),
    form=st.dictionaries(st.sampled_from(FORM_FIELDS), form_values, max_size=8),
)
def test_no_form_input_makes_a_meetings_page_answer_500(fuzz_pages, path, who, form):
    b = fuzz_pages["booking"]
    url = path.format(b=b.pk, l=b.lawyer_id, d=b.detainee_id)
    r = fuzz_pages[who].post(url, form)
    assert r.status_code < 500, (url, form)
