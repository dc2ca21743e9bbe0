"""The assistance API end to end, its errors as JSON with codes, and bad input that
changes nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casecenter.assistance.models import AssistanceRequest
from casecenter.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def question(case, units):
    return {
        "case_id": case.pk,
        "unit_id": units["criminal"].pk,
        "level": 2,
        "topic": "interrogation",
        "question": "嫌疑人否认到过现场，请提示讯问方向。",
    }


def test_ask_answer_follow_up_answer_and_close_through_the_api(api, people, question, units):
    lead, tianye, maqun = api("lead"), api("tianye"), api("maqun")

    reach = lead.get(f"/api/assistance/cases/{question['case_id']}/units").json()
    assert {u["id"] for u in reach} == {
        units[k].pk for k in ("criminal", "economic", "narcotics", "legal")
    }
    levels = lead.get("/api/assistance/levels").json()
    assert [(lv["level"], lv["target_en"]) for lv in levels] == [
        (1, "1 hour"),
        (2, "4 hours"),
        (3, "24 hours"),
    ]

    made = post(lead, "/api/assistance", question)
    assert made.status_code == 201, made.content
    request = made.json()
    rid = request["id"]
    assert request["state"] == "open" and request["level"] == 2
    assert request["clocks"][0]["rule"] == "response.level2"
    assert request["may_withdraw"] and request["may_escalate"]

    inbox = tianye.get("/api/assistance?box=unit&state=waiting").json()
    assert [r["id"] for r in inbox] == [rid] and "question" not in inbox[0]
    read = tianye.get(f"/api/assistance/{rid}").json()
    assert read["question"] == question["question"] and read["may_answer"]
    assert read["basis"] == "unit"

    answered = post(
        tianye,
        f"/api/assistance/{rid}/answer",
        {"answer": "先问行程，再出示轨迹。", "channel": "on_site", "round": 1},
    )
    assert answered.status_code == 200, answered.content
    assert answered.json()["state"] == "answered" and answered.json()["channel"] == "on_site"
    again = post(lead, f"/api/assistance/{rid}/follow-up", {"question": "轨迹有缺口怎么办？"})
    assert again.json()["round"] == 2 and again.json()["state"] == "open"
    stale = post(
        tianye, f"/api/assistance/{rid}/answer", {"answer": "旧", "channel": "remote", "round": 1}
    )
    assert stale.status_code == 409 and stale.json()["code"] == "assistance.stale"
    post(
        tianye,
        f"/api/assistance/{rid}/answer",
        {"answer": "调取周边监控补齐。", "channel": "remote", "round": 2},
    )
    closed = post(lead, f"/api/assistance/{rid}/close", {"helpful": True, "note": "已突破"})
    assert closed.status_code == 200
    body = closed.json()
    assert body["state"] == "closed" and body["helpful"] is True
    assert [e["kind"] for e in body["events"]] == [
        "asked",
        "answered",
        "followed_up",
        "answered",
        "closed",
    ]
    assert [c["state"] for c in body["clocks"]] == ["met", "met"]
    assert maqun.get("/api/assistance/board").json()["answered_30_days"] == 2


def test_the_commander_raises_the_level_and_sees_the_board(api, people, question):
    rid = post(api("lead"), "/api/assistance", {**question, "level": 3}).json()["id"]
    maqun = api("maqun")

    raised = post(maqun, f"/api/assistance/{rid}/escalate", {"level": 1, "reason": "命案"})

    assert raised.status_code == 200, raised.content
    assert raised.json()["level"] == 1
    assert [(c["rule"], c["state"]) for c in raised.json()["clocks"]] == [
        ("response.level3", "cancelled"),
        ("response.level1", "running"),
    ]
    board = maqun.get("/api/assistance/board").json()
    assert [(lv["level"], [r["id"] for r in lv["requests"]]) for lv in board["levels"]] == [
        (1, [rid]),
        (2, []),
        (3, []),
    ]
    forbidden = api("tianye").get("/api/assistance/board")
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "assistance.board_role"


def test_withdrawal_through_the_api(api, people, question):
    lead = api("lead")
    rid = post(lead, "/api/assistance", question).json()["id"]

    gone = post(lead, f"/api/assistance/{rid}/withdraw", {"reason": "已自行突破"})

    assert gone.json()["state"] == "withdrawn"
    assert [c["state"] for c in gone.json()["clocks"]] == ["cancelled"]


@pytest.mark.parametrize("who", ["bystander", "stranger", "judge", "manager"])
def test_outsiders_get_404_for_a_request_and_its_steps(api, people, officers, question, who):
    rid = post(api("lead"), "/api/assistance", question).json()["id"]
    client = api(who)

    assert client.get(f"/api/assistance/{rid}").status_code == 404
    r = post(client, f"/api/assistance/{rid}/answer", {"answer": "x", "channel": "remote"})
    assert r.status_code == 404 and r.json()["code"] == "assistance.not_found"
    assert post(client, f"/api/assistance/{rid}/withdraw", {"reason": "x"}).status_code == 404
    assert client.get("/api/assistance").json() == []


def test_another_unit_sees_nothing_and_the_wrong_member_is_refused(api, people, question):
    rid = post(api("lead"), "/api/assistance", question).json()["id"]

    assert api("jiangtao").get(f"/api/assistance/{rid}").status_code == 404
    # the asker sees it but may not answer it
    r = post(api("lead"), f"/api/assistance/{rid}/answer", {"answer": "x", "channel": "remote"})
    assert r.status_code == 403 and r.json()["code"] == "assistance.not_member"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"unit_id": "far"}, 422, "assistance.unit_out_of_reach"),
        ({"level": 4}, 422, "invalid_input"),
        ({"level": "一级"}, 422, "invalid_input"),
        ({"topic": "gossip"}, 422, "invalid_input"),
        ({"question": ""}, 422, "invalid_input"),
        ({"question": "问" * 4001}, 422, "invalid_input"),
        ({"question": "a\x00b"}, 422, "invalid_input"),
        ({"at": "2999-01-01T00:00:00+08:00"}, 422, "invalid_input"),
        ({"at": "2100-01-01T00:00:00+08:00"}, 422, "assistance.future"),
        ({"case_id": 10**14}, 404, "case.not_found"),
    ],
)
def test_bad_requests_get_4xx_json_and_change_nothing(
    api, people, units, question, change, status, code
):
    client = api("lead")
    if change.get("unit_id") == "far":
        change = {"unit_id": units["far"].pk}
    before = (AssistanceRequest.objects.count(), AuditEntry.objects.count())

    r = post(client, "/api/assistance", {**question, **change})

    assert r.status_code == status, r.content
    assert r.json()["code"] == code
    assert (AssistanceRequest.objects.count(), AuditEntry.objects.count()) == before


def test_a_case_officer_not_assigned_is_refused_403(api, people, question, officers):
    r = post(api("bystander"), "/api/assistance", question)

    assert r.status_code == 403 and r.json()["code"] == "assistance.not_assigned"
    assert (
        api("bystander").get(f"/api/assistance/cases/{question['case_id']}/units").status_code
        == 403
    )


def test_bad_steps_get_4xx_and_change_nothing(api, people, question):
    lead, tianye = api("lead"), api("tianye")
    rid = post(lead, "/api/assistance", question).json()["id"]
    before = AuditEntry.objects.count()

    cases = [
        (tianye, "answer", {"answer": "x", "channel": "fax"}, 422),
        (tianye, "answer", {"answer": "", "channel": "remote"}, 422),
        (lead, "escalate", {"level": 3, "reason": "x"}, 422),
        (lead, "escalate", {"level": 2, "reason": "x"}, 422),  # 2 is not above 2
        (lead, "escalate", {"level": 1, "reason": ""}, 422),
        (lead, "close", {"helpful": True}, 409),  # not answered yet
        (lead, "follow-up", {"question": "再问"}, 409),
        (lead, "withdraw", {}, 422),
        (tianye, "answer", {"answer": "x", "channel": "remote", "at": "1989-06-01T00:00:00Z"}, 422),
    ]
    for client, step, body, status in cases:
        r = post(client, f"/api/assistance/{rid}/{step}", body)
        assert r.status_code == status, (step, body, r.content)
        assert "code" in r.json()
    assert AuditEntry.objects.count() == before
    request = AssistanceRequest.objects.get(pk=rid)
    assert (request.state, request.level, request.round) == ("open", 2, 1)


def test_an_answer_dated_in_the_past_is_kept_as_stated(api, people, question):
    asked = timezone.now() - timedelta(hours=2)
    rid = post(api("lead"), "/api/assistance", {**question, "at": asked.isoformat()}).json()["id"]
    answered_at = asked + timedelta(minutes=30)

    r = post(
        api("tianye"),
        f"/api/assistance/{rid}/answer",
        {"answer": "意见", "channel": "remote", "at": answered_at.isoformat()},
    )

    stated = datetime.fromisoformat(r.json()["answered_at"].replace("Z", "+00:00"))
    assert abs(stated - answered_at) < timedelta(milliseconds=1)  # JSON keeps milliseconds
    assert AssistanceRequest.objects.get(pk=rid).answered_at == answered_at
    assert [c["state"] for c in r.json()["clocks"]] == ["met"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    step=st.sampled_from(
        ["", "/{r}/answer", "/{r}/follow-up", "/{r}/escalate", "/{r}/close", "/{r}/withdraw"]
    ),
    body=st.dictionaries(
        st.sampled_from(
            [
                "case_id",
                "unit_id",
                "level",
                "topic",
                "question",
                "answer",
                "channel",
                "round",
                "reason",
                "helpful",
                "note",
                "at",
            ]
        ),
        json_values,
        max_size=7,
    ),
)
def test_no_input_makes_the_assistance_api_answer_500(api, people, question, step, body):
    lead = api("lead")
    rid = AssistanceRequest.objects.values_list("pk", flat=True).first()
    if rid is None:
        rid = post(lead, "/api/assistance", question).json()["id"]
    r = post(lead, f"/api/assistance{step.format(r=rid)}", body)
    assert r.status_code < 500, (step, body, r.content)
