"""API: register, list, read, convert and close incidents."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from casecenter.cases.api import CaseOut, case_out
from casecenter.cases.models import CaseKind, Category
from casecenter.incidents import selectors, services
from casecenter.incidents.models import Channel, Incident, IncidentState
from casecenter.law import mask_name, mask_phone
from casecenter.schema import Choice, ChoiceFilter, Id, Limit, Offset, Text, Timestamp

router = Router(tags=["incidents"])


class IncidentIn(Schema):
    channel: Choice(Channel, 20)
    received_at: Timestamp
    place: Text(200, 1)
    category: Choice(Category, 30)
    summary: Text(5000, 1)
    reporter_name: Text(100) = ""
    reporter_phone: Text(40) = ""
    reporter_id_number: Text(30) = ""


class ReporterOut(Schema):
    name: str
    phone: str
    id_number_masked: str


class IncidentOut(Schema):
    id: int
    number: str
    channel: str
    received_at: datetime
    place: str
    category: str
    summary: str
    state: str
    closing_reason: str
    reporter_masked: str | None
    case_id: int | None
    case_number: str | None


class IncidentDetailOut(IncidentOut):
    reporter: ReporterOut | None


class ConvertIn(Schema):
    kind: Choice(CaseKind, 20)
    #: "": the incident's category
    category: Choice(Category, 30, blank=True) = ""
    title: Text(200) = ""
    secret: bool = False


class CloseIn(Schema):
    reason: Text(2000, 1)


class RevealIn(Schema):
    purpose: Text(500, 2)


class IncidentFilter(Schema):
    q: Text(100) = ""
    state: ChoiceFilter(IncidentState, 20) = ""
    channel: ChoiceFilter(Channel, 20) = ""
    category: ChoiceFilter(Category, 30) = ""
    limit: Limit = 50
    offset: Offset = 0


def incident_out(incident: Incident) -> dict:
    reporter = incident.reporter
    return {
        "id": incident.pk,
        "number": incident.number,
        "channel": incident.channel,
        "received_at": incident.received_at,
        "place": incident.place,
        "category": incident.category,
        "summary": incident.summary,
        "state": incident.state,
        "closing_reason": incident.closing_reason,
        "reporter_masked": mask_name(reporter.name) if reporter else None,
        "case_id": incident.case_id,
        "case_number": incident.case.number if incident.case_id else None,
    }


@router.get("", response=list[IncidentOut])
def list_incidents(request: HttpRequest, filters: Query[IncidentFilter]):
    rows = selectors.incident_list(
        request.auth,
        q=filters.q,
        state=filters.state,
        channel=filters.channel,
        category=filters.category,
    ).select_related("reporter")[filters.offset : filters.offset + filters.limit]
    return [incident_out(i) for i in rows]


@router.post("", response={201: IncidentDetailOut})
def register(request: HttpRequest, payload: IncidentIn):
    incident = services.register_incident(request.auth, **payload.dict())
    return Status(201, detail(request.auth, incident))


def detail(user, incident: Incident) -> dict:
    reporter = selectors.read_reporter(user, incident)
    out = incident_out(incident)
    out["reporter"] = reporter and {
        "name": reporter.name,
        "phone": mask_phone(reporter.phone),
        "id_number_masked": reporter.id_number_masked,
    }
    return out


@router.get("/{incident_id}", response=IncidentDetailOut)
def read(request: HttpRequest, incident_id: Id):
    return detail(request.auth, selectors.get_incident(request.auth, incident_id))


@router.post("/{incident_id}/reporter/reveal-phone", response=dict)
def reveal_phone(request: HttpRequest, incident_id: Id, payload: RevealIn):
    """The reporter's full phone, for a stated purpose (an audited read of its own)."""
    incident = selectors.get_incident(request.auth, incident_id)
    phone = selectors.reveal_reporter_phone(request.auth, incident, purpose=payload.purpose)
    return {"phone": phone}


@router.post("/{incident_id}/convert", response={201: CaseOut})
def convert(request: HttpRequest, incident_id: Id, payload: ConvertIn):
    """Turn the incident into a case (F1.3); you become its lead officer."""
    incident = selectors.get_incident(request.auth, incident_id)
    case = services.convert_to_case(request.auth, incident, **payload.dict())
    return Status(201, case_out(case))


@router.post("/{incident_id}/close", response=IncidentOut)
def close(request: HttpRequest, incident_id: Id, payload: CloseIn):
    incident = selectors.get_incident(request.auth, incident_id)
    return incident_out(services.close_incident(request.auth, incident, reason=payload.reason))
