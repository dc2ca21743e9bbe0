"""A drunk driver's case goes the whole 48-hour fast track in a real browser.

Four organisations' people log in through the login page in turn: the police case
officer starts the track from the case page's checklist, asks legal aid for a duty
lawyer and generates the fast-track opinion; legal affairs approve the dossier and
submit it to the procuratorate; legal aid signs for the notice, assigns the duty
lawyer, who records meeting the suspect; the prosecutor signs for, accepts and
indicts; the judge signs for, accepts, schedules the hearing and records the
judgment; the police sign for and accept it. The track's page then shows every
stage reached, and a package's zip, downloaded from its page, verifies against the
registered keys until one byte of it changes.

Every element is found by its data-testid or another stable attribute, never by
its (translated) text.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from casecenter import law
from casecenter.exchange import keys
from casecenter.exchange.manifest import FILES_PREFIX, verify_zip
from casecenter.exchange.models import Matter, Package, PackageKind
from casecenter.fasttrack.models import FastTrack
from casecenter.supervision import live
from tests.e2e.conftest import log_in, wait_for
from tests.fasttrack.conftest import drunk_driving, partners  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_out(page: Page) -> None:
    with page.expect_navigation():
        page.locator("form[action$='/logout/'] button").click()
    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.get_by_test_id("who")).to_have_count(0)


def go(page: Page, link: Locator) -> None:
    """Follow a link and wait for the page it opens."""
    with page.expect_navigation():
        link.click()


def post(page: Page, button: Locator) -> None:
    """Submit a form and wait for the page it leads to: it must report success and
    no error (a refused step is an error message on the next page)."""
    with page.expect_navigation():
        button.click()
    errors = page.locator(".messages .error, .errorlist").all_inner_texts()
    assert not errors, errors
    expect(page.locator(".messages .success")).to_have_count(1)


def submit_button(form: Locator) -> Locator:
    return form.locator("button[type=submit]")


def local(at) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")


def open_from_inbox(page: Page, url: str, package: Package) -> None:
    """The organisation's inbox lists the package waiting; its page opens from there."""
    page.goto(f"{url}/exchange/")
    row = page.get_by_test_id("inbox").locator(f'tr[data-package="{package.number}"]')
    expect(row).to_have_attribute("data-state", "sent")
    go(page, row.locator("a").first)
    expect(page).to_have_url(re.compile(rf"/exchange/packages/{package.pk}/$"))


def sign_for_and_accept(page: Page) -> None:
    """On a package's page: sign for it (verified on arrival), then accept it."""
    post(page, page.get_by_test_id("receive"))
    expect(page.get_by_test_id("arrival")).to_have_class(re.compile(r"\bverified\b"))
    expect(page.get_by_test_id("package-state")).to_have_class(re.compile(r"package-received"))
    post(page, page.get_by_test_id("accept"))


def flip_a_byte_of_a_document(data: bytes) -> tuple[bytes, str]:
    """The zip with one byte inside one document's stored bytes changed, and that
    document's path in the manifest."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = next(i for i in archive.infolist() if i.filename.startswith(FILES_PREFIX))
    header = info.header_offset
    name_length, extra_length = struct.unpack("<HH", data[header + 26 : header + 30])
    start = header + 30 + name_length + extra_length
    flipped = bytearray(data)
    flipped[start + info.file_size // 2] ^= 0xFF
    return bytes(flipped), info.filename.removeprefix(FILES_PREFIX)


@pytest.fixture
def tab(lively, page):
    """The browser's page; when the test ends, its alert stream is closed before the
    test database goes (no stream thread may touch it afterwards)."""
    yield page
    page.goto("about:blank")
    wait_for(lambda: live.open_streams() == 0, 10)


def test_a_drunk_driving_case_goes_the_whole_fast_track_through_four_organisations(
    live_server,
    tab,
    drunk_driving,  # noqa: F811 - the fixtures imported above
    officers,
    partners,  # noqa: F811
    tmp_path,
):
    page, url, case, orgs = tab, live_server.url, drunk_driving, partners["orgs"]

    # --- police, the case officer: the checklist, legal aid, the opinion ------------------
    log_in(page, url, "lead")
    page.goto(f"{url}/cases/{case.pk}/")
    page.get_by_test_id("fast-track-start").click()
    form = page.get_by_test_id("fast-track-form")
    form.locator("[name=suspect]").select_option(str(case.suspect.pk))
    form.locator("[name=captured_at]").fill(local(case.captured_at))
    form.locator("[name=admits_guilt]").check()
    form.locator("[name=facts_clear]").check()
    form.locator("[name=expected_sentence_months]").fill("2")
    form.locator("[name=no_exclusion]").check()
    post(page, submit_button(form))
    track = FastTrack.objects.get(case=case)
    expect(page).to_have_url(re.compile(rf"/fast-track/{track.pk}/$"))
    expect(page.get_by_test_id("track-state")).to_have_class(re.compile(r"fast-track-running"))
    for code in law.fasttrack.STAGE_CODES[:2]:  # captured, eligibility confirmed
        expect(page.locator(f'tr[data-stage="{code}"]')).to_have_class(re.compile(r"\bdone\b"))

    notify = page.get_by_test_id("notify-legal-aid")
    notify.locator("[name=legal_aid]").select_option(str(orgs["fyzx"].pk))
    post(page, submit_button(notify))
    expect(page.get_by_test_id("notify-legal-aid")).to_have_count(0)  # asked once
    notice = Package.objects.get(kind=PackageKind.LEGAL_AID, fast_track=track)
    sent = page.get_by_test_id("track-packages").locator(f'tr[data-package="{notice.number}"]')
    expect(sent).to_have_attribute("data-state", "sent")

    # the submission waits for the opinion: the track's page links to the dossier
    go(page, page.get_by_test_id("submit-step").locator(f'a[href$="/cases/{case.pk}/dossier/"]'))
    post(page, page.locator('button[data-kind="fast_track_opinion"]'))
    expect(page.locator('form[data-review="approved"]')).to_have_count(0)  # not a reviewer
    log_out(page)

    # --- police, legal affairs: approve the dossier, submit ----------------------------
    log_in(page, url, "legal")
    page.goto(f"{url}/fast-track/")
    go(page, page.get_by_test_id("fast-tracks").locator(f'tr[data-track="{case.number}"] a'))
    expect(page).to_have_url(re.compile(rf"/fast-track/{track.pk}/$"))
    expect(page.get_by_test_id("submit")).to_have_count(0)  # not while documents wait
    go(page, page.get_by_test_id("submit-step").locator(f'a[href$="/cases/{case.pk}/dossier/"]'))
    pending = page.locator('form[data-review="approved"]')
    left = pending.count()
    assert left >= 2  # at least the interrogation record and the fast-track opinion
    while left:
        post(page, submit_button(pending.first))
        left -= 1
        expect(pending).to_have_count(left)
    go(page, page.get_by_test_id("fast-track-link"))  # the dossier links back to the track
    submission = page.get_by_test_id("submit")
    submission.locator("[name=procuratorate]").select_option(str(orgs["jc"].pk))
    post(page, submit_button(submission))
    expect(page.get_by_test_id("submit-step")).to_have_count(0)
    expect(page.locator('tr[data-stage="submitted"]')).to_have_class(re.compile(r"\bdone\b"))
    log_out(page)

    # --- legal aid: sign for the notice, assign the duty lawyer, the meeting -----------
    lawyer = partners["lawyer"]
    log_in(page, url, lawyer.username)
    open_from_inbox(page, url, notice)
    sign_for_and_accept(page)
    aid = Matter.objects.get(kind="legal_aid", fast_track=track)
    expect(page).to_have_url(re.compile(rf"/exchange/matters/{aid.pk}/$"))
    assign = page.get_by_test_id("assign-lawyer")
    assign.locator("[name=lawyer]").select_option(str(lawyer.pk))
    post(page, submit_button(assign))
    expect(page.get_by_test_id("lawyer")).to_be_visible()
    meeting = page.get_by_test_id("record-meeting")
    meeting.locator("[name=mode]").select_option("on_site")
    meeting.locator("[name=minutes]").fill("30")
    post(page, submit_button(meeting))  # met "now", as the form proposes
    expect(page.get_by_test_id("meetings")).to_be_visible()
    log_out(page)

    # --- the procuratorate: sign for, accept, indict ---------------------------------
    log_in(page, url, partners["prosecutor"].username)
    transfer = Package.objects.get(kind=PackageKind.FAST_TRACK, fast_track=track)
    open_from_inbox(page, url, transfer)
    expect(page.get_by_test_id("entries").locator("tr:has(td)")).to_have_count(
        transfer.files.count()
    )
    sign_for_and_accept(page)
    review = Matter.objects.get(kind="fast_track_review", fast_track=track)
    expect(page).to_have_url(re.compile(rf"/exchange/matters/{review.pk}/$"))
    indict = page.get_by_test_id("indict")
    indict.locator("[name=court]").select_option(str(orgs["court"].pk))
    post(page, submit_button(indict))  # the charge and the proposal as proposed
    expect(page.get_by_test_id("indict")).to_have_count(0)
    log_out(page)

    # --- the court: sign for, accept, the hearing, the judgment -----------------------
    log_in(page, url, officers["judge"].username)
    indictment = Package.objects.get(kind=PackageKind.INDICTMENT, fast_track=track)
    open_from_inbox(page, url, indictment)
    sign_for_and_accept(page)
    trial = Matter.objects.get(kind="fast_track_trial", fast_track=track)
    expect(page).to_have_url(re.compile(rf"/exchange/matters/{trial.pk}/$"))
    expect(page.get_by_test_id("record-judgment")).to_have_count(0)  # the hearing first
    post(page, submit_button(page.get_by_test_id("schedule-hearing")))  # at the center
    expect(page.get_by_test_id("hearing")).to_be_visible()
    judgment = page.get_by_test_id("record-judgment")
    judgment.locator("[name=verdict]").fill(
        "被告人马明犯危险驾驶罪，判处拘役二个月，并处罚金人民币四千元。"
    )
    post(page, submit_button(judgment))
    expect(page.get_by_test_id("judgment")).to_be_visible()
    expect(page.get_by_test_id("steps")).to_have_count(0)  # the matter is closed
    log_out(page)

    # --- back at the police: sign for and accept the judgment -------------------------
    log_in(page, url, "lead")
    served = Package.objects.get(
        kind=PackageKind.JUDGMENT, fast_track=track, receiver=case.organisation
    )
    open_from_inbox(page, url, served)
    sign_for_and_accept(page)

    # --- the track's page (where accepting the judgment leads): every stage, closed ----
    expect(page).to_have_url(re.compile(rf"/fast-track/{track.pk}/$"))
    expect(page.get_by_test_id("track-state")).to_have_class(re.compile(r"fast-track-closed"))
    expect(page.get_by_test_id("hours")).to_have_text(re.compile(r"^\d+(\.\d+)?$"))
    rows = page.locator("tr[data-stage]")
    expect(rows).to_have_count(len(law.fasttrack.STAGE_CODES))
    for code in law.fasttrack.STAGE_CODES:
        row = page.locator(f'tr[data-stage="{code}"]')
        expect(row).to_have_class(re.compile(r"\bdone\b"))
        expect(row.get_by_test_id("reached")).to_have_text(re.compile(r"\d"))
    expect(page.get_by_test_id("police-steps")).to_have_count(0)  # nothing left to do
    # the police see the packages they sent or received, not the court's indictment
    packages = page.get_by_test_id("track-packages")
    expect(packages.locator("tr[data-package]")).to_have_count(3)
    for package in (notice, transfer, served):
        expect(packages.locator(f'tr[data-package="{package.number}"]')).to_have_count(1)
    served_row = packages.locator(f'tr[data-package="{served.number}"]')
    expect(served_row).to_have_attribute("data-state", "accepted")

    # --- the transfer's zip, downloaded from its page, verifies; one byte changed does not
    go(page, packages.locator(f'tr[data-package="{transfer.number}"] a'))
    expect(page.get_by_test_id("arrival")).to_have_class(re.compile(r"\bverified\b"))
    with page.expect_download() as download:
        page.get_by_test_id("download-zip").click()
    assert download.value.suggested_filename == f"{transfer.number}.zip"
    zipped = tmp_path / download.value.suggested_filename
    download.value.save_as(zipped)
    verdict = verify_zip(zipped, keys.trusted())
    assert verdict.ok and verdict.signer_checked, verdict.problems
    assert verdict.signer == transfer.signer
    assert len(verdict.manifest["entries"]) == transfer.files.count() >= 3

    tampered, changed = flip_a_byte_of_a_document(zipped.read_bytes())
    copy = tmp_path / "tampered.zip"
    copy.write_bytes(tampered)
    verdict = verify_zip(copy, keys.trusted())
    assert not verdict.ok
    assert [(p.code, p.path) for p in verdict.problems] == [("file.changed", changed)]
    assert verify_zip(zipped, keys.trusted()).ok  # the download itself is untouched
    log_out(page)
