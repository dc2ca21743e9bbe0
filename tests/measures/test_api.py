"""Coercive measures through the JSON API: need-to-know, two officers, clocks met."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casecenter.cases.services import add_party
from casecenter.measures.models import Measure
from casecenter.supervision.models import Deadline, DeadlineState
from tests.conftest import PASSWORD, valid_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(officers):
    def client_for(username: str) -> Client:
        r = post(Client(), "/api/auth/token", {"username": username, "password": PASSWORD})
        assert r.status_code == 201, r.content
        return Client(headers={"Authorization": f"Bearer {r.json()['token']}"})

    return client_for


def post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def suspect(make_case, officers):
    case = make_case()
    party = add_party(officers["lead"], case, role="suspect", name="张三", id_number=valid_id())
    return case, party


def detention_body(team, party, **extra):
    return {
        "party_id": party.pk,
        "kind": "criminal_detention",
        "started_at": (timezone.now() - timedelta(hours=2)).isoformat(),
        "officers": [team["lead"].pk, team["partner"].pk],
        **extra,
    }


def test_detention_with_two_officers_starts_its_clocks(api, officers, suspect):
    case, party = suspect
    r = post(api("lead"), f"/api/cases/{case.pk}/measures", detention_body(officers, party))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["kind"] == "criminal_detention" and body["state"] == "in_force"
    assert body["person"] == "张三"
    assert set(body["officers"]) == {officers["lead"].pk, officers["partner"].pk}
    assert {c["rule"] for c in body["clocks"]} == {
        "detention.to_house",
        "detention.notify_family",
        "detention.interrogate",
        "detention.arrest_request",
    }
    assert all(c["state"] == "running" for c in body["clocks"])
    assert "family_notified" in body["open_moments"]
    assert [m["moment"] for m in body["moments"]] == ["started"]


def test_family_notified_meets_that_clock_and_only_that(api, officers, suspect):
    case, party = suspect
    lead = api("lead")
    measure = post(lead, f"/api/cases/{case.pk}/measures", detention_body(officers, party)).json()
    r = post(
        lead,
        f"/api/measures/{measure['id']}/moments",
        {"moment": "family_notified", "at": timezone.now().isoformat(), "note": "电话通知其妻"},
    )
    assert r.status_code == 201, r.content
    states = {c["rule"]: c["state"] for c in r.json()["clocks"]}
    assert states["detention.notify_family"] == "met"
    assert states["detention.interrogate"] == "running"
    assert "family_notified" not in r.json()["open_moments"]
    assert Deadline.objects.get(rule="detention.notify_family").state == DeadlineState.MET


def test_listing_shows_measures_with_their_moments(api, officers, suspect):
    case, party = suspect
    post(api("lead"), f"/api/cases/{case.pk}/measures", detention_body(officers, party))
    r = api("manager").get(f"/api/cases/{case.pk}/measures")  # supervision may read
    assert r.status_code == 200
    [measure] = r.json()
    assert measure["label"] and measure["moments"][0]["moment"] == "started"


def test_ending_closes_the_clocks(api, officers, suspect):
    case, party = suspect
    lead = api("lead")
    measure = post(lead, f"/api/cases/{case.pk}/measures", detention_body(officers, party)).json()
    r = post(
        lead,
        f"/api/measures/{measure['id']}/end",
        {"at": timezone.now().isoformat(), "reason": "证据不足，释放"},
    )
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "ended"
    assert {c["state"] for c in r.json()["clocks"]} == {"cancelled"}
    again = {"at": timezone.now().isoformat(), "reason": "再次释放"}
    r = post(lead, f"/api/measures/{measure['id']}/end", again)
    assert (r.status_code, r.json()["code"]) == (409, "measure.ended")


def test_one_officer_is_refused_with_422_and_nothing_written(api, officers, suspect):
    case, party = suspect
    body = detention_body(officers, party, officers=[officers["lead"].pk])
    r = post(api("lead"), f"/api/cases/{case.pk}/measures", body)
    assert r.status_code == 422
    assert r.json()["code"] == "enforcement.two_officers"
    assert not Measure.objects.exists()
    assert not Deadline.objects.filter(rule__code__startswith="detention.").exists()


def test_other_station_gets_404(api, officers, suspect):
    case, party = suspect
    stranger = api("stranger")
    assert stranger.get(f"/api/cases/{case.pk}/measures").status_code == 404
    r = post(stranger, f"/api/cases/{case.pk}/measures", detention_body(officers, party))
    assert r.status_code == 404 and r.json()["code"] == "case.not_found"
    measure = post(
        api("lead"), f"/api/cases/{case.pk}/measures", detention_body(officers, party)
    ).json()
    r = post(
        stranger,
        f"/api/measures/{measure['id']}/moments",
        {"moment": "family_notified", "at": timezone.now().isoformat()},
    )
    assert r.status_code == 404


def test_unassigned_officer_gets_403(api, officers, suspect):
    case, party = suspect
    bystander = api("bystander")
    r = bystander.get(f"/api/cases/{case.pk}/measures")
    assert r.status_code == 403 and r.json()["code"] == "case.not_assigned"
    r = post(bystander, f"/api/cases/{case.pk}/measures", detention_body(officers, party))
    assert r.status_code == 403 and r.json()["code"] == "measure.not_assigned"
    # supervising is reading, not acting: the case-management group may not apply measures
    r = post(api("manager"), f"/api/cases/{case.pk}/measures", detention_body(officers, party))
    assert r.status_code == 403
    assert not Measure.objects.exists()


def test_a_victim_cannot_be_detained(api, officers, suspect):
    case, _ = suspect
    victim = add_party(officers["lead"], case, role="victim", name="李四")
    r = post(api("lead"), f"/api/cases/{case.pk}/measures", detention_body(officers, victim))
    assert r.status_code == 422 and r.json()["code"] == "measure.party"


def test_a_party_of_another_case_is_not_found(api, officers, suspect, make_case):
    case, _ = suspect
    elsewhere = add_party(officers["lead"], make_case(), role="suspect", name="王五")
    r = post(api("lead"), f"/api/cases/{case.pk}/measures", detention_body(officers, elsewhere))
    assert (r.status_code, r.json()["code"]) == (404, "party.not_found")
    assert not Measure.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"party_id": 0},
        {"party_id": 10**20},
        {"party_id": 999999},
        {"kind": ""},
        {"kind": "x" * 100},
        {"kind": "bogus"},
        {"started_at": "yesterday"},
        {"started_at": "0001-01-01T00:00:00Z"},
        {"started_at": "2999-01-01T00:00:00Z"},
        {"officers": "lead"},
        {"officers": [0]},
        {"officers": [987654321, 987654322]},
        {"officers": list(range(1, 100))},
        {"term_days": -3},
        {"term_days": 10**9},
        {"variant": "a\x00b"},
        {"variant": "forever"},
        {"designated_residence": "perhaps"},
    ],
)
def test_malformed_measure_input_gets_4xx_json_and_changes_nothing(api, officers, suspect, change):
    case, party = suspect
    body = {**detention_body(officers, party), **change}
    if "variant" in change:
        body["kind"] = "summons"
    r = post(api("lead"), f"/api/cases/{case.pk}/measures", body)
    assert 400 <= r.status_code < 500, r.content
    assert r.headers["Content-Type"].startswith("application/json")
    assert not Measure.objects.exists()


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", "/api/cases/0/measures"),
        ("get", "/api/cases/99999999999999999999/measures"),
        ("get", "/api/cases/abc/measures"),
        ("post", "/api/cases/0/measures"),
        ("post", "/api/measures/-1/moments"),
        ("post", "/api/measures/0/end"),
        ("post", "/api/measures/999999/end"),
        ("post", "/api/measures/99999999999999999999/moments"),
    ],
)
def test_malformed_measure_urls_get_4xx_json(api, method, url):
    client = api("lead")
    body = {"at": "2026-01-01T00:00:00Z", "reason": "x", "moment": "interrogated"}
    r = client.get(url) if method == "get" else post(client, url, body)
    assert 400 <= r.status_code < 500, (url, r.content)
    assert r.headers["Content-Type"].startswith("application/json")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@pytest.fixture
def fuzz_target(api, officers, suspect):
    case, party = suspect
    lead = api("lead")
    measure = post(lead, f"/api/cases/{case.pk}/measures", detention_body(officers, party)).json()
    return lead, case.pk, measure["id"]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    endpoint=st.sampled_from(
        [
            "/api/cases/{case}/measures",
            "/api/measures/{measure}/moments",
            "/api/measures/{measure}/end",
        ]
    ),
    body=st.dictionaries(
        st.sampled_from(
            [
                "party_id",
                "kind",
                "started_at",
                "officers",
                "designated_residence",
                "term_days",
                "variant",
                "moment",
                "at",
                "note",
                "reason",
            ]
        ),
        json_values,
        max_size=6,
    ),
)
def test_no_input_makes_the_measure_api_answer_500(fuzz_target, endpoint, body):
    client, case_id, measure_id = fuzz_target
    url = endpoint.format(case=case_id, measure=measure_id)
    r = post(client, url, body)
    assert r.status_code < 500, (url, body, r.content)
