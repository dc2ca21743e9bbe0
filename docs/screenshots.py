"""Take the README's screenshots from a running demo (``./run demo`` in another shell).

.venv/bin/python docs/screenshots.py [http://127.0.0.1:8000]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).parent / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def main() -> None:
    profile = tempfile.mkdtemp()
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            profile,
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            headless=True,
            args=ARGS,
            viewport={"width": 1280, "height": 860},
        )
        page = ctx.new_page()
        page.goto(f"{BASE}/login/")
        page.fill("#id_username", "zhangwei")
        page.fill("#id_password", "casecenter-demo")
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=who]")
        page.screenshot(path=OUT / "desk.png")
        page.goto(f"{BASE}/cases/?state=investigating&mine=1")
        page.screenshot(path=OUT / "cases.png")
        page.click("#rows table tbody tr:first-child a")
        page.wait_for_selector("[data-testid=timeline]")
        page.screenshot(path=OUT / "case.png", full_page=True)
        with page.expect_navigation():
            page.select_option("select[name=language]", "en")
        page.screenshot(path=OUT / "case-en.png", full_page=True)
        with page.expect_navigation():
            page.select_option("select[name=language]", "zh-hans")
        page.goto(f"{BASE}/alerts/")
        page.screenshot(path=OUT / "alerts.png")
        page.click("main a[href^='/alerts/']")
        page.wait_for_load_state()
        page.screenshot(path=OUT / "alert.png", full_page=True)
        page.goto(f"{BASE}/deadlines/")
        page.screenshot(path=OUT / "deadlines.png")
        ctx.close()
    shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
