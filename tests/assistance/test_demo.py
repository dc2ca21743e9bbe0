"""The demo's requests for help: every state and level, a breach the commander sees."""

from __future__ import annotations

import random

import pytest
from django.db import transaction
from django.test import Client, override_settings

from casecenter.assistance.models import AssistanceEvent, AssistanceRequest
from casecenter.demo import assistance
from casecenter.demo.data import load
from casecenter.supervision.models import Alert, Deadline
from casecenter.supervision.selectors import visible_alerts
from tests.conftest import FAST_HASHERS

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker):
    """Loaded once for the module (half a minute on PostgreSQL), rolled back after
    it; each test runs in a savepoint of its own (``db``)."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS),
        transaction.atomic(),
    ):
        users = load(60)
        yield users, assistance.build(random.Random(20261126), users)
        transaction.set_rollback(True)


@pytest.fixture
def demo(demo_world, db):
    return demo_world


def clocks(request) -> list[tuple[str, str]]:
    rows = Deadline.objects.filter(subject=f"assistance:{request.pk}").order_by("id")
    return list(rows.values_list("rule_id", "state"))


def test_the_demo_has_requests_in_every_state_and_level(demo):
    users, made = demo

    assert len(made) == 8
    assert [r.asked_at for r in made] == sorted(r.asked_at for r in made)  # numbered in order
    states = {r.state for r in AssistanceRequest.objects.all()}
    assert states == {"open", "answered", "closed", "withdrawn"}
    assert {r.level for r in made} == {1, 2, 3}
    assert len({r.case_id for r in made}) == 8  # eight cases, one request each
    assert {r.unit for r in made} == {
        users[name].unit for name in ("tianye", "jiangtao", "fengxue", "sunli")
    }
    for request in made:  # every asker is the case's lead, every case criminal and open
        assert request.case.kind == "criminal" and request.case.state in ("investigating", "filed")
        assert request.case.assignments.filter(user=request.asker, role="lead").exists()


def test_the_unanswered_level_one_request_breached_and_reached_the_commander(demo):
    users, made = demo
    breached = next(r for r in made if r.level == 1 and r.state == "open")

    assert clocks(breached) == [("response.level1", "breached")]
    alert = Alert.objects.get(deadline__subject=f"assistance:{breached.pk}", kind="breach")
    for name in ("tianye", "maqun", breached.asker.username):
        assert visible_alerts(users[name]).filter(pk=alert.pk).exists(), name
    assert alert.level == 1 and alert.audience.filter(role="commander").exists()


def test_the_demo_answers_on_site_and_remotely_closes_raises_follows_up_and_withdraws(demo):
    users, made = demo
    seated = next(r for r in made if r.state == "answered")
    fraud = next(r for r in made if r.state == "closed" and r.helpful)
    raised = next(r for r in made if r.events.filter(kind="escalated").exists())
    again = next(r for r in made if r.round == 2)
    gone = next(r for r in made if r.state == "withdrawn")
    late = next(r for r in made if r.state == "closed" and not r.helpful)

    assert (seated.state, seated.channel, seated.answered_by) == (
        "answered",
        "on_site",
        users["tianye"],
    )
    assert clocks(seated) == [("response.level1", "met")]
    assert (fraud.state, fraud.channel, fraud.helpful) == ("closed", "remote", True)
    step = raised.events.get(kind=AssistanceEvent.Kind.ESCALATED)
    assert (step.from_level, step.level, step.actor) == (3, 2, users["maqun"])
    assert clocks(raised) == [("response.level3", "cancelled"), ("response.level2", "running")]
    assert (again.state, again.round) == ("open", 2)
    assert clocks(again) == [("response.level2", "met"), ("response.level2", "running")]
    assert gone.state == "withdrawn" and clocks(gone) == [("response.level3", "cancelled")]
    assert (late.state, late.helpful) == ("closed", False)
    assert clocks(late) == [("response.level3", "breached")]


def test_the_demos_inboxes_and_board_render(demo):
    users, made = demo

    def page(name, url):
        client = Client()
        client.force_login(users[name])
        response = client.get(url)
        assert response.status_code == 200, (name, url)
        return response.content.decode()

    breached = next(r for r in made if r.level == 1 and r.state == "open")
    to_legal = next(r for r in made if r.state == "open" and r.unit == users["sunli"].unit)
    board = page("maqun", "/assistance/")
    assert breached.number in board and to_legal.number not in board  # legal: the branch's
    assert breached.number in page("tianye", "/assistance/")
    assert to_legal.number in page("sunli", "/assistance/")
    assert breached.number in page(breached.asker.username, "/assistance/")
    for request in made:
        page(request.asker.username, f"/assistance/{request.pk}/")
