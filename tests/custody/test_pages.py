"""The custody pages: the live map, entry registration from the case page, a stay."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from casecenter.audit.models import AuditEntry
from casecenter.custody.forms import parse_belongings
from casecenter.custody.models import Stay

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_map_shows_who_is_where_and_masks_names_for_others(
    center, suspect, bring_in, device_events, officers
):
    stay = bring_in(suspect())
    device_events("WB-00", "presence", zone="XW-1", event="enter")
    page = _client(center.desk).get("/custody/").content.decode()
    assert 'data-zone="XW-1"' in page and "嫌疑人" in page
    assert 'data-recording="asked"' in page
    assert AuditEntry.objects.filter(action="custody.map_viewed").count() == 1
    bystander = _client(officers["bystander"]).get("/custody/").content.decode()
    assert "嫌疑人" not in bystander and "嫌*" in bystander
    assert _client(officers["bystander"]).get(f"/custody/stays/{stay.pk}/").status_code == 404


def test_a_poll_renders_the_plan_only_and_is_not_audited_again(center, officers):
    client = _client(center.desk)
    client.get("/custody/")
    partial = client.get("/custody/", headers={"HX-Request": "true"}).content.decode()
    assert 'data-testid="floorplan"' in partial and "<html" not in partial
    assert AuditEntry.objects.filter(action="custody.map_viewed").count() == 1


def test_entry_registration_from_the_case_page(center, suspect, officers):
    party = suspect()
    lead = _client(officers["lead"])
    case_page = lead.get(f"/cases/{party.case_id}/").content.decode()
    assert f"/custody/enter/{party.pk}/" in case_page
    form = lead.get(f"/custody/enter/{party.pk}/")
    assert form.status_code == 200 and "WB-00" in form.content.decode()
    r = lead.post(
        f"/custody/enter/{party.pk}/",
        {
            "wristband": center.bands[2].pk,
            "searched_by": officers["lead"].pk,
            "identity_checked": "on",
            "belongings": "手机 x1\n钥匙×2",
        },
    )
    stay = Stay.objects.get()
    assert r.status_code == 302 and r.url == f"/custody/stays/{stay.pk}/"
    assert stay.wristband == center.bands[2]
    page = lead.get(r.url).content.decode()
    assert "钥匙 × 2" in page and 'data-testid="stay-path"' in page


def test_a_refused_entry_changes_nothing(center, suspect, officers):
    party = suspect()
    r = _client(officers["lead"]).post(
        f"/custody/enter/{party.pk}/",
        {"wristband": center.bands[0].pk, "searched_by": officers["lead"].pk},
    )
    assert r.status_code == 200 and not Stay.objects.exists()


def test_exit_and_the_desk_from_the_stay_page(center, suspect, bring_in, officers):
    stay = bring_in(suspect())
    lead = _client(officers["lead"])
    r = lead.post(
        f"/custody/stays/{stay.pk}/sessions/",
        {
            "zone": center.zones["XW-1"].pk,
            "kind": "interrogation",
            "officers": [officers["lead"].pk, officers["partner"].pk],
        },
    )
    assert r.status_code == 302 and stay.sessions.count() == 1
    lead.post(f"/custody/stays/{stay.pk}/exit/", {"reason": "释放"})
    stay.refresh_from_db()
    assert stay.exited_at is not None and stay.exit_reason == "释放"


LINE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=20
)


@given(st.lists(st.tuples(LINE_TEXT, st.integers(1, 999)), max_size=8))
def test_belongings_lines_parse_back(items):
    items = [(d.strip(), n) for d, n in items if d.strip() and "\n" not in d and "\r" not in d]
    items = [(d, n) for d, n in items if d == " ".join(d.split()) and not d[-1:].isdigit()]
    text = "\n".join(f"{d} x{n}" for d, n in items)
    assert parse_belongings(text) == items


@given(st.text(max_size=200))
def test_belongings_never_fail_and_never_make_empty_items(text):
    for description, quantity in parse_belongings(text):
        assert description.strip() and quantity >= 0


def test_the_centers_equipment_is_managed_in_the_admin(center, make_user):
    admin = make_user("root", "admin", is_staff=True, is_superuser=True)
    client = _client(admin)
    zones = client.get("/admin/custody/zone/").content.decode()
    assert "XW-1" in zones and "讯问室一" in zones
    r = client.post(
        "/admin/custody/device/add/",
        {"center": center.org.pk, "code": "WB-NEW", "kind": "wristband", "active": "on"},
    )
    assert r.status_code == 302
    assert client.get("/admin/custody/camera/").status_code == 200


def test_the_stay_page_shows_the_clock_the_arrival_started(center, suspect, officers):
    from datetime import timedelta

    from django.utils import timezone

    from casecenter.custody import services
    from casecenter.measures import services as measures

    party = suspect()
    arrival = timezone.now() - timedelta(hours=3)
    summons = measures.start_measure(
        officers["lead"],
        party.case,
        party,
        "summons",
        started_at=arrival,
        officers=[officers["lead"], officers["partner"]],
    )
    stay = services.register_entry(
        center.desk,
        center=center.org,
        party=party,
        wristband=center.bands[0],
        searched_by=center.desk,
        identity_checked=True,
        measure=summons,
        at=arrival,
    )
    page = _client(center.desk).get(f"/custody/stays/{stay.pk}/").content.decode()
    clocks = page[page.index('data-testid="stay-clocks"') :]
    assert "传唤、拘传持续时间" in clocks[:400]


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_belongings_are_photographed_once_and_served_only_to_those_who_may_see(
    center, suspect, bring_in, officers, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from casecenter.custody.models import Belonging

    settings.MEDIA_ROOT = tmp_path
    stay = bring_in(suspect())
    phone = Belonging.objects.create(stay=stay, description="手机")
    desk = _client(center.desk)
    url = f"/custody/stays/{stay.pk}/belongings/{phone.pk}/photo/"
    not_image = SimpleUploadedFile("x.png", b"<script>", content_type="image/png")
    desk.post(url, {"photo": not_image})
    phone.refresh_from_db()
    assert not phone.photo_sha256
    desk.post(url, {"photo": SimpleUploadedFile("p.png", _png(), content_type="image/png")})
    phone.refresh_from_db()
    assert len(phone.photo_sha256) == 64 and phone.photo.name.startswith("custody/belongings/")
    again = SimpleUploadedFile("q.png", _png(), content_type="image/png")
    desk.post(url, {"photo": again})
    phone.refresh_from_db()
    served = desk.get(url + "file/")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == _png()
    assert _client(officers["bystander"]).get(url + "file/").status_code == 404
    assert AuditEntry.objects.filter(action="custody.belonging_photographed").count() == 1


@pytest.mark.parametrize(("hours_ago", "state"), [(3, "ok"), (11, "near"), (13, "over")])
def test_the_map_shows_each_persons_summons_clock_beside_the_time_in_area(
    center, suspect, officers, device_events, hours_ago, state
):
    from datetime import timedelta

    from django.utils import timezone

    from casecenter.custody import services
    from casecenter.measures import services as measures

    party = suspect()
    arrival = timezone.now() - timedelta(hours=hours_ago)
    summons = measures.start_measure(
        officers["lead"],
        party.case,
        party,
        "summons",
        started_at=arrival,
        officers=[officers["lead"], officers["partner"]],
    )
    services.register_entry(
        center.desk,
        center=center.org,
        party=party,
        wristband=center.bands[0],
        searched_by=center.desk,
        identity_checked=True,
        measure=summons,
        at=arrival,
    )
    device_events("WB-00", "presence", zone="HH-1", event="enter")
    page = _client(center.desk).get("/custody/", headers={"HX-Request": "true"}).content.decode()
    cell = page[page.index('data-testid="stay-clock"') - 30 :]
    assert f'clock {state}" data-testid="stay-clock"' in cell[:70]
    assert "传唤、拘传持续时间" in cell[:300]
    assert ("超过" if state == "over" else "剩余") in cell[:400]
