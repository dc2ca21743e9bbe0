"""A secret (涉密) case leaves no trace for those not on it: the incident it came
from, the case, searches, counts, the API and alerts — tried as an officer of
the same station, the station's supervisors and another station."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from casecenter.accounts.services import issue_api_token
from casecenter.cases.models import CaseState
from casecenter.errors import NotFound
from casecenter.incidents import selectors, services
from casecenter.supervision import selectors as alerts
from casecenter.supervision import services as supervision
from casecenter.supervision.models import Alert, Deadline

pytestmark = pytest.mark.django_db

PLACE = "知春路88号"
SUMMARY = "举报某单位人员涉嫌泄露国家秘密。"
REPORTER, PHONE = "秦举报", "13712345678"
OUTSIDERS = ("bystander", "manager", "legal", "stranger")


def _register(actor, **extra):
    return services.register_incident(
        actor,
        channel="walk_in",
        received_at=timezone.now() - timedelta(minutes=20),
        place=PLACE,
        category="other",
        summary=SUMMARY,
        reporter_name=REPORTER,
        reporter_phone=PHONE,
        **extra,
    )


@pytest.fixture
def secret(officers):
    """An incident turned into a secret case by the lead officer, and the case."""
    incident = _register(officers["lead"])
    case = services.convert_to_case(officers["lead"], incident, kind="criminal", secret=True)
    incident.refresh_from_db()
    return incident, case


def _trace(body: str, incident, case) -> list[str]:
    """What of the secret case a page or an answer gives away."""
    marks = [incident.number, case.number, SUMMARY, REPORTER, PHONE, PHONE[-4:], PLACE]
    return [m for m in marks if m in body]


@pytest.fixture
def browser(officers):
    def client_for(who: str) -> Client:
        client = Client()
        client.force_login(officers[who])
        return client

    return client_for


@pytest.fixture
def api(officers):
    def client_for(who: str) -> Client:
        _, token = issue_api_token(officers[who], name="test")
        return Client(headers={"Authorization": f"Bearer {token}"})

    return client_for


def test_the_secret_cases_incident_leaves_the_outsiders_lists_and_searches(secret, officers):
    incident, case = secret
    for who in OUTSIDERS:
        user = officers[who]
        assert not selectors.incident_list(user).filter(pk=incident.pk).exists()
        for q in (incident.number, PLACE[:3]):
            assert not selectors.incident_list(user, q=q).exists(), (who, q)
        assert not selectors.incident_list(user, state="converted").exists()
        with pytest.raises(NotFound):
            selectors.get_incident(user, incident.pk)
    # those on the case still see it
    assert selectors.get_incident(officers["lead"], incident.pk) == incident


def test_an_ordinary_converted_incident_stays_visible_to_the_station(officers):
    incident = _register(officers["lead"])
    services.convert_to_case(officers["lead"], incident, kind="criminal")
    assert selectors.get_incident(officers["bystander"], incident.pk) == incident
    assert selectors.incident_list(officers["manager"], q=incident.number).count() == 1


def test_the_pages_answer_not_found_exactly_like_a_number_never_given(secret, browser):
    incident, case = secret
    client = browser("bystander")
    for url in (
        f"/incidents/{incident.pk}/",
        f"/cases/{case.pk}/",
        f"/incidents/{incident.pk + 1000}/",
        f"/cases/{case.pk + 1000}/",
    ):
        r = client.get(url)
        assert r.status_code == 404, url
        assert _trace(r.content.decode(), incident, case) == []
    for url in (f"/incidents/{incident.pk}/convert/", f"/incidents/{incident.pk}/close/"):
        assert client.post(url, {"kind": "criminal", "reason": "x"}).status_code == 404
    r = client.post(f"/incidents/{incident.pk}/reveal-phone/", {"purpose": "回访报警人"})
    assert r.status_code == 404


def test_lists_searches_and_the_desk_show_no_trace(secret, browser, officers):
    incident, case = secret
    for who in ("bystander", "manager"):
        client = browser(who)
        for url, q in (
            ("/incidents/", ""),
            ("/incidents/", incident.number),
            ("/incidents/", PLACE),
            ("/incidents/?state=converted", ""),
            ("/cases/", ""),
            ("/cases/", case.number),
            ("/", ""),
        ):
            r = client.get(url, {"q": q} if q else {})
            assert r.status_code == 200, url
            # the page gives back what was typed (search box, language form's
            # link): that is not a trace; the rows' other columns would be
            body = r.content.decode()
            if q:
                body = body.replace(q, "").replace(quote(q), "")
            assert _trace(body, incident, case) == [], (who, url, q)
    lead_page = browser("lead").get(f"/incidents/?q={incident.number}").content.decode()
    assert incident.number in lead_page and case.number in lead_page


def test_the_desks_caseload_counts_leave_the_secret_case_out(secret, browser):
    _, case = secret
    stage = str(CaseState(case.state).label)

    def accepted_count(who: str) -> int:
        r = browser(who).get("/")
        return dict((str(label), n) for label, n, _ in r.context["stages"])[stage]

    assert accepted_count("lead") == 1
    assert accepted_count("bystander") == 0 and accepted_count("manager") == 0


def test_the_api_gives_outsiders_not_found_and_nothing_in_lists(secret, api):
    incident, case = secret
    for who in ("bystander", "manager", "stranger"):
        client = api(who)
        for url in (
            f"/api/incidents/{incident.pk}",
            f"/api/cases/{case.pk}",
            f"/api/cases/{case.pk}/timeline",
        ):
            r = client.get(url)
            assert r.status_code == 404, (who, url)
            assert _trace(json.dumps(r.json(), ensure_ascii=False), incident, case) == []
        for url in (
            "/api/incidents",
            f"/api/incidents?q={incident.number}",
            "/api/incidents?state=converted",
            "/api/cases",
            f"/api/cases?q={case.number}",
        ):
            r = client.get(url)
            assert r.status_code == 200 and r.json() == [], (who, url)
        r = client.post(
            f"/api/incidents/{incident.pk}/reporter/reveal-phone",
            json.dumps({"purpose": "回访报警人"}),
            content_type="application/json",
        )
        assert r.status_code == 404
    # the lead reads it, the reporter's phone masked
    detail = api("lead").get(f"/api/incidents/{incident.pk}").json()
    assert detail["case_number"] == case.number
    assert detail["reporter"]["phone"] == "137****5678"


def test_alerts_of_a_secret_case_reach_only_those_on_it(secret, officers, api):
    _, case = secret
    deadline = Deadline.objects.get(case=case)
    with transaction.atomic():
        alert = supervision.deadline_alert(deadline, Alert.Kind.BREACH, at=timezone.now())
    assert alert is not None
    # the filing clock's rule tells the case-management group: not of a secret case
    assert "case_management" in alert.rule.audience
    for who in ("bystander", "manager", "legal", "stranger"):
        assert not alerts.visible_alerts(officers[who]).filter(pk=alert.pk).exists()
        assert alerts.open_alert_count(officers[who]) == 0
    r = api("manager").get("/api/alerts")
    assert r.status_code == 200 and r.json() == []
    assert alerts.visible_alerts(officers["lead"]).filter(pk=alert.pk).exists()
