"""Reads of incidents. The reporter's details are personal data: an audited read."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet

from casecenter.accounts.models import POLICE_ROLES, User
from casecenter.audit.services import record
from casecenter.cases.models import Person
from casecenter.errors import NotFound
from casecenter.incidents.models import Incident


def visible_incidents(user: User) -> QuerySet[Incident]:
    """Incidents of the user's organisation (or of the stations under it)."""
    if user.role not in POLICE_ROLES or not user.organisation_id:
        return Incident.objects.none()
    return Incident.objects.filter(
        Q(organisation_id=user.organisation_id) | Q(organisation__parent_id=user.organisation_id)
    )


def incident_list(
    user: User, *, q: str = "", state: str = "", channel: str = "", category: str = ""
) -> QuerySet[Incident]:
    incidents = visible_incidents(user).select_related("case")
    if q:
        incidents = incidents.filter(Q(number__icontains=q) | Q(place__icontains=q))
    if state:
        incidents = incidents.filter(state=state)
    if channel:
        incidents = incidents.filter(channel=channel)
    if category:
        incidents = incidents.filter(category=category)
    return incidents.order_by("-received_at", "-id")


def get_incident(user: User, pk: int) -> Incident:
    incident = visible_incidents(user).select_related("case", "organisation").filter(pk=pk).first()
    if incident is None:
        raise NotFound("incident.not_found", "警情不存在。", "No such incident.")
    return incident


def read_reporter(user: User, incident: Incident) -> Person | None:
    """The reporter's details (audited). Station duty is the need-to-know basis."""
    if incident.reporter_id is None:
        return None
    with transaction.atomic():
        record(user, "incident.read_reporter", incident, data={"person_id": incident.reporter_id})
    return incident.reporter
