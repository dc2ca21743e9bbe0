"""The three-level response's pages: the inbox, the board, the form, a request's
page and its steps, the case card — and what a refused post leaves."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casecenter.assistance import services
from casecenter.assistance.models import AssistanceRequest
from casecenter.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def english(client):
    client.post("/i18n/setlang/", {"language": "en"})
    return client


# --- the form ---------------------------------------------------------------------------


def test_the_form_offers_the_units_in_reach_and_each_levels_target(
    browser_of, officers, case, units, people
):
    page = browser_of(officers["lead"]).get(f"/assistance/new/?case={case.pk}")

    assert page.status_code == 200
    body = text(page)
    offered = set(re.findall(r'name="unit"[^>]*>(.*?)</select>', body)[0].split("</option>"))
    offered_ids = {int(v) for v in re.findall(r'<option value="(\d+)"', "".join(offered))}
    assert offered_ids == {units[k].pk for k in ("criminal", "economic", "narcotics", "legal")}
    assert "1小时" in body and "4小时" in body and "24小时" in body
    assert "一级响应" in body


def test_the_form_in_english_shows_the_targets(browser_of, officers, case, people):
    client = english(browser_of(officers["lead"]))

    body = text(client.get(f"/assistance/new/?case={case.pk}"))

    assert "answer within 1 hour" in body and "answer within 24 hours" in body


def test_posting_the_form_asks_and_opens_the_request(browser_of, officers, case, units, people):
    client = browser_of(officers["lead"])

    r = client.post(
        f"/assistance/new/?case={case.pk}",
        {
            "unit": units["economic"].pk,
            "level": 2,
            "topic": "evidence",
            "question": "资金流水如何固定？",
        },
    )

    made = AssistanceRequest.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/assistance/{made.pk}/"
    assert (made.unit, made.level, made.topic) == (units["economic"], 2, "evidence")
    page = text(client.get(r["Location"]))
    assert made.number in page and "资金流水如何固定？" in page


@pytest.mark.parametrize(
    "form",
    [
        {"unit": "far", "level": 2, "topic": "evidence", "question": "问"},
        {"unit": "criminal", "level": 5, "topic": "evidence", "question": "问"},
        {"unit": "criminal", "level": 2, "topic": "gossip", "question": "问"},
        {"unit": "criminal", "level": 2, "topic": "evidence", "question": ""},
        {"unit": "criminal", "level": 2, "topic": "evidence", "question": "问" * 4001},
    ],
)
def test_a_bad_form_is_shown_again_with_422_and_nothing_is_written(
    browser_of, officers, case, units, people, form
):
    form = {**form, "unit": units[form["unit"]].pk}
    lead = browser_of(officers["lead"])  # logged in (an audited login) before counting
    before = (AssistanceRequest.objects.count(), AuditEntry.objects.count())

    r = lead.post(f"/assistance/new/?case={case.pk}", form)

    assert r.status_code == 422
    assert 'class="errorlist' in r.content.decode()
    assert (AssistanceRequest.objects.count(), AuditEntry.objects.count()) == before


def test_the_form_is_404_for_a_case_unknown_and_403_for_one_not_worked(
    browser_of, officers, case, people
):
    assert (
        browser_of(officers["stranger"]).get(f"/assistance/new/?case={case.pk}").status_code == 404
    )
    assert (
        browser_of(officers["bystander"]).get(f"/assistance/new/?case={case.pk}").status_code == 403
    )
    assert browser_of(officers["lead"]).get("/assistance/new/?case=x1").status_code == 404
    assert browser_of(officers["lead"]).get("/assistance/new/?case=" + "9" * 16).status_code == 404


def test_without_a_case_the_form_lists_the_cases_to_ask_about(
    browser_of, officers, make_case, people
):
    mine = make_case(title="我的盗窃案")
    closed = make_case(title="已结案")
    type(closed).objects.filter(pk=closed.pk).update(state="closed")

    body = text(browser_of(officers["partner"]).get("/assistance/new/"))

    assert mine.number in body and closed.number not in body
    assert mine.number not in text(browser_of(officers["bystander"]).get("/assistance/new/"))


# --- the request's page -----------------------------------------------------------------


def test_the_request_page_shows_the_timeline_and_the_clock_to_the_unit_without_the_cases_people(
    browser_of, ask, case, people, officers
):
    from casecenter.cases.services import add_party

    add_party(officers["lead"], case, role="suspect", name="张三丰")
    request = ask(level=1)

    page = browser_of(people["tianye"]).get(f"/assistance/{request.pk}/")

    body = text(page)
    assert page.status_code == 200
    assert case.number in body and case.title in body and "张三丰" not in body
    assert f'href="/cases/{case.pk}/"' not in body  # the unit cannot open the case
    assert 'data-testid="answer"' in body and 'data-testid="withdraw"' not in body
    assert 'data-rule="response.level1"' in body
    assert AuditEntry.objects.filter(action="assistance.read").count() == 1


@pytest.mark.parametrize("who", ["bystander", "stranger", "manager", "judge"])
def test_the_request_page_is_404_for_outsiders(browser_of, ask, officers, people, who):
    request = ask()

    client = browser_of(officers[who])

    assert client.get(f"/assistance/{request.pk}/").status_code == 404
    assert client.post(f"/assistance/{request.pk}/withdraw/", {"reason": "x"}).status_code == 404
    request.refresh_from_db()
    assert request.state == "open"


def test_the_steps_through_the_page(browser_of, ask, officers, people):
    request = ask(level=3)
    lead, tianye, maqun = (
        browser_of(officers["lead"]),
        browser_of(people["tianye"]),
        browser_of(people["maqun"]),
    )
    url = f"/assistance/{request.pk}/"

    assert 'data-testid="escalate"' in text(maqun.get(url))
    maqun.post(url + "escalate/", {"level": 2, "reason": "重点案件"})
    tianye.post(url + "answer/", {"channel": "remote", "answer": "先查通话记录。", "round": 1})
    lead.post(url + "follow-up/", {"question": "通话记录已查，下一步？"})
    tianye.post(url + "answer/", {"channel": "on_site", "answer": "到席位面谈。", "round": 2})
    r = lead.post(url + "close/", {"helpful": "yes", "note": ""})

    assert r.status_code == 302 and r["Location"] == url
    request.refresh_from_db()
    assert (request.state, request.level, request.round, request.helpful) == (
        "closed",
        2,
        2,
        True,
    )
    body = text(lead.get(url))
    assert 'data-kind="escalated"' in body and 'data-kind="followed_up"' in body
    assert "到席位面谈。" in body


def test_a_refused_step_is_a_message_and_changes_nothing(browser_of, ask, officers, people):
    request = ask(level=3)
    tianye = browser_of(people["tianye"])
    lead = browser_of(officers["lead"])  # logged in (an audited login) before counting
    before = AuditEntry.objects.count()

    r = tianye.post(
        f"/assistance/{request.pk}/answer/", {"channel": "fax", "answer": "x", "round": 1}
    )
    tianye.post(
        f"/assistance/{request.pk}/answer/", {"channel": "remote", "answer": "x", "round": 7}
    )
    lead.post(f"/assistance/{request.pk}/escalate/", {"level": 3, "reason": "x"})

    assert r.status_code == 302
    page = text(tianye.get(f"/assistance/{request.pk}/"))
    assert "errorlist" in page or 'class="error"' in page
    request.refresh_from_db()
    assert (request.state, request.level) == ("open", 3)
    assert AuditEntry.objects.exclude(action="assistance.read").count() == before


# --- the inbox --------------------------------------------------------------------------


def test_the_unit_sees_its_requests_waiting_first(browser_of, ask, people):
    later = ask(level=3)
    urgent = ask(level=1)
    ask(level=2, unit="economic")

    body = text(browser_of(people["tianye"]).get("/assistance/?box=unit"))

    numbers = re.findall(r'data-request="([^"]+)"', body)
    assert numbers == [urgent.number, later.number]


def test_the_commander_sees_the_board_by_level_with_time_left_and_overdue(browser_of, ask, people):
    late = ask(level=1, at=timezone.now() - timedelta(hours=2))
    running = ask(level=3, unit="narcotics")

    page = browser_of(people["maqun"]).get("/assistance/")

    body = text(page)
    assert page.status_code == 200 and 'data-testid="board"' in body
    level1 = body.split('data-board-level="1"')[1].split('data-board-level="2"')[0]
    level3 = body.split('data-board-level="3"')[1]
    assert late.number in level1 and 'data-testid="overdue"' in level1
    assert running.number in level3 and 'data-testid="time-left"' in level3
    assert re.search(r'data-testid="board-overdue"[^>]*>1<', body)


def test_an_officer_sees_their_cases_requests_in_english(browser_of, ask, officers, people):
    request = ask(level=2)
    client = english(browser_of(officers["partner"]))

    body = text(client.get("/assistance/"))

    assert request.number in body and "Level 2" in body and "left" in body
    assert request.number not in text(browser_of(officers["bystander"]).get("/assistance/"))


# --- the case card ----------------------------------------------------------------------


def render_card(user, case) -> str:
    request = RequestFactory().get("/")
    request.user = user
    html = Template("{% load assistance %}{% assistance_card case %}").render(
        Context({"request": request, "case": case})
    )
    return re.sub(r"\s+", " ", html)


def test_the_case_card_lists_the_requests_and_links_to_the_form(ask, case, officers, people):
    request = ask(level=1)
    withdrawn = ask(level=3, unit="legal")
    services.withdraw_request(officers["lead"], withdrawn, reason="不需要了")

    lead = render_card(officers["lead"], case)

    assert request.number in lead and withdrawn.number in lead
    assert f'href="/assistance/new/?case={case.pk}"' in lead
    assert lead.index(request.number) < lead.index(withdrawn.number)  # waiting first
    # a supervisor of the station sees the case but not its requests, and cannot ask
    manager = render_card(officers["manager"], case)
    assert request.number not in manager and "/assistance/new/" not in manager
    # the unit's member sees its own request on the card, not the legal-affairs one
    unit = render_card(people["tianye"], case)
    assert request.number in unit and withdrawn.number not in unit


def test_the_case_card_offers_no_form_on_a_finished_case(case, officers, people):
    type(case).objects.filter(pk=case.pk).update(state="closed")
    case.refresh_from_db()

    assert "/assistance/new/" not in render_card(officers["lead"], case)


# --- no 500 ------------------------------------------------------------------------------


FIELDS = [
    "unit",
    "level",
    "topic",
    "question",
    "answer",
    "channel",
    "round",
    "reason",
    "helpful",
    "note",
]
values = st.one_of(
    st.text(max_size=30),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["1", "2", "3", "0", "remote", "on_site", "yes", "no", "evidence", "\x00"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(
        [
            "/assistance/new/?case={c}",
            "/assistance/{r}/answer/",
            "/assistance/{r}/follow-up/",
            "/assistance/{r}/escalate/",
            "/assistance/{r}/close/",
            "/assistance/{r}/withdraw/",
        ]
    ),
    form=st.dictionaries(st.sampled_from(FIELDS), values, max_size=6),
)
def test_no_form_input_makes_an_assistance_page_answer_500(
    browser_of, officers, people, case, ask, path, form
):
    request = AssistanceRequest.objects.first() or ask()
    for user in (officers["lead"], people["tianye"]):
        r = browser_of(user).post(path.format(c=case.pk, r=request.pk), form)
        assert r.status_code < 500, (path, form)
