"""The server-rendered UI through Django's test client (the browser test is in e2e/)."""

from __future__ import annotations

import pytest
from django.test import Client

from casecenter.cases.models import Case, CaseState
from casecenter.incidents.models import Incident
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(officers):
    client = Client()
    client.force_login(officers["lead"])
    return client


def test_login_page_logs_in_with_the_password(officers):
    client = Client()
    r = client.post("/login/", {"username": "lead", "password": PASSWORD})
    assert r.status_code == 302 and r.url == "/"
    assert "lead" in client.get("/").content.decode()


def test_pages_need_a_login(db):
    r = Client().get("/cases/")
    assert r.status_code == 302 and r.url.startswith("/login/")


def test_register_convert_and_move_through_the_forms(browser, officers):
    r = browser.post(
        "/incidents/new/",
        {
            "channel": "walk_in",
            "received_at": "2026-11-25T10:00",
            "place": "苏州街3号",
            "category": "theft",
            "summary": "手机被盗",
            "reporter_name": "马一",
            "reporter_phone": "13600000000",
        },
    )
    incident = Incident.objects.get()
    assert r.status_code == 302 and r.url == f"/incidents/{incident.pk}/"
    page = browser.get(r.url).content.decode()
    # the phone masked; the full number is a deliberate, audited reveal
    assert incident.number in page and "136****0000" in page and "13600000000" not in page
    r = browser.post(
        f"/incidents/{incident.pk}/convert/", {"kind": "criminal", "category": "theft"}
    )
    case = Case.objects.get()
    assert r.url == f"/cases/{case.pk}/"
    r = browser.post(
        f"/cases/{case.pk}/transition/", {"transition": "file", "version": case.version}
    )
    case.refresh_from_db()
    assert case.state == CaseState.FILED
    page = browser.get(f"/cases/{case.pk}/").content.decode()
    assert "马一" in page and 'data-transition="start_investigation"' in page


def test_stale_form_shows_an_error_and_changes_nothing(browser, make_case):
    case = make_case()
    browser.post(
        f"/cases/{case.pk}/transition/", {"transition": "file", "version": case.version - 1}
    )
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED
    page = browser.get(f"/cases/{case.pk}/").content.decode()
    assert "刷新" in page or "reload" in page


def test_unassigned_officer_sees_the_break_glass_form_not_the_people(officers, make_case):
    from casecenter.cases import services

    case = make_case()
    services.add_party(officers["lead"], case, role="victim", name="秘密的名字")
    client = Client()
    client.force_login(officers["bystander"])
    r = client.get(f"/cases/{case.pk}/")
    assert r.status_code == 403
    assert "秘密的名字" not in r.content.decode() and 'data-testid="denied"' in r.content.decode()
    client.post(
        f"/cases/{case.pk}/break-glass/", {"reason": "另案嫌疑人今晚到案，需核查其在本案中的身份"}
    )
    assert "秘密的名字" in client.get(f"/cases/{case.pk}/").content.decode()


def test_other_station_gets_404(officers, make_case):
    case = make_case()
    client = Client()
    client.force_login(officers["stranger"])
    assert client.get(f"/cases/{case.pk}/").status_code == 404


def test_case_list_filters_and_searches(browser, make_case):
    theft = make_case(title="盗窃甲")
    make_case(title="其他乙", category="fraud")
    page = browser.get("/cases/?q=盗窃").content.decode()
    assert theft.number in page and "其他乙" not in page
    page = browser.get("/cases/?category=fraud").content.decode()
    assert "其他乙" in page and "盗窃甲" not in page


def test_markup_in_input_is_escaped(browser, make_case):
    case = make_case(title="<script>alert(1)</script>")
    page = browser.get(f"/cases/{case.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_language_switch_turns_the_ui_english(browser):
    assert "案件" in browser.get("/cases/").content.decode()
    browser.post("/i18n/setlang/", {"language": "en", "next": "/cases/"})
    page = browser.get("/cases/").content.decode()
    assert "Cases" in page and "Accept a case" in page


def test_chinese_is_the_default_whatever_the_browser_prefers(browser):
    page = browser.get("/cases/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert page["Content-Language"] == "zh-hans" and "受案" in page.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/cases/99999999999999999999999/",
        "/incidents/0/",
        "/cases/12345678901234567/transition/",
        "/cases/abc/",
    ],
)
def test_absurd_ids_are_not_found_not_errors(browser, url):
    assert browser.get(url).status_code == 404


def test_api_docs_are_served_without_a_cdn(db):
    from django.test import Client

    page = Client().get("/api/docs").content.decode()
    assert "cdn.jsdelivr" not in page and "/static/ninja/swagger-ui-bundle.js" in page


def test_unknown_page_gets_the_styled_404(browser):
    r = browser.get("/no-such-page/")
    assert r.status_code == 404 and "app.css" in r.content.decode()
