"""Supervision through the JSON API: alerts, the deadline review, extensions, the catalogue."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from casecenter.accounts.models import Role
from casecenter.audit.models import AuditEntry
from casecenter.cases.services import add_party
from casecenter.errors import InvalidInput, PermissionDenied
from casecenter.measures import services as measures
from casecenter.supervision import services, worker
from casecenter.supervision.models import Alert, AlertState, Deadline, Rule
from tests.conftest import valid_id
from tests.supervision.conftest import post

pytestmark = pytest.mark.django_db


def patch(client, url, data):
    return client.patch(url, json.dumps(data), content_type="application/json")


def clock(measure, code: str) -> Deadline:
    return Deadline.objects.get(measure=measure, rule_id=code)


@pytest.fixture
def breached(detention):
    """The worker has passed the 24-hour mark: warnings and breaches are raised."""
    to_house = clock(detention, "detention.to_house")
    worker.run_once(now=to_house.due_at + timedelta(minutes=1))
    return detention


# --- alerts -------------------------------------------------------------------


def test_alerts_list_open_first_and_explain_themselves(api, breached):
    lead = api("lead")
    rows = lead.get("/api/alerts").json()
    assert len(rows) == 6  # a warning and a breach for each of the three 24-hour clocks
    assert {a["kind"] for a in rows} == {"warning", "breach"}
    breach = next(a for a in rows if a["rule"] == "detention.to_house" and a["kind"] == "breach")
    assert breach["basis"] == "CPL Art. 85"
    assert breach["case_number"] == breached.case.number
    assert "CPL Art. 85" in breach["explanation_en"]
    assert breach["computation_en"] and breach["computation_zh"]
    assert breach["title"] == breach["title_zh"]  # Chinese unless the user chose otherwise
    assert breach["facts"]["rule"] == "detention.to_house"
    one = lead.get(f"/api/alerts/{breach['id']}").json()
    assert one["id"] == breach["id"] and one["state"] == "open"


def test_alert_paging_and_state_filter(api, breached):
    lead = api("lead")
    first = lead.get("/api/alerts?limit=2").json()
    second = lead.get("/api/alerts?limit=2&offset=2").json()
    assert len(first) == 2 and len(second) == 2
    assert not {a["id"] for a in first} & {a["id"] for a in second}
    assert lead.get("/api/alerts?state=resolved").json() == []
    for bad in ("/api/alerts?state=bogus", "/api/alerts?limit=0", "/api/alerts?offset=-1"):
        r = lead.get(bad)
        assert r.status_code == 422 and r.headers["Content-Type"].startswith("application/json")


def test_acknowledge_then_resolve(api, breached):
    lead = api("lead")
    alert = Alert.objects.filter(kind="breach").first()
    r = post(lead, f"/api/alerts/{alert.pk}/acknowledge", {})
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    assert r.json()["acknowledged_by"] == "lead"
    r = post(lead, f"/api/alerts/{alert.pk}/acknowledge", {})
    assert r.status_code == 409 and r.json()["code"] == "alert.not_open"
    r = post(lead, f"/api/alerts/{alert.pk}/resolve", {"resolution": ""})
    assert r.status_code == 422
    r = post(lead, f"/api/alerts/{alert.pk}/resolve", {"resolution": "已送看守所，补报说明"})
    assert r.status_code == 200 and r.json()["state"] == "resolved"
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED and alert.resolution == "已送看守所，补报说明"
    r = post(lead, f"/api/alerts/{alert.pk}/resolve", {"resolution": "再次办结"})
    assert r.status_code == 409 and r.json()["code"] == "alert.resolved"
    assert lead.get("/api/alerts?state=active").json()[0]["id"] != alert.pk


def test_alerts_of_other_stations_are_not_found(api, breached):
    alert = Alert.objects.first()
    stranger = api("stranger")
    assert stranger.get("/api/alerts").json() == []
    assert stranger.get(f"/api/alerts/{alert.pk}").status_code == 404
    r = post(stranger, f"/api/alerts/{alert.pk}/acknowledge", {})
    assert r.status_code == 404
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN


def test_alerts_need_credentials(db):
    r = Client().get("/api/alerts")
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"


# --- the deadline review and extensions ------------------------------------------


def test_review_puts_breached_clocks_first_then_by_due_time(api, breached, make_case):
    # an administrative case: its clock (a month) is due after the detention case's
    # running clocks, which all fall due at one midnight when the detention, started
    # 23 hours ago, began today (from 23:00 local time on)
    make_case(kind="administrative")
    rows = api("manager").get("/api/deadlines").json()
    states = [r["state"] for r in rows]
    assert states[:3] == ["breached"] * 3
    assert set(states[3:]) == {"running"}
    running = [r["due_at"] for r in rows[3:]]
    assert running == sorted(running)
    assert 0 < rows[3]["seconds_left"] < rows[-1]["seconds_left"]
    assert rows[0]["basis"] and rows[0]["computation_zh"]


def test_review_filters_by_rule_case_and_officer(api, breached, make_case, officers):
    other = make_case(title="另一案")
    manager = api("manager")
    by_rule = manager.get("/api/deadlines?rule=detention.arrest_request").json()
    assert [r["rule"] for r in by_rule] == ["detention.arrest_request"]
    by_case = manager.get(f"/api/deadlines?case={other.number}").json()
    assert {r["case_id"] for r in by_case} == {other.pk}
    by_officer = manager.get(f"/api/deadlines?officer={officers['bystander'].pk}").json()
    assert by_officer == []
    assert len(manager.get(f"/api/deadlines?officer={officers['partner'].pk}").json()) > 4


def test_review_shows_nothing_of_other_stations(api, breached):
    assert api("stranger").get("/api/deadlines").json() == []
    assert api("bystander").get("/api/deadlines").json() == []  # not assigned, not supervising


def test_legal_affairs_extends_a_clock_with_a_reason(api, detention):
    request = clock(detention, "detention.arrest_request")
    r = post(
        api("legal"),
        f"/api/deadlines/{request.pk}/extend",
        {"variant": "special", "reason": "案情重大复杂，经批准延长"},
    )
    assert r.status_code == 200, r.content
    assert r.json()["variant"] == "special"
    request.refresh_from_db()
    assert request.due_at > request.trigger_at + timedelta(days=6)
    assert request.extensions.get().reason == "案情重大复杂，经批准延长"


@pytest.mark.parametrize(
    "who,body,status",
    [
        ("lead", {"variant": "special", "reason": "想延长"}, 403),
        ("legal", {"variant": "forever", "reason": "理由"}, 422),
        ("legal", {"variant": "special", "reason": ""}, 422),
        ("legal", {"variant": "", "reason": "理由"}, 422),
        ("stranger", {"variant": "special", "reason": "理由"}, 404),
    ],
)
def test_extension_refusals_change_nothing(api, detention, who, body, status):
    request = clock(detention, "detention.arrest_request")
    r = post(api(who), f"/api/deadlines/{request.pk}/extend", body)
    assert r.status_code == status, r.content
    request.refresh_from_db()
    assert request.variant == "default" and not request.extensions.exists()


# --- the rule catalogue ----------------------------------------------------------


def test_catalogue_lists_every_rule_with_its_periods(api):
    rows = {r["code"]: r for r in api("lead").get("/api/rules").json()}
    summons = rows["summons.criminal"]
    assert summons["kind"] == "statute" and summons["basis"] == "CPL Art. 119"
    assert summons["name_zh"] == "传唤、拘传持续时间"
    assert [(p["variant"], p["length"], p["unit"]) for p in summons["periods"]] == [
        ("default", 12, "hour"),
        ("major_complex", 24, "hour"),
    ]
    assert summons["severity"] == "critical" and summons["escalation"]
    assert rows["summons.rest"]["periods"] == []  # checked from records, no clock
    assert rows["dossier.return"]["kind"] == "policy"


@pytest.fixture
def admin(make_user):
    return make_user("admin", Role.ADMIN)


def test_administrator_tunes_a_policy_period_and_new_clocks_use_it(api, admin):
    r = patch(
        api("admin"),
        "/api/rules/summons.notify_family",
        {"policy_length": 2, "policy_unit": "hour", "warn_before_minutes": 30},
    )
    assert r.status_code == 200, r.content
    assert r.json()["policy_period"]["length"] == 2
    assert r.json()["warn_before_minutes"] == 30
    rule = Rule.objects.get(code="summons.notify_family")
    assert (rule.policy_length, rule.policy_unit) == (2, "hour")
    entry = AuditEntry.objects.filter(action="rule.tuned").get()
    assert entry.actor_id == admin.pk and entry.data["after"]["policy_length"] == 2


def test_new_clocks_follow_the_tuned_period(admin, make_case, officers):
    services.tune_rule(
        admin, Rule.objects.get(code="summons.notify_family"), policy_length=3, policy_unit="hour"
    )
    case = make_case()
    suspect = add_party(officers["lead"], case, role="suspect", name="王五", id_number=valid_id())
    at = timezone.now() - timedelta(minutes=5)
    measures.start_measure(
        officers["lead"],
        case,
        suspect,
        "summons",
        started_at=at,
        officers=[officers["lead"], officers["partner"]],
    )
    assert Deadline.objects.get(rule_id="summons.notify_family").due_at == at + timedelta(hours=3)


def test_statutory_periods_are_refused(api, admin):
    r = patch(api("admin"), "/api/rules/summons.criminal", {"policy_length": 48})
    assert r.status_code == 422 and r.json()["code"] == "rule.statutory"
    assert Rule.objects.get(code="summons.criminal").policy_length is None
    with pytest.raises(InvalidInput):
        services.tune_rule(
            admin, Rule.objects.get(code="detention.to_house"), policy_length=48, policy_unit="hour"
        )


def test_statute_rules_tune_their_practice_only(api, admin):
    r = patch(
        api("admin"),
        "/api/rules/detention.to_house",
        {"severity": "warning", "audience": ["case_management", "legal_affairs"], "enabled": True},
    )
    assert r.status_code == 200, r.content
    assert r.json()["severity"] == "warning"
    assert r.json()["audience"] == ["case_management", "legal_affairs"]


@pytest.mark.parametrize(
    "body",
    [
        {"audience": ["defence_lawyer"]},
        {"audience": "case_management"},
        {"severity": "apocalyptic"},
        {"warn_before_minutes": -1},
        {"escalate_after_minutes": 0},
        {"policy_length": 0, "policy_unit": "day"},
        {"policy_length": 5, "policy_unit": "week"},
        {"policy_length": 10**9, "policy_unit": "hour"},
    ],
)
def test_bad_tuning_is_refused_with_4xx(api, admin, body):
    before = Rule.objects.get(code="dossier.return")
    r = patch(api("admin"), "/api/rules/dossier.return", body)
    assert 400 <= r.status_code < 500, r.content
    after = Rule.objects.get(code="dossier.return")
    assert (after.audience, after.severity, after.policy_length) == (
        before.audience,
        before.severity,
        before.policy_length,
    )


def test_only_an_administrator_tunes(api, officers, admin):
    r = patch(api("manager"), "/api/rules/dossier.return", {"severity": "critical"})
    assert r.status_code == 403
    with pytest.raises(PermissionDenied):
        services.tune_rule(officers["lead"], Rule.objects.get(code="dossier.return"), enabled=False)
    assert api("lead").get("/api/rules/nonexistent.rule").status_code == 404


def test_a_disabled_rule_opens_no_clock(admin, make_case):
    services.tune_rule(admin, Rule.objects.get(code="filing.review"), enabled=False)
    case = make_case()
    assert not Deadline.objects.filter(case=case, rule_id="filing.review").exists()
