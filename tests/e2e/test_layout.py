"""The pages read at 1,366 × 768 in Chinese and in English (Chromium): every role's
menu is one row, the live map keeps names and case numbers on one line with a
readable people table beside the plan, the English map is English, and a camera
that reports a fault shows as failed on the plan."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from itertools import count

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from casecenter import law
from casecenter.cases import services as cases
from casecenter.custody import services as custody
from casecenter.custody import tracking
from casecenter.custody.models import Camera, Device, Zone
from casecenter.demo import custody as demo_custody
from casecenter.demo.data import DemoBuilder
from casecenter.measures import services as measures
from casecenter.supervision import live
from tests.conftest import valid_id
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: one demo user of every role (docs and the demo's login list name them)
ROLE_USERS = [
    "zhangwei",  # case officer
    "chenjing",  # case management
    "sunli",  # legal affairs
    "zhaogang",  # custody-area staff
    "maqun",  # commander
    "wangyi",  # medical desk
    "tianye",  # specialised unit
    "zhoujian",  # prosecutor
    "wufang",  # judge
    "zhengli",  # duty lawyer
    "sunhao",  # detention-centre staff
    "chenming",  # defence lawyer
    "admin",
]
LANGUAGES = ["zh-hans", "en"]
CJK = re.compile(r"[\u3400-\u9fff]")

#: Measures taken in the page: how many line boxes an element's text takes (its
#: text nodes' rectangles grouped by their top), the menu's items and rows, the
#: narrowest cell of the people table (in characters), where the map's parts are.
MEASURES_JS = """
window.lineCount = (el) => {
  const tops = new Set();
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
  }
  return tops.size;
};
const box = (selector) => document.querySelector(selector).getBoundingClientRect();
window.menu = () => {
  const nav = document.querySelector('header.top nav');
  const items = [...nav.children];
  return {
    items: items.map((a) => ({
      text: a.textContent.trim(),
      top: Math.round(a.getBoundingClientRect().top),
      lines: window.lineCount(a),
    })),
    navHeight: nav.getBoundingClientRect().height,
    itemHeight: items[0].getBoundingClientRect().height,
    overflows: nav.scrollWidth > nav.clientWidth,
  };
};
window.narrowestCell = (selector) => Math.min(...[...document.querySelectorAll(selector)].map(
  (td) => td.getBoundingClientRect().width / parseFloat(getComputedStyle(td).fontSize)));
window.mapLayout = () => {
  const plan = box('[data-testid=floorplan]');
  const side = box('[data-testid=in-area]');
  return {
    planRight: plan.right, planTop: plan.top, sideLeft: side.left, sideTop: side.top,
    alertsLeft: box('[data-testid=area-alerts]').left,
    width: document.documentElement.scrollWidth, window: window.innerWidth,
  };
};
"""


@pytest.fixture
def demo():
    """The demo's organisations, users and custody area (its zones have English names)."""
    users = DemoBuilder().organisations_and_users()
    center = demo_custody.build_center(users)
    return users, center


class Devices:
    """Device events applied as the ingesters apply them (``tracking.apply_events``),
    numbered per device, each arriving a moment after it happened (the past played
    as it happened); a camera confirms each command two seconds later."""

    def __init__(self, center):
        self.center = center
        self.seqs: dict[str, count] = {}

    def send(self, device: str, kind: str, at: datetime, **payload) -> None:
        seq = next(self.seqs.setdefault(device, count(1)))
        event = tracking.Event(
            center=self.center.code,
            kind=kind,
            device=device,
            seq=seq,
            device_time=at,
            payload=payload,
        )
        applied = tracking.apply_events([event], received_at=at + timedelta(milliseconds=300))
        for command in applied.commands:
            self.send(
                command.camera.code,
                "status",
                at + timedelta(seconds=2),
                recording=command.action == "record",
                audio=command.audio,
                command=command.command_id,
            )


@pytest.fixture
def in_area(demo):
    """Five suspects walked into the area by their wristbands' events: two detained
    long ago, one of them past the clock, in interrogation rooms, two in one waiting
    room, one in the room with the longest English name."""
    users, center = demo
    lead, partner = users["zhangwei"], users["lina"]
    devices = Devices(center)
    bands = iter(Device.objects.filter(center=center, kind="wristband").order_by("code"))
    now = timezone.now()
    people = [
        ("欧阳明辉", "XW-1", 30),
        ("司马建国", "XW-2", 20),
        ("张伟强", "HH-1", None),
        ("李国栋", "HH-1", None),
        ("诸葛文涛", "YC", None),
    ]
    stays = []
    for n, (name, zone, detained_hours) in enumerate(people):
        case = cases.accept_case(lead, kind="criminal", category="theft", title="电动车被盗案")
        cases.assign_officer(lead, case, partner, "assisting")
        party = cases.add_party(
            lead, case, role="suspect", name=name, id_number=valid_id(f"1985010{n + 1}", "131")
        )
        measure = None
        if detained_hours:
            measure = measures.start_measure(
                lead,
                case,
                party,
                "criminal_detention",
                started_at=now - timedelta(hours=detained_hours),
                officers=[lead, partner],
            )
        entered = now - timedelta(minutes=150 - 10 * n)
        band = next(bands)
        stays.append(
            custody.register_entry(
                users["zhaogang"],
                center=center,
                party=party,
                wristband=band,
                searched_by=users["zhaogang"],
                identity_checked=True,
                measure=measure,
                at=entered,
            )
        )
        for step, code in enumerate(["DJ", "ZL", zone]):
            at = entered + timedelta(minutes=3 * step)
            devices.send(band.code, "presence", at, zone=code, event="enter")
    return stays


def _as(page, live_server, user, language: str) -> None:
    """The browser logged in as ``user``, the language chosen by its cookie (as the
    header's switch sets it)."""
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            },
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url},
        ]
    )


@pytest.fixture
def wide(page, lively):
    """The browser at 1,366 × 768, with the measures on every page; at the end its
    pages' alert streams are closed before the test database goes."""
    page.set_viewport_size({"width": 1366, "height": 768})
    page.context.add_init_script(MEASURES_JS)
    yield page
    page.goto("about:blank")
    wait_for(lambda: live.open_streams() == 0)


def test_every_roles_menu_is_one_row_in_both_languages(live_server, wide, demo):
    users, _ = demo
    problems = []
    for username in ROLE_USERS:
        for language in LANGUAGES:
            _as(wide, live_server, users[username], language)
            wide.goto(f"{live_server.url}/")
            assert wide.locator("html").get_attribute("lang") == language
            menu = wide.evaluate("window.menu()")
            where = f"{username} ({language})"
            rows = {item["top"] for item in menu["items"]}
            if len(rows) != 1:
                problems.append(f"{where}: the menu takes {len(rows)} rows")
            if menu["navHeight"] > menu["itemHeight"] + 2 or menu["overflows"]:
                problems.append(f"{where}: the menu is {menu['navHeight']}px high")
            problems += [
                f"{where}: {item['text']!r} wraps" for item in menu["items"] if item["lines"] != 1
            ]
            assert len(menu["items"]) >= 2, where  # at least their own page and the API
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_map_keeps_names_and_case_numbers_on_one_line_beside_the_plan(
    live_server, wide, demo, in_area, language
):
    users, _ = demo
    _as(wide, live_server, users["zhaogang"], language)
    wide.goto(f"{live_server.url}/custody/")
    expect(wide.get_by_test_id("person-name")).to_have_count(len(in_area))
    for testid in ("person-name", "person-case"):
        for cell in wide.get_by_test_id(testid).all():
            text = cell.inner_text()
            assert cell.evaluate("el => window.lineCount(el)") == 1, f"{text} wraps"
    numbers = [s.case.number for s in in_area]
    assert sorted(wide.get_by_test_id("person-case").all_inner_texts()) == sorted(numbers)
    # every cell of the people table is wider than a few characters
    narrowest = wide.evaluate("window.narrowestCell('[data-testid=in-area] td')")
    assert narrowest >= 3
    # the people on the plan are one line each too
    for line in wide.locator("[data-testid=floorplan] .who li").all():
        assert line.evaluate("el => window.lineCount(el)") == 1
    # the plan and the side panel side by side, and nothing wider than the window
    layout = wide.evaluate("window.mapLayout()")
    assert layout["sideLeft"] >= layout["planRight"] and layout["alertsLeft"] == layout["sideLeft"]
    assert abs(layout["sideTop"] - layout["planTop"]) < 5
    assert layout["width"] <= layout["window"]


def test_the_english_map_and_stay_page_are_english(live_server, wide, demo, in_area):
    users, center = demo
    _as(wide, live_server, users["zhaogang"], "en")
    wide.goto(f"{live_server.url}/custody/")
    plan = wide.get_by_test_id("floorplan")
    for zone in Zone.objects.filter(center=center):
        expect(plan.locator(f'[data-zone="{zone.code}"] [data-testid=zone-name]')).to_have_text(
            zone.name_en
        )
    expect(wide.get_by_test_id("rec-legend")).to_contain_text("recording asked, not confirmed")
    names = [s.party.person.name for s in in_area] + [users["zhaogang"].display_name]

    def chinese_left(text: str) -> list[str]:
        for name in names:  # people's names have no English form (alerts mask them)
            text = text.replace(name, "").replace(law.mask_name(name), "")
        # a measure's English name gives the statute's term beside it on purpose:
        # "Criminal detention (刑事拘留)"
        text = re.sub(r"\((?:[\u3400-\u9fff]+)\)", "", text)
        return sorted(set(CJK.findall(text)))

    # the page as read: the menu, who is logged in, the map (the language switch names
    # each language in its own)
    shown = [wide.locator(s).inner_text() for s in ("header.top nav", "[data-testid=who]", "main")]
    assert chinese_left("\n".join(shown)) == []
    assert "Haidian Case-Handling Center" in wide.locator("h1").inner_text()

    wide.get_by_test_id("person-name").filter(has_text="欧阳明辉").get_by_role("link").click()
    path = wide.get_by_test_id("stay-path")
    expect(path).to_contain_text("Interrogation 1")
    expect(path.locator("td").first).to_have_text("Registration")
    facts = wide.locator("dl.facts").inner_text()
    assert chinese_left(facts + path.inner_text() + wide.locator("h1").inner_text()) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_camera_that_reports_a_fault_shows_as_failed_on_the_plan(
    live_server, wide, demo, in_area, language
):
    users, _ = demo
    Camera.objects.filter(code="ZX-CAM-XW-1-1").update(wanted=True, fault="disk_full")
    _as(wide, live_server, users["zhaogang"], language)
    wide.goto(f"{live_server.url}/custody/")
    room = wide.locator('[data-zone="XW-1"]')
    expect(room).to_have_attribute("data-recording", "failed")
    expect(room).to_have_class(re.compile(r"\brec-failed\b.*\boccupied\b"))
    expect(room.locator(".rec.failed")).to_be_visible()
    assert "ZX-CAM-XW-1-1: disk_full" in room.get_attribute("title")
    # the other rooms with people record as they should
    expect(wide.locator('[data-zone="XW-2"]')).to_have_attribute("data-recording", "on")
    # it stands out: a red frame, unlike a room that records
    colours = wide.evaluate(
        """() => ['XW-1', 'XW-2'].map((z) =>
             getComputedStyle(document.querySelector(`[data-zone="${z}"]`)).borderTopColor)"""
    )
    assert colours[0] == "rgb(179, 38, 30)" and colours[1] != colours[0]
    faults = wide.get_by_test_id("camera-faults")
    expect(faults).to_contain_text("ZX-CAM-XW-1-1")
    expect(faults).to_contain_text("disk_full")
    failed = "录像失败" if language == "zh-hans" else "recording failed"
    expect(faults).to_contain_text(failed)
    expect(wide.get_by_test_id("rec-legend")).to_contain_text(failed)
