"""The JSON API: token auth, the main flow, and errors that are always JSON 4xx."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import PASSWORD, valid_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(officers):
    def client_for(username: str) -> Client:
        anon = Client()
        r = anon.post(
            "/api/auth/token",
            {"username": username, "password": PASSWORD},
            content_type="application/json",
        )
        assert r.status_code == 201, r.content
        return Client(headers={"Authorization": f"Bearer {r.json()['token']}"})

    return client_for


def post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


INCIDENT = {
    "channel": "walk_in",
    "received_at": "2026-11-20T09:30:00+08:00",
    "place": "知春路5号",
    "category": "injury",
    "summary": "报警人称被人打伤头部。",
    "reporter_name": "刘一",
    "reporter_phone": "13700001234",
    "reporter_id_number": "",
}


def test_whole_flow_through_the_api(api, officers):
    lead = api("lead")
    r = post(lead, "/api/incidents", INCIDENT)
    assert r.status_code == 201, r.content
    incident = r.json()
    assert incident["reporter"]["phone"] == "137****1234"
    r = post(lead, f"/api/incidents/{incident['id']}/convert", {"kind": "criminal"})
    assert r.status_code == 201
    case = r.json()
    r = post(
        lead,
        f"/api/cases/{case['id']}/assignments",
        {"user_id": officers["partner"].pk, "role": "assisting"},
    )
    assert r.status_code == 201
    r = post(
        lead,
        f"/api/cases/{case['id']}/parties",
        {"role": "suspect", "name": "陈二", "id_number": valid_id()},
    )
    assert r.status_code == 201 and r.json()["id_number_masked"].startswith("110108****")
    detail = lead.get(f"/api/cases/{case['id']}").json()
    assert [t["name"] for t in detail["transitions"]] == ["file"]
    r = post(
        lead,
        f"/api/cases/{case['id']}/transitions",
        {"transition": "file", "version": detail["version"]},
    )
    assert r.status_code == 200 and r.json()["state"] == "filed"
    r = post(
        lead,
        f"/api/cases/{case['id']}/transitions",
        {
            "transition": "start_investigation",
            "version": r.json()["version"],
            "officers": [officers["lead"].pk, officers["partner"].pk],
        },
    )
    assert r.status_code == 200 and r.json()["state"] == "investigating"
    kinds = [e["kind"] for e in r.json()["timeline"]]
    assert kinds[0] == "accepted" and kinds.count("transition") == 2


def test_stale_version_gets_409_with_the_current_version(api, make_case):
    lead = api("lead")
    case = make_case()
    r = lead.patch(
        f"/api/cases/{case.pk}",
        json.dumps({"version": case.version, "title": "甲"}),
        content_type="application/json",
    )
    assert r.status_code == 200
    r = lead.patch(
        f"/api/cases/{case.pk}",
        json.dumps({"version": case.version, "title": "乙"}),
        content_type="application/json",
    )
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "case.stale" and body["facts"]["current_version"] == case.version + 1


def test_no_credentials_gets_401_json(db):
    r = Client().get("/api/cases")
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"


def test_wrong_password_gets_403_and_is_audited(officers):
    from casecenter.audit.models import AuditEntry

    r = post(Client(), "/api/auth/token", {"username": "lead", "password": "nope"})
    assert r.status_code == 403 and r.json()["code"] == "auth.failed"
    assert AuditEntry.objects.filter(action="account.login_failed").count() == 1


def test_revoked_token_stops_working(api, officers):
    client = api("lead")
    token_id = officers["lead"].api_tokens.get().pk
    assert client.delete(f"/api/auth/token/{token_id}").status_code == 204
    assert client.get("/api/me").status_code == 401


def test_session_auth_needs_csrf_for_writes(officers):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(officers["lead"])
    assert browser.get("/api/me").json()["username"] == "lead"
    r = post(browser, "/api/incidents", INCIDENT)
    assert r.status_code in (401, 403)


def test_not_assigned_gets_403_and_other_station_404(api, make_case):
    case = make_case()
    r = api("bystander").get(f"/api/cases/{case.pk}")
    assert r.status_code == 403 and r.json()["code"] == "case.not_assigned"
    r = api("stranger").get(f"/api/cases/{case.pk}")
    assert r.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[]",
        "null",
        '"text"',
        json.dumps({**INCIDENT, "received_at": "yesterday"}),
        json.dumps({**INCIDENT, "place": "x" * 5000}),
        json.dumps({**INCIDENT, "summary": "a\x00b"}),
        json.dumps({**INCIDENT, "received_at": "0001-01-01T00:00:00Z"}),
        json.dumps({**INCIDENT, "channel": 12}),
    ],
)
def test_malformed_bodies_get_4xx_json(api, body):
    r = api("lead").post("/api/incidents", body, content_type="application/json")
    assert 400 <= r.status_code < 500, r.content
    assert "message" in r.json() or "detail" in r.json()


@pytest.mark.parametrize(
    "url",
    [
        "/api/cases/0",
        "/api/cases/99999999999999999999999",
        "/api/cases/-1",
        "/api/cases/abc",
        "/api/cases?limit=-5&offset=-1",
        "/api/cases?limit=abc",
        "/api/incidents/1e9",
        "/api/law/period?start=2026-01-01T00:00:00%2B08:00&length=0&unit=day",
        "/api/law/period?start=2026-01-01&length=99999999999&unit=month",
    ],
)
def test_malformed_urls_get_4xx_json(api, url):
    r = api("lead").get(url)
    assert 400 <= r.status_code < 500 or r.status_code == 200, r.content
    assert r.headers["Content-Type"].startswith("application/json")


def test_openapi_document_lists_every_router(db):
    doc = Client().get("/api/openapi.json").json()
    paths = set(doc["paths"])
    assert {
        "/api/cases",
        "/api/incidents",
        "/api/cases/{case_id}/transitions",
        "/api/auth/token",
        "/api/law/period",
    } <= paths


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=12,
)
ENDPOINTS = [
    "/api/incidents",
    "/api/cases",
    "/api/cases/{case}/transitions",
    "/api/cases/{case}/parties",
    "/api/cases/{case}/assignments",
    "/api/cases/{case}/break-glass",
    "/api/incidents/{incident}/convert",
    "/api/law/id-number",
    "/api/auth/token",
]


@pytest.fixture
def fuzz_target(api, make_case):
    return api("lead"), {"case": make_case().pk, "incident": 1}


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    body=st.dictionaries(
        st.sampled_from(
            [
                "kind",
                "category",
                "title",
                "transition",
                "version",
                "role",
                "name",
                "id_number",
                "reason",
                "user_id",
                "officers",
                "channel",
                "received_at",
                "number",
                "username",
                "password",
                "place",
                "summary",
            ]
        ),
        json_values,
        max_size=8,
    ),
)
def test_no_input_makes_the_api_answer_500(fuzz_target, endpoint, body):
    client, ids = fuzz_target
    url = endpoint.format(**ids)
    r = post(client, url, body)
    assert r.status_code < 500, (url, body, r.content)
