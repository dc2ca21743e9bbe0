"""Reads of incidents. The reporter's details are personal data: an audited read.

An incident turned into a secret (涉密) case belongs to that case: whoever may
not know the case exists may not know the incident does either. It leaves
every list, search and count of theirs, and its page is "not found" exactly
like a number that was never given (no placeholder: the gap in the station's
numbering is all that shows).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet

from casecenter.accounts.models import POLICE_ROLES, User
from casecenter.audit.services import record
from casecenter.cases import access
from casecenter.cases.models import Person
from casecenter.errors import InvalidInput, NotFound, PermissionDenied
from casecenter.incidents.models import Incident
from casecenter.law import mask_phone


def visible_incidents(user: User) -> QuerySet[Incident]:
    """Incidents of the user's organisation (or of the stations under it), less
    those turned into a case the user may not know of (a secret case they are
    not assigned to)."""
    if not user.is_authenticated or user.role not in POLICE_ROLES or not user.organisation_id:
        return Incident.objects.none()
    in_scope = Q(organisation_id=user.organisation_id) | Q(
        organisation__parent_id=user.organisation_id
    )
    known_case = Q(case__isnull=True) | Q(case__secret=False)
    known_case |= Q(case_id__in=access.visible_cases(user).values("pk"))
    return Incident.objects.filter(in_scope & known_case)


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
    """The reporter's details (audited), the phone to be shown masked
    (:func:`masked_phone`). Station duty is the need-to-know basis."""
    if incident.reporter_id is None:
        return None
    with transaction.atomic():
        record(user, "incident.read_reporter", incident, data={"person_id": incident.reporter_id})
    return incident.reporter


def masked_phone(reporter: Person | None) -> str:
    """The reporter's phone as a page shows it: ``138****5678``."""
    return mask_phone(reporter.phone) if reporter is not None else ""


def may_reveal_phone(user: User, incident: Incident) -> bool:
    """Who needs the reporter's full phone: an officer of the incident's own
    station while it is open (to call the reporter back), and once it is a case,
    those who may read the case's personal data."""
    if incident.case_id is not None:
        return access.may_read_personal(user, incident.case)
    return user.organisation_id == incident.organisation_id


def reveal_reporter_phone(user: User, incident: Incident, *, purpose: str) -> str:
    """The reporter's full phone, for a stated purpose: a read of its own on
    the audit log (PIPL Art. 28), like a party's full ID number."""
    purpose = (purpose or "").strip()
    if len(purpose) < 2:
        raise InvalidInput(
            "incident.reveal_purpose",
            "请说明查看完整号码的用途。",
            "State why you need the full number.",
        )
    if incident.reporter_id is None or not may_reveal_phone(user, incident):
        raise PermissionDenied(
            "incident.reveal_forbidden",
            "您无权查看完整号码。",
            "You may not read the full number.",
        )
    with transaction.atomic():
        record(
            user,
            "incident.reveal_reporter_phone",
            incident,
            reason=purpose,
            data={"person_id": incident.reporter_id},
        )
    return incident.reporter.phone
