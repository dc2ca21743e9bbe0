"""The three-level response's services: who asks, which units, the level's clock,
answer, follow-up, escalation, close and withdrawal — and what a refusal leaves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from casecenter.assistance import access, services
from casecenter.assistance.models import AssistanceEvent, AssistanceRequest
from casecenter.audit.models import AuditEntry
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.supervision.models import Deadline

pytestmark = pytest.mark.django_db


def clocks_of(request):
    return list(
        Deadline.objects.filter(subject=f"assistance:{request.pk}")
        .order_by("id")
        .values_list("rule_id", "state")
    )


def audited(action: str) -> int:
    return AuditEntry.objects.filter(action=action).count()


def unchanged(before_requests: int, before_audit: int) -> None:
    assert AssistanceRequest.objects.count() == before_requests
    assert AuditEntry.objects.count() == before_audit


# --- asking ---------------------------------------------------------------------------


def test_the_lead_and_the_assisting_officer_ask_and_requests_are_numbered_per_center_and_year(
    ask, officers, case, center
):
    first = ask()
    second = ask(actor=officers["partner"], unit="legal", topic="legal_opinion")
    year = timezone.localtime().year

    assert first.number == f"ZX-XZ-{year}-00001"
    assert first.organisation == center and first.state == "open" and first.round == 1
    assert first.asker == officers["lead"] and first.case == case
    # the legal-affairs unit is the branch's: its own series
    assert second.number == f"FZ-XZ-{year}-00001"
    assert second.asker == officers["partner"]
    assert list(first.events.values_list("kind", "text")) == [
        ("asked", "嫌疑人拒不供述，请提示讯问方向。")
    ]
    entry = AuditEntry.objects.filter(action="assistance.requested").first()
    assert entry.object_id == str(first.pk) and entry.data["case_id"] == case.pk


@pytest.mark.parametrize("who", ["bystander", "manager", "legal", "stranger", "judge"])
def test_only_the_cases_lead_or_assisting_officer_may_ask(ask, officers, who):
    before = (AssistanceRequest.objects.count(), AuditEntry.objects.count())

    with pytest.raises(PermissionDenied) as refused:
        ask(actor=officers[who])

    assert refused.value.code == "assistance.not_assigned"
    unchanged(*before)


def test_a_supervisor_assigned_to_the_case_does_not_ask(ask, officers, case):
    from casecenter.cases.services import assign_officer

    assign_officer(officers["lead"], case, officers["legal"], "supervisor")

    with pytest.raises(PermissionDenied):
        ask(actor=officers["legal"])


def test_the_units_in_reach_are_the_stations_the_branchs_and_the_centers_staffed_ones(
    case, units, people
):
    reach = set(access.units_in_reach(case))

    assert reach == {units["criminal"], units["economic"], units["narcotics"], units["legal"]}
    # not: another branch's unit, the command room (not a helping unit), a unit nobody is in


@pytest.mark.parametrize("unit", ["far", "command", "empty"])
def test_a_unit_out_of_reach_is_refused_and_nothing_is_written(ask, unit):
    before = (AssistanceRequest.objects.count(), AuditEntry.objects.count())

    with pytest.raises(InvalidInput) as refused:
        ask(unit=unit)

    assert refused.value.code == "assistance.unit_out_of_reach"
    unchanged(*before)
    assert not Deadline.objects.filter(subject__startswith="assistance:").exists()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"question": "   "}, "assistance.question"),
        ({"question": "问" * 4001}, "assistance.question_long"),
        ({"question": "a\x00b"}, "assistance.question_invalid"),
        ({"topic": "gossip"}, "assistance.topic"),
        ({"level": 0}, "assistance.level"),
        ({"level": 4}, "assistance.level"),
        ({"level": True}, "assistance.level"),
        ({"at": timezone.now() + timedelta(hours=1)}, "assistance.future"),
        ({"at": timezone.now().replace(year=1980)}, "assistance.implausible"),
    ],
)
def test_bad_input_to_a_request_is_refused_and_nothing_is_written(ask, fields, code):
    before = (AssistanceRequest.objects.count(), AuditEntry.objects.count())

    with pytest.raises(InvalidInput) as refused:
        ask(**fields)

    assert refused.value.code == code
    unchanged(*before)


def test_a_finished_case_takes_no_more_requests(ask, case):
    type(case).objects.filter(pk=case.pk).update(state="closed")
    case.refresh_from_db()

    with pytest.raises(Conflict) as refused:
        ask()

    assert refused.value.code == "assistance.case_finished"


# --- the level's clock ----------------------------------------------------------------


@pytest.mark.parametrize(("level", "hours"), [(1, 1), (2, 4), (3, 24)])
def test_each_level_runs_its_response_target_on_the_case_for_the_units_organisation(
    ask, case, center, level, hours
):
    asked = timezone.now() - timedelta(minutes=10)

    request = ask(level=level, at=asked)

    clock = Deadline.objects.get(subject=f"assistance:{request.pk}")
    assert clock.rule_id == f"response.level{level}"
    assert clock.case == case and clock.organisation == center
    assert clock.reference == request.number
    assert clock.trigger_at == asked and clock.state == "running"
    assert clock.due_at == asked + timedelta(hours=hours)
    assert request.due_at == clock.due_at and request.clock_from == asked


def test_a_legal_affairs_request_is_clocked_for_the_branch(ask, orgs):
    request = ask(unit="legal")

    assert Deadline.objects.get(subject=f"assistance:{request.pk}").organisation == orgs["legal"]


# --- answering ------------------------------------------------------------------------


def test_a_member_of_the_unit_answers_and_the_clock_is_met(ask, people):
    request = ask(level=1, at=timezone.now() - timedelta(minutes=40))

    done = services.answer_request(
        people["tianye2"],
        request,
        answer="先固定手机电子数据，再就资金去向讯问。",
        channel="on_site",
    )

    assert done.state == "answered" and done.answered_by == people["tianye2"]
    assert done.channel == "on_site"
    assert clocks_of(request) == [("response.level1", "met")]
    last = done.events.last()
    assert (last.kind, last.channel, last.actor) == ("answered", "on_site", people["tianye2"])
    assert AuditEntry.objects.filter(action="assistance.answered").get().data["on_time"] is True


def test_an_answer_after_the_target_leaves_the_clock_breached(ask, people):
    request = ask(level=1, at=timezone.now() - timedelta(hours=3))

    services.answer_request(people["tianye"], request, answer="建议调取监控。", channel="remote")

    assert clocks_of(request) == [("response.level1", "breached")]
    assert AuditEntry.objects.filter(action="assistance.answered").get().data["on_time"] is False


@pytest.mark.parametrize("who", ["jiangtao", "fazhi", "maqun", "far"])
def test_only_a_member_of_the_unit_asked_answers(ask, people, officers, who):
    request = ask()
    before = AuditEntry.objects.count()

    with pytest.raises(PermissionDenied) as refused:
        services.answer_request(people[who], request, answer="意见", channel="remote")

    assert refused.value.code == "assistance.not_member"
    request.refresh_from_db()
    assert request.state == "open" and AuditEntry.objects.count() == before


def test_the_asker_does_not_answer_their_own_request(ask, officers):
    with pytest.raises(PermissionDenied):
        services.answer_request(officers["lead"], ask(), answer="自己答", channel="remote")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"answer": "", "channel": "remote"}, "assistance.answer"),
        ({"answer": "意见", "channel": "phone"}, "assistance.channel"),
        ({"answer": "意见", "channel": "remote", "at": timezone.now() - timedelta(days=1)}, None),
    ],
)
def test_bad_answers_change_nothing(ask, people, fields, code):
    request = ask(at=timezone.now() - timedelta(hours=1))
    before = AuditEntry.objects.count()

    with pytest.raises(InvalidInput) as refused:
        services.answer_request(people["tianye"], request, **fields)

    assert refused.value.code == (code or "assistance.before_last_step")
    request.refresh_from_db()
    assert request.state == "open" and AuditEntry.objects.count() == before
    assert clocks_of(request) == [("response.level3", "running")]


def test_a_request_answered_once_is_not_answered_again(ask, people):
    request = ask()
    services.answer_request(people["tianye"], request, answer="第一份意见", channel="remote")

    with pytest.raises(Conflict) as refused:
        services.answer_request(people["tianye2"], request, answer="第二份意见", channel="remote")

    assert refused.value.code == "assistance.not_open"
    assert request.events.filter(kind="answered").count() == 1


# --- follow-up ------------------------------------------------------------------------


def test_a_follow_up_reopens_the_request_at_its_level_with_a_new_clock(ask, officers, people):
    request = ask(level=2, at=timezone.now() - timedelta(hours=2))
    services.answer_request(
        people["tianye"],
        request,
        answer="查开房记录。",
        channel="remote",
        at=timezone.now() - timedelta(hours=1),
    )
    asked_again = timezone.now() - timedelta(minutes=5)

    again = services.follow_up(
        officers["lead"], request, question="开房记录无果，下一步？", at=asked_again
    )

    assert again.state == "open" and again.level == 2 and again.round == 2
    assert again.answered_by is None and again.channel == ""
    assert again.due_at == asked_again + timedelta(hours=4)
    assert clocks_of(request) == [("response.level2", "met"), ("response.level2", "running")]
    # an answer written to the first question is not taken for the second
    with pytest.raises(Conflict) as stale:
        services.answer_request(people["tianye"], again, answer="旧答复", channel="remote", round=1)
    assert stale.value.code == "assistance.stale"
    services.answer_request(
        people["tianye"], again, answer="调取通话记录。", channel="remote", round=2
    )
    assert clocks_of(request) == [("response.level2", "met"), ("response.level2", "met")]
    assert list(again.events.values_list("kind", "round")) == [
        ("asked", 1),
        ("answered", 1),
        ("followed_up", 2),
        ("answered", 2),
    ]


def test_only_the_asker_follows_up_and_only_after_an_answer(ask, officers, people):
    request = ask()
    with pytest.raises(Conflict) as waiting:
        services.follow_up(officers["lead"], request, question="还有问题")
    assert waiting.value.code == "assistance.not_answered"
    services.answer_request(people["tianye"], request, answer="意见", channel="remote")

    with pytest.raises(PermissionDenied) as other:
        services.follow_up(officers["partner"], request, question="我也有问题")

    assert other.value.code == "assistance.not_asker"


# --- escalation -----------------------------------------------------------------------


def test_raising_the_level_cancels_the_clock_and_runs_the_new_one_from_the_raise(ask, officers):
    request = ask(level=3, at=timezone.now() - timedelta(hours=2))
    raised_at = timezone.now() - timedelta(hours=1)

    raised = services.escalate_request(
        officers["lead"], request, level=2, reason="嫌疑人即将释放，需尽快突破。", at=raised_at
    )

    assert raised.level == 2 and raised.state == "open" and raised.clock_from == raised_at
    assert clocks_of(request) == [("response.level3", "cancelled"), ("response.level2", "running")]
    new = Deadline.objects.get(subject=f"assistance:{request.pk}", state="running")
    assert new.trigger_at == raised_at and new.due_at == raised_at + timedelta(hours=4)
    assert raised.due_at == new.due_at
    step = raised.events.last()
    assert (step.kind, step.from_level, step.level) == ("escalated", 3, 2)
    assert AuditEntry.objects.get(action="assistance.escalated").reason.startswith("嫌疑人")


def test_the_centers_commander_raises_the_level_straight_to_one(ask, people):
    request = ask(level=3)

    raised = services.escalate_request(people["maqun"], request, level=1, reason="重大案件")

    assert raised.level == 1
    assert clocks_of(request) == [("response.level3", "cancelled"), ("response.level1", "running")]


@pytest.mark.parametrize("who", ["partner", "bystander"])
def test_other_officers_do_not_raise_the_level(ask, officers, who):
    with pytest.raises(PermissionDenied) as refused:
        services.escalate_request(officers[who], ask(), level=2, reason="急")
    assert refused.value.code == "assistance.escalate_role"


@pytest.mark.parametrize("who", ["far_commander", "tianye"])
def test_another_centers_commander_and_the_unit_do_not_raise_the_level(ask, people, who):
    with pytest.raises(PermissionDenied):
        services.escalate_request(people[who], ask(), level=2, reason="急")


@pytest.mark.parametrize(("start", "to"), [(2, 2), (2, 3), (1, 1)])
def test_the_new_level_must_be_more_urgent(ask, officers, start, to):
    request = ask(level=start)
    before = AuditEntry.objects.count()

    with pytest.raises(InvalidInput) as refused:
        services.escalate_request(officers["lead"], request, level=to, reason="急")

    assert refused.value.code == "assistance.level_not_higher"
    assert AuditEntry.objects.count() == before
    assert clocks_of(request) == [(f"response.level{start}", "running")]


def test_a_raise_needs_a_reason_and_a_waiting_request(ask, officers, people):
    request = ask()
    with pytest.raises(InvalidInput) as no_reason:
        services.escalate_request(officers["lead"], request, level=2, reason=" ")
    assert no_reason.value.code == "assistance.reason"
    services.answer_request(people["tianye"], request, answer="意见", channel="remote")

    with pytest.raises(Conflict) as answered:
        services.escalate_request(officers["lead"], request, level=2, reason="急")

    assert answered.value.code == "assistance.not_open"


# --- closing and withdrawing ----------------------------------------------------------


def test_the_asker_closes_an_answered_request_saying_whether_it_helped(ask, officers, people):
    request = ask()
    services.answer_request(people["tianye"], request, answer="意见", channel="remote")
    with pytest.raises(InvalidInput) as no_note:
        services.close_request(officers["lead"], request, helpful=False)
    assert no_note.value.code == "assistance.note"
    with pytest.raises(PermissionDenied):
        services.close_request(officers["partner"], request, helpful=True)

    closed = services.close_request(officers["lead"], request, helpful=False, note="方向不对")

    assert (closed.state, closed.helpful) == ("closed", False)
    assert closed.events.last().text == "方向不对"
    with pytest.raises(Conflict):
        services.follow_up(officers["lead"], closed, question="再问")


def test_a_waiting_request_cannot_be_closed_only_withdrawn(ask, officers):
    request = ask(level=2)
    with pytest.raises(Conflict):
        services.close_request(officers["lead"], request, helpful=True)

    gone = services.withdraw_request(officers["lead"], request, reason="嫌疑人已供述")

    assert gone.state == "withdrawn" and gone.closed_at is not None
    assert clocks_of(request) == [("response.level2", "cancelled")]
    assert AuditEntry.objects.get(action="assistance.withdrawn").reason == "嫌疑人已供述"


def test_withdrawal_needs_the_asker_and_a_reason(ask, officers, people):
    request = ask()
    with pytest.raises(PermissionDenied):
        services.withdraw_request(people["maqun"], request, reason="不需要")
    with pytest.raises(InvalidInput):
        services.withdraw_request(officers["lead"], request, reason="")
    request.refresh_from_db()
    assert request.state == "open"


def test_a_step_is_not_dated_before_the_previous_one(ask, officers, people):
    request = ask(at=timezone.now() - timedelta(minutes=30))
    services.answer_request(people["tianye"], request, answer="意见", channel="remote")

    with pytest.raises(InvalidInput) as refused:
        services.close_request(
            officers["lead"], request, helpful=True, at=timezone.now() - timedelta(hours=1)
        )

    assert refused.value.code == "assistance.before_last_step"


def test_every_step_is_one_audited_timeline_event(ask, officers, people):
    request = ask(level=3)
    services.escalate_request(officers["lead"], request, level=2, reason="急")
    services.answer_request(people["tianye"], request, answer="意见", channel="on_site")
    services.follow_up(officers["lead"], request, question="补充")
    services.answer_request(people["tianye2"], request, answer="补充意见", channel="remote")
    services.close_request(officers["lead"], request, helpful=True)

    kinds = list(request.events.values_list("kind", flat=True))
    assert kinds == ["asked", "escalated", "answered", "followed_up", "answered", "closed"]
    actions = list(
        AuditEntry.objects.filter(object_type="assistance.assistancerequest")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "assistance.requested",
        "assistance.escalated",
        "assistance.answered",
        "assistance.followed_up",
        "assistance.answered",
        "assistance.closed",
    ]
    assert AssistanceEvent.objects.count() == 6
