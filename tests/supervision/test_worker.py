"""The worker's jobs, driven by a chosen ``now``: clocks → alerts, escalation, outbox relay.

Clocks are opened by the real services (a criminal detention started with
``measures.services.start_measure``, or ``supervision.services.open_deadline``
in a transaction); time moves by passing ``now=`` to the worker, never by
sleeping.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, timedelta

import pytest
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from casecenter.accounts.models import Role
from casecenter.cases.services import add_party
from casecenter.measures import services as measures
from casecenter.measures.models import MeasureEvent, MeasureKind
from casecenter.outbox.models import OutboxEvent
from casecenter.supervision import services, worker
from casecenter.supervision.models import (
    Alert,
    AlertAudience,
    AlertState,
    Deadline,
    DeadlineState,
    Rule,
)
from tests.conftest import valid_id

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)
DETENTION_CLOCKS = {
    "detention.to_house",
    "detention.notify_family",
    "detention.interrogate",
    "detention.arrest_request",
}


@pytest.fixture
def case(make_case):
    return make_case()


@pytest.fixture
def detention(case, officers):
    """A suspect criminally detained 10 minutes ago by the case's two officers."""
    suspect = add_party(
        officers["lead"], case, role="suspect", name="张三", id_number=valid_id("19900307")
    )
    return measures.start_measure(
        officers["lead"],
        case,
        suspect,
        MeasureKind.CRIMINAL_DETENTION,
        started_at=timezone.now() - timedelta(minutes=10),
        officers=[officers["lead"], officers["partner"]],
    )


def clock(measure, code: str) -> Deadline:
    return Deadline.objects.select_related("rule").get(measure=measure, rule_id=code)


def alerts_of(deadline: Deadline) -> list[tuple[str, str]]:
    return sorted(
        Alert.objects.filter(deadline=deadline).values_list("kind", "key"), key=lambda a: a[0]
    )


def test_a_detention_opens_its_four_clocks_through_the_law(detention):
    clocks = {d.rule_id: d for d in Deadline.objects.filter(measure=detention)}

    assert set(clocks) == DETENTION_CLOCKS
    to_house = clocks["detention.to_house"]
    assert to_house.due_at == detention.started_at + timedelta(hours=24)
    assert to_house.warn_at == to_house.due_at - timedelta(hours=2)  # the catalogue's lead
    assert to_house.next_check_at == to_house.warn_at
    assert to_house.state == DeadlineState.RUNNING


def test_no_alert_a_minute_before_the_warning_moment(detention):
    to_house = clock(detention, "detention.to_house")

    counts = worker.sweep(now=to_house.warn_at - MINUTE)

    assert counts == {"warning": 0, "breach": 0, "timer": 0}
    assert not Alert.objects.exists()
    to_house.refresh_from_db()
    assert to_house.warned_at is None
    assert to_house.next_check_at == to_house.warn_at


def test_a_warning_is_raised_at_the_warning_moment(detention):
    to_house = clock(detention, "detention.to_house")
    now = to_house.warn_at

    counts = worker.sweep(now=now)

    # the three 24-hour clocks of the detention warn together; the 3-day one does not
    assert counts == {"warning": 3, "breach": 0, "timer": 0}
    warning = Alert.objects.get(deadline=to_house)
    assert warning.kind == Alert.Kind.WARNING
    assert (
        warning.key
        == f"deadline:{to_house.pk}:warning:{to_house.due_at.astimezone(UTC).isoformat()}"
    )
    assert warning.raised_at == now
    assert warning.state == AlertState.OPEN
    assert warning.organisation_id == detention.case.organisation_id
    assert "CPL Art. 85" in warning.explanation_en
    assert timezone.localtime(to_house.due_at).strftime("%Y-%m-%d %H:%M") in (
        warning.explanation_en
    )
    assert warning.facts["rule"] == "detention.to_house"
    to_house.refresh_from_db()
    assert to_house.state == DeadlineState.RUNNING
    assert to_house.warned_at == now
    assert to_house.next_check_at == to_house.due_at
    assert not Alert.objects.filter(deadline__rule_id="detention.arrest_request").exists()


def test_a_breach_is_raised_at_the_due_moment_and_not_a_minute_before(detention):
    to_house = clock(detention, "detention.to_house")
    worker.sweep(now=to_house.warn_at)

    assert worker.sweep(now=to_house.due_at - MINUTE) == {"warning": 0, "breach": 0, "timer": 0}
    assert [kind for kind, _ in alerts_of(to_house)] == ["warning"]

    counts = worker.sweep(now=to_house.due_at)

    assert counts == {"warning": 0, "breach": 3, "timer": 0}
    assert [kind for kind, _ in alerts_of(to_house)] == ["breach", "warning"]
    breach = Alert.objects.get(deadline=to_house, kind=Alert.Kind.BREACH)
    assert (
        breach.key == f"deadline:{to_house.pk}:breach:{to_house.due_at.astimezone(UTC).isoformat()}"
    )
    assert breach.severity == "critical"
    to_house.refresh_from_db()
    assert to_house.state == DeadlineState.BREACHED
    assert to_house.next_check_at is None


def test_a_day_clock_in_custody_breaches_at_midnight_after_its_last_day(detention):
    request = clock(detention, "detention.arrest_request")
    local_due = timezone.localtime(request.due_at)

    assert (local_due.hour, local_due.minute) == (0, 0)
    worker.run_once(now=request.due_at - MINUTE)
    assert [kind for kind, _ in alerts_of(request)] == ["warning"]
    worker.run_once(now=request.due_at)
    assert [kind for kind, _ in alerts_of(request)] == ["breach", "warning"]


def test_a_clock_found_past_its_due_moment_warns_then_breaches_in_one_step(detention):
    """A worker that was down over the warning moment still takes both moments, in order."""
    to_house = clock(detention, "detention.to_house")

    counts = worker.sweep(now=to_house.due_at + timedelta(hours=1))

    assert counts == {"warning": 3, "breach": 3, "timer": 0}
    assert [kind for kind, _ in alerts_of(to_house)] == ["breach", "warning"]
    to_house.refresh_from_db()
    assert to_house.state == DeadlineState.BREACHED


def test_a_met_clock_raises_nothing(detention, officers):
    measures.record_moment(
        officers["lead"], detention, MeasureEvent.Kind.FAMILY_NOTIFIED, at=timezone.now()
    )
    notified = clock(detention, "detention.notify_family")
    assert notified.state == DeadlineState.MET

    worker.run_once(now=notified.due_at + timedelta(days=30))

    assert alerts_of(notified) == []
    assert clock(detention, "detention.to_house").state == DeadlineState.BREACHED


def test_meeting_a_warned_clock_resolves_its_warning(detention, officers):
    interrogate = clock(detention, "detention.interrogate")
    worker.sweep(now=interrogate.warn_at)

    measures.record_moment(
        officers["lead"], detention, MeasureEvent.Kind.INTERROGATED, at=timezone.now()
    )
    worker.run_once(now=interrogate.due_at + timedelta(hours=1))

    warning = Alert.objects.get(deadline=interrogate)
    assert warning.kind == Alert.Kind.WARNING
    assert warning.state == AlertState.RESOLVED
    assert clock(detention, "detention.interrogate").state == DeadlineState.MET


def test_running_the_worker_twice_raises_nothing_twice(detention):
    later = Deadline.objects.aggregate(last=Max("due_at"))["last"] + timedelta(hours=1)

    first = worker.run_once(now=later)
    alerts = Alert.objects.count()
    second = worker.run_once(now=later)

    # four detention clocks and the case's filing review: each warned and breached once
    assert (first["warning"], first["breach"]) == (5, 5)
    assert (second["warning"], second["breach"]) == (0, 0)
    assert alerts == Alert.objects.count() == 10
    assert Alert.objects.values("key").distinct().count() == 10
    assert not Deadline.objects.filter(state=DeadlineState.RUNNING).exists()


def test_an_alert_raised_twice_with_one_key_is_stored_once(detention):
    to_house = clock(detention, "detention.to_house")
    fields = {
        "key": "deadline:test:warn",
        "rule": to_house.rule,
        "kind": Alert.Kind.WARNING,
        "case": detention.case,
        "organisation_id": detention.case.organisation_id,
        "title_zh": "t",
        "title_en": "t",
        "explanation_zh": "e",
        "explanation_en": "e",
        "deadline": to_house,
    }
    with transaction.atomic():
        first = services.raise_alert(**fields)
        second = services.raise_alert(**fields)

    assert first is not None and second is None
    assert Alert.objects.filter(key="deadline:test:warn").count() == 1


# --- extensions -------------------------------------------------------------------


def test_an_extension_moves_the_due_moment_and_warns_again_at_the_new_time(detention, officers):
    request = clock(detention, "detention.arrest_request")
    old_due = request.due_at
    worker.sweep(now=request.warn_at)
    assert [kind for kind, _ in alerts_of(request)] == ["warning"]

    extended = services.extend_deadline(
        officers["legal"], request, variant="special", reason="案情特殊，经批准延长至7日"
    )

    assert extended.due_at == old_due + timedelta(days=4)
    assert extended.warn_at == extended.due_at - timedelta(days=1)
    assert extended.warned_at is None
    assert extended.next_check_at == extended.warn_at
    assert extended.extensions.get().approved_by == officers["legal"]
    # the old due moment passes quietly
    worker.run_once(now=old_due)
    assert [kind for kind, _ in alerts_of(request)] == ["warning"]
    # nothing a minute before the new warning moment, a new warning at it
    worker.run_once(now=extended.warn_at - MINUTE)
    assert len(alerts_of(request)) == 1
    worker.run_once(now=extended.warn_at)
    warnings = Alert.objects.filter(deadline=request, kind=Alert.Kind.WARNING)
    assert sorted(w.key for w in warnings) == sorted(
        [
            f"deadline:{request.pk}:warning:{old_due.astimezone(UTC).isoformat()}",
            f"deadline:{request.pk}:warning:{extended.due_at.astimezone(UTC).isoformat()}",
        ]
    )
    worker.run_once(now=extended.due_at)
    assert clock(detention, "detention.arrest_request").state == DeadlineState.BREACHED


def test_only_legal_affairs_extends_a_clock(detention, officers):
    from casecenter.errors import PermissionDenied

    request = clock(detention, "detention.arrest_request")

    with pytest.raises(PermissionDenied):
        services.extend_deadline(officers["lead"], request, variant="special", reason="想延长")

    request.refresh_from_db()
    assert request.variant == "default"
    assert not request.extensions.exists()


# --- escalation -------------------------------------------------------------------


def open_warning(case, code: str = "detention.to_house") -> Alert:
    """A clock opened through the service, then warned by the worker."""
    with transaction.atomic():
        deadline = services.open_deadline(
            None, code, case, trigger_at=timezone.now() - timedelta(hours=23)
        )
    assert deadline is not None
    worker.sweep(now=deadline.warn_at)
    return Alert.objects.get(deadline=deadline, kind=Alert.Kind.WARNING)


def test_an_unacknowledged_alert_escalates_to_case_management(case):
    # local practice: tell the case's officers first, then climb the ladder
    Rule.objects.filter(code="detention.to_house").update(audience=[])
    alert = open_warning(case)
    assert alert.escalate_at == alert.raised_at + timedelta(minutes=2)

    assert worker.escalate_due(now=alert.escalate_at - MINUTE) == 0
    alert.refresh_from_db()
    assert alert.level == 0
    assert not alert.audience.exists()

    assert worker.escalate_due(now=alert.escalate_at) == 1

    alert.refresh_from_db()
    assert alert.level == 1
    assert list(alert.audience.values_list("role", "level")) == [(Role.CASE_MANAGEMENT, 1)]
    assert alert.escalate_at is not None  # the next rung: legal affairs


def test_escalation_climbs_the_ladder_then_stops(case):
    Rule.objects.filter(code="detention.to_house").update(audience=[])
    alert = open_warning(case)
    later = alert.raised_at + timedelta(hours=1)

    worker.run_once(now=alert.escalate_at)
    alert.refresh_from_db()
    worker.run_once(now=alert.escalate_at)
    alert.refresh_from_db()
    worker.run_once(now=later)

    alert.refresh_from_db()
    assert alert.level == 2
    assert alert.escalate_at is None
    assert sorted(alert.audience.values_list("role", "level")) == [
        (Role.CASE_MANAGEMENT, 1),
        (Role.LEGAL_AFFAIRS, 2),
    ]


def test_escalation_tells_the_first_rung_not_yet_told(case):
    """With the catalogue's default audience, case management is told from the
    start, so the first escalation reaches legal affairs."""
    alert = open_warning(case)
    assert list(alert.audience.values_list("role", "level")) == [(Role.CASE_MANAGEMENT, 0)]

    worker.escalate_due(now=alert.escalate_at)

    alert.refresh_from_db()
    assert alert.level == 2
    assert sorted(alert.audience.values_list("role", "level")) == [
        (Role.CASE_MANAGEMENT, 0),
        (Role.LEGAL_AFFAIRS, 2),
    ]
    assert alert.escalate_at is None


def test_an_acknowledged_alert_never_escalates(case, officers):
    alert = open_warning(case)

    services.acknowledge_alert(officers["lead"], alert)
    worker.run_once(now=alert.raised_at + timedelta(days=3))

    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED
    assert alert.level == 0
    assert alert.escalate_at is None
    assert not AlertAudience.objects.filter(alert=alert, level__gt=0).exists()


# --- outbox relay -----------------------------------------------------------------


@pytest.fixture
def subscribers(monkeypatch):
    """A clean subscriber table for the test (the worker's is process-wide)."""
    table: dict = defaultdict(list)
    monkeypatch.setattr(worker, "SUBSCRIBERS", table)
    return table


def test_relay_hands_each_event_to_its_subscribers_once_and_marks_it(case, subscribers):
    raised, everything = [], []
    worker.subscribe("alert.raised", raised.append)
    worker.subscribe("*", everything.append)
    open_warning(case)
    pending = list(OutboxEvent.objects.filter(relayed_at__isnull=True).order_by("id"))
    assert any(e.topic == "alert.raised" for e in pending)

    relayed = worker.relay_outbox()

    assert relayed == len(pending)
    assert [e.pk for e in everything] == [e.pk for e in pending]
    assert [e.pk for e in raised] == [e.pk for e in pending if e.topic == "alert.raised"]
    assert raised[0].payload["case_id"] == case.pk
    assert not OutboxEvent.objects.filter(relayed_at__isnull=True).exists()

    assert worker.relay_outbox() == 0
    assert len(everything) == len(pending)


def test_an_event_whose_subscriber_fails_is_relayed_again(case, subscribers):
    def broken(event):
        raise ConnectionError("the push service is down")

    worker.subscribe("*", broken)
    open_warning(case)
    pending = OutboxEvent.objects.filter(relayed_at__isnull=True).count()

    with pytest.raises(ConnectionError):
        worker.relay_outbox()

    assert OutboxEvent.objects.filter(relayed_at__isnull=True).count() == pending
    subscribers.clear()
    seen: list = []
    worker.subscribe("*", seen.append)
    assert worker.relay_outbox() == pending
    assert len(seen) == pending
