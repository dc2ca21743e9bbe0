"""Coercive measures: which moments start and stop which clocks (F2.4)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from casecenter.cases import services as cases
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.measures import services
from casecenter.measures.models import Measure
from casecenter.supervision.models import Deadline, DeadlineState
from tests.conftest import valid_id

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def suspect(make_case, officers):
    case = make_case(occurred_at=timezone.now() - timedelta(days=2))
    party = cases.add_party(
        officers["lead"], case, role="suspect", name="马某", id_number=valid_id()
    )
    return case, party


def clocks(case, **filters):
    return {d.rule_id: d for d in Deadline.objects.filter(case=case, **filters)}


def detain(officers, case, party, at):
    return services.start_measure(
        officers["lead"],
        case,
        party,
        "criminal_detention",
        started_at=at,
        officers=[officers["lead"], officers["partner"]],
    )


def test_accepting_a_criminal_case_starts_its_filing_clock(make_case):
    case = make_case()
    deadline = clocks(case)["filing.review"]
    local = timezone.localtime(case.accepted_at).date()
    assert deadline.state == DeadlineState.RUNNING
    assert timezone.localtime(deadline.due_at).date() >= local + timedelta(days=4)


def test_filing_meets_the_filing_clock(make_case, officers):
    case = make_case()
    cases.transition_case(officers["lead"], case, "file", expected_version=case.version)
    assert clocks(case)["filing.review"].state == DeadlineState.MET


def test_detention_starts_its_four_clocks_counted_by_law(suspect, officers):
    case, party = suspect
    at = timezone.now() - timedelta(hours=3)
    measure = detain(officers, case, party, at)
    running = clocks(case, measure=measure)
    assert set(running) == {
        "detention.to_house",
        "detention.notify_family",
        "detention.interrogate",
        "detention.arrest_request",
    }
    assert running["detention.to_house"].due_at == at + timedelta(hours=24)
    three_days = timezone.localtime(at).date() + timedelta(days=3)
    assert timezone.localtime(
        running["detention.arrest_request"].due_at
    ).date() == three_days + timedelta(days=1)  # ends 00:00 after the last day, never extended
    assert "in custody" in running["detention.arrest_request"].computation["en"]


def test_each_moment_meets_its_own_clock(suspect, officers):
    case, party = suspect
    at = timezone.now() - timedelta(hours=5)
    measure = detain(officers, case, party, at)
    services.record_moment(officers["lead"], measure, "family_notified", at=at + timedelta(hours=2))
    services.record_moment(officers["partner"], measure, "interrogated", at=at + timedelta(hours=3))
    states = {code: d.state for code, d in clocks(case, measure=measure).items()}
    assert states == {
        "detention.notify_family": "met",
        "detention.interrogate": "met",
        "detention.to_house": "running",
        "detention.arrest_request": "running",
    }


def test_arrest_request_then_approval_moves_the_clocks_to_the_arrest(suspect, officers):
    case, party = suspect
    at = timezone.now() - timedelta(days=2)
    detention = detain(officers, case, party, at)
    services.record_moment(
        officers["lead"], detention, "arrest_requested", at=at + timedelta(days=1)
    )
    assert clocks(case)["arrest.decision"].state == DeadlineState.RUNNING
    services.record_moment(
        officers["lead"], detention, "arrest_approved", at=at + timedelta(days=1, hours=20)
    )
    detention.refresh_from_db()
    assert detention.state == Measure.State.ENDED
    arrest = Measure.objects.get(kind="arrest")
    assert arrest.started_at == at + timedelta(days=1, hours=20)
    now = clocks(case)
    assert now["arrest.decision"].state == DeadlineState.MET
    assert now["detention.arrest_request"].state == DeadlineState.MET
    assert {"arrest.notify_family", "arrest.interrogate", "investigation.custody"} <= set(
        clocks(case, measure=arrest)
    )
    # the detention's undone duties are cancelled, not left running
    assert now["detention.to_house"].state == DeadlineState.CANCELLED


def test_a_duty_done_late_stays_a_breach(suspect, officers):
    case, party = suspect
    at = timezone.now() - timedelta(hours=30)
    measure = detain(officers, case, party, at)
    services.record_moment(
        officers["lead"], measure, "family_notified", at=at + timedelta(hours=25)
    )
    assert clocks(case)["detention.notify_family"].state == DeadlineState.BREACHED


def test_summons_of_an_administrative_case_runs_eight_hours(make_case, officers):
    case = make_case(kind="administrative", category="assault")
    party = cases.add_party(
        officers["lead"], case, role="suspect", name="赵某", id_number=valid_id()
    )
    at = timezone.now() - timedelta(hours=1)
    services.start_measure(
        officers["lead"],
        case,
        party,
        "summons",
        started_at=at,
        officers=[officers["lead"], officers["partner"]],
    )
    assert clocks(case)["summons.admin"].due_at == at + timedelta(hours=8)
    assert clocks(case)["summons.notify_family"].due_at == at + timedelta(hours=1)


def test_detention_replaces_the_summons_and_meets_its_clock(suspect, officers):
    case, party = suspect
    at = timezone.now() - timedelta(hours=6)
    summons = services.start_measure(
        officers["lead"],
        case,
        party,
        "summons",
        started_at=at,
        officers=[officers["lead"], officers["partner"]],
    )
    detain(officers, case, party, at + timedelta(hours=5))
    summons.refresh_from_db()
    assert summons.state == Measure.State.ENDED
    assert clocks(case, measure=summons)["summons.criminal"].state == DeadlineState.MET


def test_administrative_detention_runs_its_decided_term(make_case, officers):
    case = make_case(kind="administrative", category="assault")
    party = cases.add_party(
        officers["lead"], case, role="suspect", name="钱某", id_number=valid_id()
    )
    at = datetime(2026, 9, 28, 10, 0, tzinfo=SH)
    services.start_measure(
        officers["lead"],
        case,
        party,
        "admin_detention",
        started_at=at,
        officers=[officers["lead"], officers["partner"]],
        term_days=3,
    )
    due = clocks(case)["admin_detention.release"].due_at
    assert due == datetime(2026, 10, 2, 0, 0, tzinfo=SH)  # in custody: no holiday extension


@pytest.mark.parametrize(
    "kind,extra,code",
    [
        ("admin_detention", {"term_days": 3}, "measure.case_kind"),
        ("bogus", {}, "measure.kind"),
    ],
)
def test_wrong_measures_are_refused_and_write_nothing(suspect, officers, kind, extra, code):
    case, party = suspect
    before = Deadline.objects.count()
    with pytest.raises(InvalidInput) as err:
        services.start_measure(
            officers["lead"],
            case,
            party,
            kind,
            started_at=timezone.now(),
            officers=[officers["lead"], officers["partner"]],
            **extra,
        )
    assert err.value.code == code
    assert Deadline.objects.count() == before and Measure.objects.count() == 0


def test_a_measure_needs_two_officers_and_an_assigned_actor(suspect, officers):
    case, party = suspect
    with pytest.raises(InvalidInput) as err:
        services.start_measure(
            officers["lead"],
            case,
            party,
            "criminal_detention",
            started_at=timezone.now(),
            officers=[officers["lead"]],
        )
    assert err.value.code == "enforcement.two_officers"
    with pytest.raises(PermissionDenied):
        services.start_measure(
            officers["bystander"],
            case,
            party,
            "criminal_detention",
            started_at=timezone.now(),
            officers=[officers["lead"], officers["partner"]],
        )


def test_ending_a_measure_closes_every_clock(suspect, officers):
    case, party = suspect
    at = timezone.now() - timedelta(hours=2)
    measure = detain(officers, case, party, at)
    services.end_measure(
        officers["lead"], measure, at=at + timedelta(hours=1), reason="证据不足，释放"
    )
    states = {d.state for d in Deadline.objects.filter(measure=measure)}
    assert states == {DeadlineState.CANCELLED}
    assert not Deadline.objects.filter(measure=measure, closed_at__isnull=True).exists()
    with pytest.raises(Conflict) as err:
        services.record_moment(officers["lead"], measure, "interrogated", at=timezone.now())
    assert err.value.code == "measure.ended"
