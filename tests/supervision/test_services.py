"""Supervision services: provisional clocks, late duties, extensions, alert handling."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from casecenter import law
from casecenter.calendars.services import load_notice
from casecenter.cases import services as cases
from casecenter.errors import InvalidInput, PermissionDenied
from casecenter.measures import services as measures
from casecenter.supervision import services
from casecenter.supervision.models import Alert, AlertState, Deadline, DeadlineState
from casecenter.supervision.worker import run_once
from tests.conftest import valid_id

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def detention(make_case, officers):
    case = make_case()
    party = cases.add_party(
        officers["lead"], case, role="suspect", name="马某某", id_number=valid_id()
    )
    at = timezone.now() - timedelta(hours=30)
    measure = measures.start_measure(
        officers["lead"],
        case,
        party,
        "criminal_detention",
        started_at=at,
        officers=[officers["lead"], officers["partner"]],
    )
    return case, measure


def test_a_clock_into_a_year_without_a_calendar_is_provisional_until_the_notice(make_case):
    case = make_case()
    trigger = datetime(2030, 12, 28, 10, 0, tzinfo=SH)  # last day 2030-12-31, then 2031
    with transaction.atomic():
        deadline = services.open_deadline(
            None, "filing.review", case, trigger_at=trigger, variant="verify"
        )  # 7 days → 2031-01-04
    assert deadline.computation["provisional_year"] == 2031
    assert deadline.due_at == datetime(2031, 1, 5, 0, 0, tzinfo=SH)  # unextended: earliest
    assert "Provisional" in deadline.computation["en"]
    with transaction.atomic():
        load_notice(None, 2031, ["2031-01-01"], [], "test notice")
    run_once()  # the worker relays calendar.notice_loaded and counts it again
    deadline.refresh_from_db()
    assert deadline.computation["provisional_year"] is None
    # 2031-01-04 is a Saturday: extended to Monday 2031-01-06
    assert deadline.due_at == datetime(2031, 1, 7, 0, 0, tzinfo=SH)


def test_a_duty_done_too_late_is_a_breach_alert_that_stays_open(detention, officers):
    case, measure = detention
    measures.record_moment(
        officers["lead"], measure, "family_notified", at=measure.started_at + timedelta(hours=26)
    )
    alert = Alert.objects.get(deadline__rule_id="detention.notify_family")
    assert alert.kind == "breach" and alert.state == AlertState.OPEN  # the worker never ran
    assert "only at" in alert.explanation_en and alert.facts["done_at"]
    assert "马**" in alert.title_zh and "马某某" not in alert.title_zh  # masked


def test_warnings_are_resolved_by_the_duty_but_breaches_are_not(detention, officers):
    case, measure = detention
    run_once()  # 30 h after detention: every 24 h clock is breached
    breaches = Alert.objects.filter(kind="breach").count()
    assert breaches == 3
    measures.record_moment(officers["lead"], measure, "interrogated", at=timezone.now())
    assert Alert.objects.filter(kind="breach", state=AlertState.OPEN).count() == 3


def test_alert_explains_itself_in_both_languages(detention):
    run_once()
    alert = Alert.objects.get(deadline__rule_id="detention.to_house", kind="breach")
    assert "《刑事诉讼法》第85条" in alert.explanation_zh
    assert "CPL Art. 85" in alert.explanation_en and "24 hours" in alert.explanation_en
    assert alert.facts["basis"] == "CPL Art. 85"
    json.dumps(alert.facts)  # plain JSON for the API


def test_only_legal_affairs_extends_and_must_say_why(detention, officers):
    case, measure = detention
    deadline = Deadline.objects.get(rule_id="detention.arrest_request")
    with pytest.raises(PermissionDenied):
        services.extend_deadline(officers["lead"], deadline, variant="special", reason="复杂")
    with pytest.raises(InvalidInput):
        services.extend_deadline(officers["legal"], deadline, variant="special", reason="")
    with pytest.raises(InvalidInput):
        services.extend_deadline(officers["legal"], deadline, variant="nonsense", reason="x")
    before = deadline.due_at
    deadline = services.extend_deadline(
        officers["legal"], deadline, variant="special", reason="流窜作案，需进一步核实"
    )
    assert deadline.due_at == before + timedelta(days=4)
    ext = deadline.extensions.get()
    assert ext.approved_by == officers["legal"] and ext.old_due_at == before


def test_acknowledge_stops_escalation_and_resolve_needs_a_note(detention, officers):
    run_once()
    alert = Alert.objects.filter(kind="breach").first()
    with pytest.raises(PermissionDenied):
        services.acknowledge_alert(officers["stranger"], alert)
    alert = services.acknowledge_alert(officers["lead"], alert)
    assert alert.state == AlertState.ACKNOWLEDGED and alert.escalate_at is None
    with pytest.raises(InvalidInput):
        services.resolve_alert(officers["lead"], alert, resolution=" ")
    alert = services.resolve_alert(officers["lead"], alert, resolution="已补充通知并说明原因")
    assert alert.state == AlertState.RESOLVED


def test_case_management_sees_station_alerts_by_role(detention, officers):
    from casecenter.supervision.selectors import visible_alerts

    run_once()
    # three 24-hour clocks past due: each warned, then breached
    assert visible_alerts(officers["manager"]).count() == 6
    assert visible_alerts(officers["bystander"]).count() == 0
    assert visible_alerts(officers["stranger"]).count() == 0


def test_statutory_rule_catalogue_follows_the_law_package(db):
    from casecenter.supervision.models import Rule

    assert set(Rule.objects.values_list("code", flat=True)) == set(law.RULES)
    rule = Rule.objects.get(code="detention.to_house")
    assert rule.kind == "statute" and rule.severity == "critical"
    assert rule.warn_before == timedelta(hours=2)


def test_ending_detention_cancels_running_clocks(detention, officers):
    case, measure = detention
    measures.end_measure(officers["lead"], measure, at=timezone.now(), reason="释放")
    assert not Deadline.objects.filter(measure=measure, state=DeadlineState.RUNNING).exists()
