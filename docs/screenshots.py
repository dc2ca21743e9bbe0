"""Take the README's screenshots from a running demo (``./run demo`` in another shell).

.venv/bin/python docs/screenshots.py [http://127.0.0.1:8000] [fasttrack]

With ``fasttrack``, only the fast track's and the hand-overs' screenshots; with
``custody``, only the custody area's (the live map, a stay, a recording alert);
with ``security``, sign-in and need-to-know (the commander's second factor, a
break-glass read and its review, a lockout). ``security`` needs the demo's data
folder in ``CASECENTER_DATA_DIR`` (it asks ``casecenter totp`` for a code) and
ends with the address 127.0.0.1 locked out: ``casecenter unlock fengxue --ip
127.0.0.1`` lifts it.
"""

from __future__ import annotations

import shutil
import subprocess
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


def fast_track(pw) -> None:
    """The seed's 30-hour track as the judge sees it, the dashboard, and a package
    verified on arrival as the prosecutor sees it."""
    browser = pw.chromium.launch(
        executable_path=shutil.which("chromium") or "/usr/bin/chromium", headless=True, args=ARGS
    )

    def login(username: str):
        page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
        page.goto(f"{BASE}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", "casecenter-demo")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    judge = login("wufang")
    judge.goto(f"{BASE}/fast-track/")
    judge.screenshot(path=OUT / "fasttrack-dashboard.png")
    judge.click("[data-testid=fast-tracks] tr:has-text('30小时') a")
    judge.wait_for_selector("[data-testid=stages]")
    judge.screenshot(path=OUT / "fasttrack.png", full_page=True)
    prosecutor = login("zhoujian")
    prosecutor.goto(f"{BASE}/exchange/")
    prosecutor.click("[data-testid=inbox] tr[data-state=accepted] a")
    prosecutor.wait_for_selector("[data-testid=entries]")
    prosecutor.screenshot(path=OUT / "package.png", full_page=True)
    browser.close()


def custody(pw) -> None:
    """The center's desk at 1,366 px: the live map with the demo's broken cameras, the
    recording alert of the camera that reports disk_full, and that person's stay."""
    browser = pw.chromium.launch(
        executable_path=shutil.which("chromium") or "/usr/bin/chromium", headless=True, args=ARGS
    )
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.goto(f"{BASE}/login/")
    page.fill("#id_username", "zhaogang")
    page.fill("#id_password", "casecenter-demo")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{BASE}/custody/")
    page.wait_for_timeout(1000)
    page.screenshot(path=OUT / "custody-map.png", full_page=True)
    page.goto(f"{BASE}/alerts/?rule=custody.recording&group=0")
    page.click("a:has-text('候问室5')")
    page.wait_for_selector("[data-testid=alert-subject]")
    page.screenshot(path=OUT / "custody-alert.png", full_page=True)
    page.click("[data-testid=alert-subject]")
    page.wait_for_selector("[data-testid=stay-path]")
    page.screenshot(path=OUT / "custody-stay.png", full_page=True)
    browser.close()


def security(pw) -> None:
    """The commander's second factor, an officer's break-glass read of a case of
    the station and its review by the case-management group, and a lockout."""
    browser = pw.chromium.launch(
        executable_path=shutil.which("chromium") or "/usr/bin/chromium", headless=True, args=ARGS
    )

    def login(username: str, password: str = "casecenter-demo"):  # noqa: S107 - the demo's
        page = browser.new_context(viewport={"width": 1280, "height": 760}).new_page()
        page.goto(f"{BASE}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    commander = login("maqun")
    commander.wait_for_selector("[data-testid=mfa-verify]")
    commander.screenshot(path=OUT / "mfa-verify.png")
    cli = Path(sys.executable).parent / "casecenter"
    code = subprocess.run([cli, "totp", "maqun"], capture_output=True, text=True, check=True)  # noqa: S603
    commander.fill("input[name=code]", code.stdout.split()[-1])
    commander.click("[data-testid=mfa-verify] button[type=submit]")
    commander.wait_for_selector("[data-testid=who]")

    officer = login("wangqiang")
    officer.goto(f"{BASE}/cases/?state=investigating")
    links = officer.locator("#rows table tbody tr a").evaluate_all("as => as.map(a => a.href)")
    for href in links:
        officer.goto(href)
        if officer.locator("[data-testid=denied]").count():
            break
    officer.fill(
        "textarea[name=reason]", "同案嫌疑人今晨在学院路落网，需核对其联系人电话以便当日提审"
    )
    officer.click("[data-testid=denied] button[type=submit]")
    officer.wait_for_selector("[data-testid=timeline]")
    manager = login("chenjing")
    manager.goto(f"{BASE}/cases/break-glass/")
    manager.screenshot(path=OUT / "break-glass-review.png", full_page=True)

    for n in range(5):
        page = login("fengxue", f"a-wrong-guess-{n}")
    page.screenshot(path=OUT / "locked-out.png")
    browser.close()


def main() -> None:
    if "security" in sys.argv[2:]:
        with sync_playwright() as pw:
            security(pw)
        return
    if "fasttrack" in sys.argv[2:]:
        with sync_playwright() as pw:
            fast_track(pw)
        return
    if "custody" in sys.argv[2:]:
        with sync_playwright() as pw:
            custody(pw)
        return
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
        portal(pw, page)
        fast_track(pw)
        ctx.close()
    shutil.rmtree(profile, ignore_errors=True)


def portal(pw, page) -> None:
    """A receipt for the newest demo case's victim, its QR code read by a real decoder
    and opened in a phone-size browser of its own; the station's list of messages."""
    import io

    import zxingcpp
    from PIL import Image

    page.goto(f"{BASE}/cases/?q=演示")
    page.click("#rows table tbody tr:first-child a")
    with page.expect_popup() as popup:
        page.click("[data-testid=issue-receipt]")
    receipt = popup.value
    receipt.wait_for_selector("[data-testid=receipt-qr] svg")
    receipt.screenshot(path=OUT / "portal-receipt.png", full_page=True)
    png = receipt.locator("[data-testid=receipt-qr] svg").screenshot()
    link = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))[0].text
    browser = pw.chromium.launch(
        executable_path=shutil.which("chromium") or "/usr/bin/chromium", headless=True, args=ARGS
    )
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    ).new_page()
    phone.goto(link)
    phone.wait_for_selector("[data-testid=public-timeline]")
    phone.click("details.rate summary")
    phone.screenshot(path=OUT / "portal-phone.png", full_page=True)
    browser.close()
    page.goto(f"{BASE}/feedback/")
    page.screenshot(path=OUT / "portal-feedback.png")


if __name__ == "__main__":
    main()
