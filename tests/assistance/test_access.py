"""Need-to-know of requests for help, the audited read, the commander's board, and
the alerts of an unanswered request (the unit's specialists, then the commander)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from casecenter.assistance import access, selectors, services
from casecenter.audit.models import AuditEntry
from casecenter.errors import NotFound, PermissionDenied
from casecenter.supervision.models import Alert
from casecenter.supervision.selectors import visible_alerts
from casecenter.supervision.worker import run_once

pytestmark = pytest.mark.django_db


def sees(user, request) -> bool:
    return access.visible_requests(user).filter(pk=request.pk).exists()


def test_the_asker_the_cases_officers_the_unit_and_the_commander_see_a_request(
    ask, officers, people
):
    request = ask(unit="criminal")

    for user in (officers["lead"], officers["partner"], people["tianye"], people["tianye2"]):
        assert sees(user, request), user
    assert sees(people["maqun"], request)
    for user in (
        officers["bystander"],  # same station, not on the case
        officers["manager"],  # the station's case-management group
        officers["legal"],  # the branch's legal affairs, not the unit asked
        officers["stranger"],
        officers["judge"],
        people["jiangtao"],  # another unit of the same center
        people["fazhi"],
        people["far"],
        people["far_commander"],
    ):
        assert not sees(user, request), user
        with pytest.raises(NotFound):
            selectors.read_request(user, request.pk)


def test_the_legal_affairs_unit_sees_only_what_was_asked_of_it(ask, people):
    to_criminal = ask(unit="criminal")
    to_legal = ask(unit="legal", topic="legal_opinion")

    assert set(selectors.unit_inbox(people["fazhi"])) == {to_legal}
    assert set(selectors.unit_inbox(people["tianye"])) == {to_criminal}
    # the center's commander sees the center's units' requests, not the branch's
    assert set(access.visible_requests(people["maqun"])) == {to_criminal}


def test_a_secret_cases_requests_are_seen_only_by_the_assigned_and_the_unit(
    make_case, officers, people, units
):
    secret = make_case(secret=True, title="涉密案件")
    request = services.ask_for_help(
        officers["lead"],
        secret,
        unit=units["criminal"],
        level=2,
        topic="investigation",
        question="请提示侦查方向。",
    )

    assert sees(officers["lead"], request) and sees(officers["partner"], request)
    assert sees(people["tianye"], request)
    assert not sees(people["maqun"], request)  # the commander sees no secret case's request
    # the asker taken off a secret case no longer sees their request, nor steers it
    from casecenter.cases.models import Assignment

    by_partner = services.ask_for_help(
        officers["partner"], secret, unit=units["criminal"], level=3, topic="other", question="问"
    )
    Assignment.objects.filter(case=secret, user=officers["partner"]).update(ended_at=timezone.now())
    assert not sees(officers["partner"], by_partner)
    with pytest.raises(PermissionDenied):
        services.withdraw_request(officers["partner"], by_partner, reason="不需要了")


def test_reading_a_request_is_audited_with_its_basis(ask, officers, people):
    request = ask()

    view = selectors.read_request(people["tianye"], request.pk)
    selectors.read_request(officers["partner"], request.pk)
    selectors.read_request(people["maqun"], request.pk)

    assert view.may_answer and not view.may_close and not view.case_visible
    reads = AuditEntry.objects.filter(action="assistance.read", object_id=str(request.pk))
    assert [(e.actor_id, e.data["basis"]) for e in reads.order_by("id")] == [
        (people["tianye"].pk, "unit"),
        (officers["partner"].pk, "assigned"),
        (people["maqun"].pk, "commander"),
    ]


def test_what_each_viewer_may_do_next(ask, officers, people):
    request = ask(level=3)

    asker = selectors.read_request(officers["lead"], request.pk)
    commander = selectors.read_request(people["maqun"], request.pk)
    partner = selectors.read_request(officers["partner"], request.pk)

    assert asker.may_withdraw and asker.may_escalate and asker.higher_levels == [1, 2]
    assert not asker.may_answer and asker.case_visible
    assert commander.may_escalate and not commander.may_withdraw
    assert not (partner.may_escalate or partner.may_withdraw or partner.may_answer)


def test_the_commanders_board_shows_the_centers_waiting_requests_by_level(ask, officers, people):
    late = ask(level=1, at=timezone.now() - timedelta(hours=2))
    soon = ask(level=2, unit="economic")
    answered = ask(level=3, unit="narcotics")
    services.answer_request(people["fengxue"], answered, answer="意见", channel="remote")
    ask(level=3, unit="legal")  # the branch's legal affairs: not the center's board

    board = selectors.board(people["maqun"])

    assert {lv: [r.pk for r in rows] for lv, _, rows in board.by_level} == {
        1: [late.pk],
        2: [soon.pk],
        3: [],
    }
    assert (board.waiting, board.overdue, board.answered, board.on_time) == (2, 1, 1, 1)
    with pytest.raises(PermissionDenied):
        selectors.board(people["tianye"])


def test_an_officers_inbox_holds_their_cases_requests_waiting_first(ask, officers, people):
    later = ask(level=3)
    urgent = ask(level=1)
    done = ask(level=2)
    services.answer_request(people["tianye"], done, answer="意见", channel="remote")

    assert list(selectors.my_requests(officers["partner"])) == [urgent, later, done]
    assert list(selectors.my_requests(officers["partner"], state="waiting")) == [urgent, later]
    assert list(selectors.unit_inbox(people["tianye"], state="answered")) == [done]
    assert list(selectors.my_requests(officers["bystander"])) == []


def test_an_unanswered_request_breaches_and_the_alert_escalates_to_the_commander(
    ask, officers, people
):
    request = ask(level=1, at=timezone.now() - timedelta(hours=2))

    run_once()

    breach = Alert.objects.get(deadline__subject=f"assistance:{request.pk}", kind="breach")
    assert breach.rule_id == "response.level1" and breach.case_id == request.case_id
    for user in (people["tianye"], people["tianye2"], officers["lead"], officers["partner"]):
        assert visible_alerts(user).filter(pk=breach.pk).exists(), user
    assert not visible_alerts(people["maqun"]).filter(pk=breach.pk).exists()

    run_once(now=timezone.now() + timedelta(minutes=31))  # nobody acknowledged it

    assert visible_alerts(people["maqun"]).filter(pk=breach.pk).exists()
    assert not visible_alerts(people["far_commander"]).filter(pk=breach.pk).exists()


def test_a_requests_clocks_name_its_page_as_their_subject(ask):
    from django.urls import reverse

    from casecenter.supervision import subjects
    from casecenter.supervision.models import Deadline

    request = ask()
    clock = Deadline.objects.get(subject=f"assistance:{request.pk}")

    assert subjects.PAGES["assistance"] == "assistance-detail"
    assert reverse(subjects.PAGES["assistance"], args=[request.pk]) == f"/assistance/{request.pk}/"
    assert clock.reference == request.number and clock.case == request.case
    assert clock.shown_reference == request.number  # alerts name the request, not only the case
