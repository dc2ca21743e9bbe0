"""The pages read at 1,366 × 768 in Chinese and in English (Chromium): every role's
menu is one row."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from casecenter.demo import custody as demo_custody
from casecenter.demo.data import DemoBuilder
from casecenter.supervision import live
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
