"""Every write to incidents (警情), one transaction each."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from casecenter.accounts.models import POLICE_ROLES, User
from casecenter.accounts.services import next_serial
from casecenter.audit.services import record
from casecenter.cases.models import Case, Category, PartyRole
from casecenter.cases.services import accept_case, add_party, record_person
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.incidents.models import Channel, Incident, IncidentState
from casecenter.outbox.services import emit

EARLIEST_YEAR = 1990  # older dates are typing mistakes, not incidents


def _require_station_officer(actor: User) -> None:
    if actor.role not in POLICE_ROLES or actor.organisation_id is None:
        raise PermissionDenied(
            "incident.not_police",
            "只有公安民警可以登记警情。",
            "Only police officers register incidents.",
        )


def _locked_open(actor: User, incident: Incident) -> Incident:
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.organisation_id != actor.organisation_id:
        raise PermissionDenied(
            "incident.other_organisation",
            "这不是本单位的警情。",
            "This incident belongs to another organisation.",
        )
    if incident.state != IncidentState.OPEN:
        raise Conflict(
            "incident.not_open",
            "警情已处理，不能再次处理。",
            "The incident has already been dealt with.",
        )
    return incident


@transaction.atomic
def register_incident(
    actor: User,
    *,
    channel: str,
    received_at: datetime,
    place: str,
    category: str,
    summary: str,
    reporter_name: str = "",
    reporter_phone: str = "",
    reporter_id_number: str = "",
) -> Incident:
    """Register an incident (F1.1) and number it per organisation and year."""
    _require_station_officer(actor)
    if channel not in Channel.values:
        raise InvalidInput(
            "incident.channel", f"未知的接警渠道：{channel}", f"Unknown channel: {channel}"
        )
    if category not in Category.values:
        raise InvalidInput(
            "incident.category", f"未知的警情类别：{category}", f"Unknown category: {category}"
        )
    if timezone.is_naive(received_at):
        received_at = timezone.make_aware(received_at)
    if received_at.year < EARLIEST_YEAR:
        raise InvalidInput(
            "incident.too_old",
            f"接警时间不能早于{EARLIEST_YEAR}年。",
            f"The incident cannot be received before {EARLIEST_YEAR}.",
        )
    if received_at > timezone.now() + timedelta(minutes=5):
        raise InvalidInput(
            "incident.future",
            "接警时间不能晚于现在。",
            "The incident cannot be received in the future.",
        )
    place, summary = place.strip(), summary.strip()
    if not place or not summary:
        raise InvalidInput(
            "incident.missing", "请填写地点和简要案情。", "Place and summary are required."
        )
    reporter = None
    if reporter_name.strip():
        reporter = record_person(
            name=reporter_name, id_number=reporter_id_number, phone=reporter_phone
        )
    elif reporter_phone.strip() or reporter_id_number.strip():
        raise InvalidInput(
            "incident.reporter_name",
            "请填写报警人姓名。",
            "The reporter's name is required with a phone or ID number.",
        )
    year = timezone.localtime(received_at).year
    serial = next_serial(actor.organisation_id, "incident", year)
    incident = Incident.objects.create(
        organisation_id=actor.organisation_id,
        year=year,
        serial=serial,
        number=f"{actor.organisation.code.upper()}-JQ-{year}-{serial:06d}",
        channel=channel,
        received_at=received_at,
        place=place,
        category=category,
        summary=summary,
        reporter=reporter,
        registered_by=actor,
    )
    record(
        actor,
        "incident.registered",
        incident,
        data={"channel": channel, "reporter": getattr(reporter, "pk", None)},
    )
    emit("incident.registered", incident_id=incident.pk, number=incident.number)
    return incident


@transaction.atomic
def convert_to_case(
    actor: User,
    incident: Incident,
    *,
    kind: str,
    category: str = "",
    title: str = "",
    secret: bool = False,
) -> Case:
    """Turn an incident into a case with one action, keeping the link (F1.3).

    The reporter joins the case as its reporter; the incident's time becomes
    the time of the act until the officer knows better.
    """
    incident = _locked_open(actor, incident)
    case = accept_case(
        actor,
        kind=kind,
        category=category or incident.category,
        title=title or f"{incident.get_category_display()}（{incident.place}）",
        summary=incident.summary,
        place=incident.place,
        occurred_at=incident.received_at,
        secret=secret,
    )
    if incident.reporter_id:
        reporter = incident.reporter
        add_party(
            actor,
            case,
            role=PartyRole.REPORTER,
            name=reporter.name,
            id_number=reporter.id_number,
            phone=reporter.phone,
        )
    incident.case = case
    incident.state = IncidentState.CONVERTED
    incident.save(update_fields=["case", "state"])
    record(actor, "incident.converted", incident, data={"case_id": case.pk})
    emit("incident.converted", incident_id=incident.pk, case_id=case.pk)
    return case


@transaction.atomic
def close_incident(actor: User, incident: Incident, *, reason: str) -> Incident:
    """Close an incident that needs no case (e.g. a dispute settled on the spot)."""
    incident = _locked_open(actor, incident)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("incident.reason", "请说明处理结果。", "State how it was dealt with.")
    incident.state = IncidentState.CLOSED
    incident.closing_reason = reason
    incident.save(update_fields=["state", "closing_reason"])
    record(actor, "incident.closed", incident, reason=reason)
    emit("incident.closed", incident_id=incident.pk)
    return incident
