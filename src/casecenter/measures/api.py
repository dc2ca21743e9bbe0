"""API: coercive measures of a case, their moments and their end (F2.4)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from casecenter.accounts.models import User
from casecenter.cases import selectors as cases
from casecenter.cases.api import _officers as officers_by_id
from casecenter.errors import NotFound
from casecenter.measures import selectors, services
from casecenter.measures.models import Measure, MeasureKind
from casecenter.schema import Choice, Id, Text, Timestamp
from casecenter.supervision.api import DeadlineOut, deadline_out

router = Router(tags=["measures"])

#: every moment a measure can record
MOMENTS = sorted({moment for moments in services.MOMENTS.values() for moment in moments})


class MomentOut(Schema):
    moment: str
    label: str
    at: datetime
    actor: str
    note: str


class MeasureOut(Schema):
    id: int
    case_id: int
    kind: str
    label: str
    state: str
    party_id: int
    person: str
    started_at: datetime
    ended_at: datetime | None
    end_reason: str
    designated_residence: bool
    term_days: int | None
    officers: list[int]
    moments: list[MomentOut]
    open_moments: list[str]
    clocks: list[DeadlineOut]


class MeasureIn(Schema):
    party_id: Id
    kind: Choice(MeasureKind, 30)
    started_at: Timestamp
    officers: Annotated[list[Id], Field(max_length=20)] = []
    designated_residence: bool = False
    term_days: Annotated[int, Field(ge=1, le=366)] | None = None
    variant: Text(30, 1) = "default"


class MomentIn(Schema):
    #: which of them a measure has depends on its kind (its ``open_moments``)
    moment: Choice(MOMENTS, 30)
    at: Timestamp
    note: Text(2000) = ""


class EndIn(Schema):
    at: Timestamp
    reason: Text(2000, 1)


def measure_out(measure: Measure) -> dict:
    return {
        "id": measure.pk,
        "case_id": measure.case_id,
        "kind": measure.kind,
        "label": measure.get_kind_display(),
        "state": measure.state,
        "party_id": measure.party_id,
        "person": measure.party.person.name,
        "started_at": measure.started_at,
        "ended_at": measure.ended_at,
        "end_reason": measure.end_reason,
        "designated_residence": measure.designated_residence,
        "term_days": measure.term_days,
        "officers": list(measure.officers),
        "moments": [
            {
                "moment": e.kind,
                "label": e.get_kind_display(),
                "at": e.at,
                "actor": str(e.actor),
                "note": e.note,
            }
            for e in measure.events.all()
        ],
        "open_moments": selectors.open_moments(measure),
        "clocks": [deadline_out(d) for d in measure.deadlines.all()],
    }


def _fresh(user: User, pk: int) -> dict:
    """The measure as it is now, after a service changed it."""
    measure = selectors.get_measure(user, pk)
    return measure_out(selectors.measures_of(measure.case).get(pk=pk))


@router.get("/cases/{case_id}/measures", response=list[MeasureOut])
def list_measures(request: HttpRequest, case_id: Id):
    """The case's measures with their moments and clocks (need-to-know; audited)."""
    case = cases.get_case(request.auth, case_id)
    return [measure_out(m) for m in selectors.read_measures(request.auth, case)]


@router.post("/cases/{case_id}/measures", response={201: MeasureOut})
def start(request: HttpRequest, case_id: Id, payload: MeasureIn):
    """Apply a measure to a suspect of the case; two officers of the case take part.
    Its statutory clocks start at ``started_at``."""
    case = cases.get_case(request.auth, case_id)
    party = case.parties.filter(pk=payload.party_id).first()
    if party is None:
        raise NotFound("party.not_found", "该人员不在本案中。", "No such party in this case.")
    measure = services.start_measure(
        request.auth,
        case,
        party,
        payload.kind,
        started_at=payload.started_at,
        officers=officers_by_id(payload.officers),
        designated_residence=payload.designated_residence,
        term_days=payload.term_days,
        variant=payload.variant,
    )
    return Status(201, _fresh(request.auth, measure.pk))


@router.post("/measures/{measure_id}/moments", response={201: MeasureOut})
def record_moment(request: HttpRequest, measure_id: Id, payload: MomentIn):
    """Record a moment (``family_notified``, ``interrogated``, ``sent_to_house`` …):
    the clocks it answers are met."""
    measure = selectors.get_measure(request.auth, measure_id)
    services.record_moment(request.auth, measure, payload.moment, at=payload.at, note=payload.note)
    return Status(201, _fresh(request.auth, measure_id))


@router.post("/measures/{measure_id}/end", response=MeasureOut)
def end(request: HttpRequest, measure_id: Id, payload: EndIn):
    """End the measure (released, term served …); its clocks close."""
    measure = selectors.get_measure(request.auth, measure_id)
    services.end_measure(request.auth, measure, at=payload.at, reason=payload.reason)
    return _fresh(request.auth, measure_id)
