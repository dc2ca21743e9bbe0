"""API: the custody area's live map, entry and exit registration, a stay's path,
the interrogation desk. Device events come in through ``/api/devices``."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status

from casecenter.accounts.models import User
from casecenter.cases import selectors as cases
from casecenter.cases.models import Party
from casecenter.custody import selectors, services
from casecenter.custody.models import Device, Session, Stay, Zone
from casecenter.errors import NotFound
from casecenter.measures.models import Measure
from casecenter.schema import Choice, Id, Text

router = Router(tags=["custody"])


class PersonOut(Schema):
    stay_id: int
    name: str
    case_number: str
    since: datetime
    minutes_in_area: int
    alerts: int


class ZoneOut(Schema):
    code: str
    name: str
    kind: str
    x: int
    y: int
    w: int
    h: int
    recording: str  # on | asked | off
    officers: int
    people: list[PersonOut]


class MapOut(Schema):
    center: str
    in_area: int
    zones: list[ZoneOut]
    open_alerts: int


class BelongingIn(Schema):
    description: Text(200, 1)
    quantity: int = 1


class EntryIn(Schema):
    center: Text(40, 1)
    party_id: Id
    wristband: Text(40, 1)
    searched_by: Id
    identity_checked: bool
    health: Text(2000) = ""
    injuries: bool = False
    belongings: list[BelongingIn] = []
    measure_id: Id | None = None


class SegmentOut(Schema):
    camera: str
    audio: bool
    asked_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None


class StepOut(Schema):
    zone: str
    entered_at: datetime
    left_at: datetime | None
    covered: bool
    segments: list[SegmentOut]


class StayOut(Schema):
    id: int
    case_id: int
    party_id: int
    wristband: str | None
    entered_at: datetime
    exited_at: datetime | None
    exit_reason: str
    path: list[StepOut]


class ExitIn(Schema):
    reason: Text(200, 1)


class SessionIn(Schema):
    zone: Text(30, 1)
    kind: Choice(Session.Kind, 20) = Session.Kind.INTERROGATION
    officers: list[Id] = []
    parent_id: Id | None = None


class SessionOut(Schema):
    id: int
    kind: str
    zone: str
    started_at: datetime
    ended_at: datetime | None
    parent_id: int | None
    mismatches: list[str]


def _stay_out(stay: Stay) -> dict:
    return {
        "id": stay.pk,
        "case_id": stay.case_id,
        "party_id": stay.party_id,
        "wristband": stay.wristband.code if stay.wristband else None,
        "entered_at": stay.entered_at,
        "exited_at": stay.exited_at,
        "exit_reason": stay.exit_reason,
        "path": [
            {
                "zone": step.presence.zone.code,
                "entered_at": step.presence.entered_at,
                "left_at": step.presence.left_at,
                "covered": step.covered,
                "segments": [
                    {
                        "camera": s.camera.code,
                        "audio": s.audio,
                        "asked_at": s.asked_at,
                        "started_at": s.started_at,
                        "stopped_at": s.stopped_at,
                    }
                    for s in step.segments
                ],
            }
            for step in selectors.stay_path(stay)
        ],
    }


def _session_out(session: Session) -> dict:
    return {
        "id": session.pk,
        "kind": session.kind,
        "zone": session.zone.code,
        "started_at": session.started_at,
        "ended_at": session.ended_at,
        "parent_id": session.parent_id,
        "mismatches": services.session_mismatches(session),
    }


@router.get("/centers/{code}/map", response=MapOut)
def live_map(request: HttpRequest, code: Text(40, 1)):
    """Who is where now (names masked without need-to-know), recording state, alerts."""
    center = selectors.get_center(request.auth, code)
    view = selectors.center_map(request.auth, center, audit=True)
    return {
        "center": center.code,
        "in_area": view.in_area,
        "open_alerts": len(view.alerts),
        "zones": [
            {
                **{f: getattr(z.zone, f) for f in ("code", "name", "kind", "x", "y", "w", "h")},
                "recording": z.recording,
                "officers": z.staff,
                "people": [
                    {
                        "stay_id": p.stay.pk,
                        "name": p.name,
                        "case_number": p.case_number,
                        "since": p.since,
                        "minutes_in_area": p.minutes_in_area,
                        "alerts": p.alerts,
                    }
                    for p in z.people
                ],
            }
            for z in view.zones
        ],
    }


@router.post("/stays", response={201: StayOut})
def register_entry(request: HttpRequest, payload: EntryIn):
    """入区登记: identity, same-sex safety check, belongings, health, wristband."""
    center = selectors.get_center(request.auth, payload.center)
    party = Party.objects.select_related("person").filter(pk=payload.party_id).first()
    if party is None:
        raise NotFound("party.not_found", "人员不存在。", "No such person.")
    cases.get_case(request.auth, party.case_id)  # the case must be visible to the caller
    device = Device.objects.filter(center=center, code=payload.wristband).first()
    searcher = User.objects.filter(pk=payload.searched_by, is_active=True).first()
    if device is None or searcher is None:
        raise NotFound(
            "custody.entry_input",
            "手环或安全检查民警不存在。",
            "No such wristband in this center, or no such officer.",
        )
    measure = None
    if payload.measure_id is not None:
        measure = Measure.objects.filter(pk=payload.measure_id).first()
        if measure is None:
            raise NotFound("custody.measure", "强制措施不存在。", "No such measure.")
    stay = services.register_entry(
        request.auth,
        center=center,
        party=party,
        wristband=device,
        searched_by=searcher,
        identity_checked=payload.identity_checked,
        health=payload.health,
        injuries=payload.injuries,
        belongings=[(b.description, b.quantity) for b in payload.belongings],
        measure=measure,
    )
    return Status(201, _stay_out(stay))


@router.get("/stays/{stay_id}", response=StayOut)
def read_stay(request: HttpRequest, stay_id: Id):
    """A stay with its path through the zones beside the recording segments (audited)."""
    return _stay_out(selectors.get_stay(request.auth, stay_id))


@router.post("/stays/{stay_id}/exit", response=StayOut)
def register_exit(request: HttpRequest, stay_id: Id, payload: ExitIn):
    stay = selectors.get_stay(request.auth, stay_id)
    return _stay_out(services.register_exit(request.auth, stay, reason=payload.reason))


@router.post("/stays/{stay_id}/sessions", response={201: SessionOut})
def open_session(request: HttpRequest, stay_id: Id, payload: SessionIn):
    """The one-button desk: an interrogation (recording starts in the room), or a
    linked sub-session of an open one (``parent_id``)."""
    stay = selectors.get_stay(request.auth, stay_id)
    zone = Zone.objects.filter(center=stay.center, code=payload.zone).first()
    if zone is None:
        raise NotFound("session.zone", "房间不存在。", "No such room in this center.")
    parent = stay.sessions.filter(pk=payload.parent_id).first() if payload.parent_id else None
    if payload.parent_id and parent is None:
        raise NotFound("session.parent", "上级会话不存在。", "No such parent session.")
    session = services.open_session(
        request.auth,
        stay,
        zone=zone,
        officers=User.objects.filter(pk__in=payload.officers),
        kind=payload.kind,
        parent=parent,
    )
    return Status(201, _session_out(session))


@router.post("/stays/{stay_id}/sessions/{session_id}/close", response=SessionOut)
def close_session(request: HttpRequest, stay_id: Id, session_id: Id):
    stay = selectors.get_stay(request.auth, stay_id)
    session = stay.sessions.filter(pk=session_id).first()
    if session is None:
        raise NotFound("session.not_found", "没有该会话。", "No such session.")
    return _session_out(services.close_session(request.auth, session))
