"""The case lifecycle: who may move a case, when, and with what."""

from __future__ import annotations

import pytest

from casecenter.cases import services
from casecenter.cases.models import CaseEvent, CaseState
from casecenter.dossiers import services as dossiers
from casecenter.errors import Conflict, InvalidInput, PermissionDenied

pytestmark = pytest.mark.django_db


def step(case, actor, name, **kw):
    case.refresh_from_db()
    return services.transition_case(actor, case, name, expected_version=case.version, **kw)


def test_accepted_case_is_numbered_per_organisation_kind_and_year(make_case, officers):
    first, second = make_case(), make_case()
    admin_case = make_case(kind="administrative", category="assault")
    year = first.year
    assert first.number == f"ZGC-XS-{year}-00001"
    assert second.number == f"ZGC-XS-{year}-00002"
    assert admin_case.number == f"ZGC-XZ-{year}-00001"
    assert first.state == CaseState.ACCEPTED


def test_criminal_case_walks_from_acceptance_to_closure(make_case, officers):
    case = make_case()
    lead, partner, legal = officers["lead"], officers["partner"], officers["legal"]
    case = step(case, lead, "file")
    case = step(case, lead, "start_investigation", officers=[lead, partner])
    opinion = dossiers.generate(lead, case, "prosecution_opinion")  # the dossier guards it
    dossiers.review(legal, opinion, decision="approved", version=1)
    case = step(case, legal, "transfer_for_prosecution")
    case = step(case, lead, "close")
    assert case.state == CaseState.CLOSED and case.closed_at is not None
    transitions = list(
        case.events.filter(kind=CaseEvent.Kind.TRANSITION).values_list(
            "from_state", "to_state", "actor__username"
        )
    )
    assert transitions == [
        ("accepted", "filed", "lead"),
        ("filed", "investigating", "lead"),
        ("investigating", "transferred", "legal"),
        ("transferred", "closed", "lead"),
    ]


def test_administrative_case_has_no_filing_step(make_case, officers):
    case = make_case(kind="administrative", category="assault")
    with pytest.raises(Conflict) as err:
        step(case, officers["lead"], "file")
    assert err.value.code == "case.transition_not_allowed"
    case = step(
        case,
        officers["lead"],
        "start_investigation",
        officers=[officers["lead"], officers["partner"]],
    )
    assert case.state == CaseState.INVESTIGATING


def test_only_legal_affairs_may_refuse_filing_and_must_say_why(make_case, officers):
    case = make_case()
    with pytest.raises(PermissionDenied):
        step(case, officers["lead"], "refuse_filing", reason="无犯罪事实")
    with pytest.raises(InvalidInput) as err:
        step(case, officers["legal"], "refuse_filing", reason="  ")
    assert err.value.code == "case.reason_missing"
    case = step(case, officers["legal"], "refuse_filing", reason="没有犯罪事实")
    assert case.state == CaseState.NOT_FILED
    assert case.events.last().reason == "没有犯罪事实"


def test_enforcement_action_needs_two_assigned_officers(make_case, officers):
    lead, partner = officers["lead"], officers["partner"]
    case = step(make_case(), lead, "file")
    with pytest.raises(InvalidInput) as err:
        step(case, lead, "start_investigation", officers=[lead])
    assert err.value.code == "enforcement.two_officers"
    with pytest.raises(InvalidInput) as err:
        step(case, lead, "start_investigation", officers=[lead, lead])
    assert err.value.code == "enforcement.two_officers"
    with pytest.raises(InvalidInput) as err:
        step(case, lead, "start_investigation", officers=[lead, officers["bystander"]])
    assert err.value.code == "enforcement.not_assigned"
    case.refresh_from_db()
    assert case.state == CaseState.FILED
    case = step(case, lead, "start_investigation", officers=[lead, partner])
    assert set(case.events.last().data["officers"]) == {lead.pk, partner.pk}


def test_officer_not_on_the_case_cannot_move_it(make_case, officers):
    case = make_case()
    with pytest.raises(PermissionDenied) as err:
        step(case, officers["bystander"], "file")
    assert err.value.code == "case.not_assigned"


def test_stale_version_is_refused_instead_of_overwriting(make_case, officers):
    case = make_case()
    stale = case.version
    services.update_case(officers["lead"], case, expected_version=stale, title="新标题")
    with pytest.raises(Conflict):
        services.update_case(officers["partner"], case, expected_version=stale, title="旧标题")
    with pytest.raises(Conflict):
        services.transition_case(officers["lead"], case, "file", expected_version=stale)
    case.refresh_from_db()
    assert case.title == "新标题" and case.state == CaseState.ACCEPTED


def test_refused_transition_writes_nothing(make_case, officers):
    from casecenter.audit.models import AuditEntry
    from casecenter.outbox.models import OutboxEvent

    case = make_case()
    before = (AuditEntry.objects.count(), OutboxEvent.objects.count(), case.events.count())
    with pytest.raises(Conflict) as err:
        step(case, officers["lead"], "transfer_for_prosecution")
    assert err.value.code == "case.transition_not_allowed"
    after = (AuditEntry.objects.count(), OutboxEvent.objects.count(), case.events.count())
    assert before == after


def test_every_change_writes_timeline_audit_and_outbox(make_case, officers):
    from casecenter.audit.models import AuditEntry
    from casecenter.outbox.models import OutboxEvent

    case = make_case()
    step(case, officers["lead"], "file", reason="有犯罪事实")
    audit = AuditEntry.objects.filter(
        object_type="cases.case", object_id=str(case.pk), action="case.transition"
    ).get()
    assert audit.actor_id == officers["lead"].pk and audit.reason == "有犯罪事实"
    assert audit.data["to"] == "filed"
    assert (
        OutboxEvent.objects.filter(topic="case.transition", payload__case_id=case.pk).count() == 1
    )


def test_lead_assigns_helpers_but_only_case_management_assigns_a_lead(make_case, officers):
    case = make_case()
    with pytest.raises(PermissionDenied):
        services.assign_officer(officers["lead"], case, officers["bystander"], "lead")
    with pytest.raises(PermissionDenied):
        services.assign_officer(officers["partner"], case, officers["bystander"], "assisting")
    services.assign_officer(officers["lead"], case, officers["bystander"], "assisting")
    services.assign_officer(officers["lead"], case, officers["legal"], "supervisor")
    assert case.assignments.filter(ended_at__isnull=True).count() == 4
    with pytest.raises(InvalidInput) as err:
        services.assign_officer(officers["manager"], case, officers["stranger"], "assisting")
    assert err.value.code == "assignment.outsider"
