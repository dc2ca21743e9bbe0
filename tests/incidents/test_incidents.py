"""Incidents: registration, numbering, turning into a case, closing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from casecenter.cases.models import PartyRole
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.incidents import selectors, services
from casecenter.incidents.models import Incident, IncidentState
from tests.conftest import valid_id

pytestmark = pytest.mark.django_db


def register(actor, **extra):
    fields = {
        "channel": "call_110",
        "received_at": timezone.now() - timedelta(minutes=30),
        "place": "中关村大街1号",
        "category": "assault",
        "summary": "两人因排队发生口角后互殴。",
        "reporter_name": "李四",
        "reporter_phone": "13900001111",
        **extra,
    }
    return services.register_incident(actor, **fields)


def test_incidents_are_numbered_per_organisation_and_year(officers):
    a, b = register(officers["lead"]), register(officers["partner"])
    c = register(officers["stranger"])
    year = a.year
    assert (a.number, b.number) == (f"ZGC-JQ-{year}-000001", f"ZGC-JQ-{year}-000002")
    assert c.number == f"XYL-JQ-{year}-000001"


def test_turning_an_incident_into_a_case_keeps_the_link_and_the_reporter(officers):
    incident = register(officers["lead"], reporter_id_number=valid_id())
    case = services.convert_to_case(officers["lead"], incident, kind="administrative")
    incident.refresh_from_db()
    assert incident.state == IncidentState.CONVERTED and incident.case == case
    assert case.incident == incident and case.occurred_at == incident.received_at
    reporter = case.parties.get()
    assert reporter.role == PartyRole.REPORTER
    # the case's own record of the reporter: the same person, a row of its own
    assert reporter.person_id != incident.reporter_id
    assert (reporter.person.name, reporter.person.phone) == ("李四", "13900001111")
    assert reporter.person.id_number_index == incident.reporter.id_number_index
    assert case.assignments.get().user == officers["lead"]


def test_an_incident_becomes_a_case_only_once(officers):
    incident = register(officers["lead"])
    services.convert_to_case(officers["lead"], incident, kind="criminal")
    with pytest.raises(Conflict) as err:
        services.convert_to_case(officers["lead"], incident, kind="criminal")
    assert err.value.code == "incident.not_open"


def test_failed_conversion_leaves_the_incident_open_and_no_case(officers):
    from casecenter.cases.models import Case

    incident = register(officers["lead"])
    with pytest.raises(InvalidInput):
        services.convert_to_case(officers["lead"], incident, kind="civil")
    incident.refresh_from_db()
    assert incident.state == IncidentState.OPEN and Case.objects.count() == 0


def test_closing_needs_a_reason(officers):
    incident = register(officers["lead"])
    with pytest.raises(InvalidInput):
        services.close_incident(officers["lead"], incident, reason=" ")
    services.close_incident(officers["lead"], incident, reason="调解完毕")
    incident.refresh_from_db()
    assert incident.state == IncidentState.CLOSED and incident.closing_reason == "调解完毕"


@pytest.mark.parametrize(
    "field,value,code",
    [
        ("channel", "pigeon", "incident.channel"),
        ("category", "nonsense", "incident.category"),
        ("place", "  ", "incident.missing"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(officers, field, value, code):
    with pytest.raises(InvalidInput) as err:
        register(officers["lead"], **{field: value})
    assert err.value.code == code and Incident.objects.count() == 0


def test_future_incident_is_refused(officers):
    with pytest.raises(InvalidInput):
        register(officers["lead"], received_at=timezone.now() + timedelta(hours=2))


def test_non_police_cannot_register_and_other_stations_cannot_see(officers):
    with pytest.raises(PermissionDenied):
        register(officers["judge"])
    incident = register(officers["lead"])
    assert incident in selectors.incident_list(officers["legal"])  # branch-level unit
    assert incident not in selectors.incident_list(officers["stranger"])
