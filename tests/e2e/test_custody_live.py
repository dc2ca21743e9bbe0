"""The custody area live: the medical desk's page is open; a wristband walks into an
interrogation room and reports a racing heart through the device gateway (HTTP,
as the embedded default's simulator does). Without a reload, the floor plan shows
the person in the room with the cameras asked to record, the camera's confirmation
turns the room red, and the medical desk gets the vital-sign toast — in English
when the desk chose English."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from casecenter import law
from casecenter.accounts.models import Organisation, OrganisationKind, Role
from casecenter.accounts.services import issue_api_token
from casecenter.cases.services import add_party
from casecenter.custody import services
from casecenter.custody.models import Camera, CameraCommand, Device, Zone
from casecenter.supervision import live
from casecenter.supervision.models import Alert
from tests.conftest import PASSWORD, valid_id
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def area(orgs, make_user, make_case, officers):
    """A center with one interrogation room and its camera, the medical desk, a
    suspect registered in ten minutes ago, and the device gateway's HTTP path."""
    center = Organisation.objects.create(
        code="zx", kind=OrganisationKind.CASE_CENTER, name="办案中心", parent=orgs["legal"]
    )
    room = Zone.objects.create(
        center=center,
        code="XW-1",
        name="讯问室一",
        name_en="Interrogation 1",
        kind="interrogation",
        x=0,
        y=0,
        w=20,
        h=14,
    )
    Camera.objects.create(zone=room, code="CAM-1")
    band = Device.objects.create(center=center, code="WB-01", kind="wristband")
    desk = make_user("desk", Role.CUSTODY_STAFF, sex="M")
    medic = make_user("medic", Role.MEDICAL)
    for user in (desk, medic):
        user.organisation = center
        user.save()
    case = make_case()
    suspect = add_party(officers["lead"], case, role="suspect", name="张三", id_number=valid_id())
    stay = services.register_entry(
        desk,
        center=center,
        party=suspect,
        wristband=band,
        searched_by=desk,
        identity_checked=True,
        at=timezone.now() - timedelta(minutes=10),
    )
    token = issue_api_token(desk, name="gateway")[1]
    gateway = Client()

    def post(*events):
        answer = gateway.post(
            "/api/devices/events",
            {"center": "zx", "events": list(events)},
            content_type="application/json",
            headers={"authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.content
        return answer.json()

    return SimpleNamespace(stay=stay, post=post)


def _enter(area, now):
    return area.post(
        {
            "kind": "presence",
            "device": "WB-01",
            "seq": 1,
            "ts": now.isoformat(),
            "zone": "XW-1",
            "event": "enter",
        }
    )


def _racing_heart(area, now):
    area.post(
        {
            "kind": "vitals",
            "device": "WB-01",
            "seq": 2,
            "ts": (now + timedelta(seconds=2)).isoformat(),
            "hr": 158,
            "bp": [150, 95],
            "spo2": 96,
        }
    )


def _vitals_alert() -> Alert:
    wait_for(lambda: Alert.objects.filter(rule_id="custody.vitals").exists())
    return Alert.objects.filter(rule_id="custody.vitals").latest("pk")


def _log_in(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_the_map_moves_and_the_medical_desk_hears_a_racing_heart(lively, live_server, page, area):
    _log_in(page, live_server, "medic")
    page.goto(f"{live_server.url}/custody/")
    plan = page.locator('[data-zone="XW-1"]')
    expect(plan).to_have_attribute("data-people", "0")
    page.evaluate("window.notReloaded = true")

    now = timezone.now()
    command = _enter(area, now)["commands"][0]
    expect(plan).to_have_attribute("data-people", "1")
    expect(plan).to_have_attribute("data-recording", "asked")
    expect(plan).to_contain_text("张三")  # the center's own desks see who they look after

    area.post(
        {
            "kind": "status",
            "device": "CAM-1",
            "seq": 1,
            "ts": (now + timedelta(seconds=1)).isoformat(),
            "recording": True,
            "audio": True,
            "command": command["id"],
        }
    )
    expect(plan).to_have_attribute("data-recording", "on")
    assert CameraCommand.objects.get(command_id=command["id"]).confirmed_at is not None

    _racing_heart(area, now)
    # the title is the rule's (custody/rules.py words it): the toast shows the alert's
    alert = _vitals_alert()
    toast = page.locator(f'[data-testid=toast][data-alert="{alert.pk}"]')
    expect(toast).to_contain_text(alert.title_zh)
    assert page.evaluate("window.notReloaded") is True
    toast.get_by_role("link", name=alert.title_zh).click()
    expect(page).to_have_url(f"{live_server.url}/alerts/{alert.pk}/")
    expect(page.locator(".explanation")).to_contain_text("158")

    page.goto("about:blank")
    wait_for(lambda: live.open_streams() == 0)


def test_the_english_medical_desk_hears_it_in_english(lively, live_server, page, area):
    """The language chosen with the header's switch (its cookie) is the stream's
    too: the toast's title, the page it links to and its fixed texts are English."""
    _log_in(page, live_server, "medic")
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/custody/")
    expect(page.locator('[data-zone="XW-1"] [data-testid=zone-name]')).to_have_text(
        "Interrogation 1"
    )
    now = timezone.now()
    _enter(area, now)
    _racing_heart(area, now)
    alert = _vitals_alert()
    toast = page.locator(f'[data-testid=toast][data-alert="{alert.pk}"]')
    expect(toast.locator(".toast-title")).to_have_text(alert.title_en)
    stay_link = toast.locator(".toast-case")
    expect(stay_link).to_have_text(re.compile(r"^Stay in the area\b"))
    expect(toast.get_by_role("button", name="Dismiss")).to_be_visible()
    # nothing Chinese but the person's name (masked where a title names them)
    text = toast.inner_text().replace("张三", "").replace(law.mask_name("张三"), "")
    assert not re.search(r"[\u3400-\u9fff]", text)
    stay_link.click()
    expect(page).to_have_url(f"{live_server.url}/custody/stays/{area.stay.pk}/")
    expect(page.get_by_test_id("stay-path")).to_contain_text("Interrogation 1")

    page.goto("about:blank")
    wait_for(lambda: live.open_streams() == 0)
