"""API: the 48-hour fast track (F7.3) — the dashboard, a track's stages (planned
vs actual), and the police's steps: start with the eligibility checklist, notify
legal aid, submit to the procuratorate, move to the ordinary procedure. The
partners' steps are on their matters (``/api/exchange/matters/…``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from casecenter.accounts.models import Organisation
from casecenter.cases import selectors as cases
from casecenter.cases.models import Party
from casecenter.errors import NotFound
from casecenter.exchange.schemas import PackageOut, package_out
from casecenter.fasttrack import selectors, services
from casecenter.fasttrack.models import FastTrack
from casecenter.fasttrack.selectors import Timeline
from casecenter.schema import ChoiceFilter, Id, Text, Timestamp

router = Router(tags=["fast track"])


class StageOut(Schema):
    code: str
    name_zh: str
    name_en: str
    by: str
    organisation: str | None
    target_at: datetime | None
    target_hours: float | None
    done_at: datetime | None
    done_hours: float | None
    late: bool
    current: bool
    note: dict[str, str]


class TrackOut(Schema):
    id: int
    case_number: str
    title: str
    state: str
    captured_at: datetime
    expected_sentence_months: int
    hours: float = Field(description="capture to judgment, or to now while it runs")
    over_48h: bool
    current_stage: str | None
    confirmed_by: str
    confirmed_at: datetime
    end_reason: str
    stages: list[StageOut]


class DashboardOut(Schema):
    running: int
    judged: int
    over_48h: int
    median_hours: float | None
    within_48h: float | None
    tracks: list[TrackOut]


class StartIn(Schema):
    suspect_id: Id
    captured_at: Timestamp
    admits_guilt: bool
    facts_clear: bool
    expected_sentence_months: int = Field(ge=0, le=600)
    no_exclusion: bool


class OrganisationIn(Schema):
    organisation_id: Id


class ReasonIn(Schema):
    reason: Text(2000, 1)


def track_out(timeline: Timeline) -> dict[str, Any]:
    track = timeline.track
    return {
        "id": track.pk,
        "case_number": track.case_number,
        "title": track.title,
        "state": track.state,
        "captured_at": track.captured_at,
        "expected_sentence_months": track.expected_sentence_months,
        "hours": timeline.hours,
        "over_48h": timeline.over,
        "current_stage": timeline.current.stage.code if timeline.current else None,
        "confirmed_by": str(track.confirmed_by),
        "confirmed_at": track.confirmed_at,
        "end_reason": track.end_reason,
        "stages": [
            {
                "code": r.stage.code,
                "name_zh": r.name_zh,
                "name_en": r.name_en,
                "by": r.by,
                "organisation": r.stage.organisation.name if r.stage.organisation else None,
                "target_at": r.stage.target_at,
                "target_hours": r.target_hours,
                "done_at": r.stage.done_at,
                "done_hours": r.done_hours,
                "late": r.late,
                "current": r.current,
                "note": r.stage.note or {},
            }
            for r in timeline.rows
        ],
    }


def _organisation(pk: int) -> Organisation:
    found = Organisation.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound("fast_track.receiver", "单位不存在。", "No such organisation.")
    return found


def _read(request: HttpRequest, pk: int) -> dict[str, Any]:
    return track_out(selectors.timeline(selectors.read_track(request.auth, pk, via="api")))


@router.get("/", response=DashboardOut)
def dashboard(request: HttpRequest, state: ChoiceFilter(FastTrack.State, 10) = ""):
    """Every fast track you may follow with its hours, and the figures: running,
    judged, median hours to judgment, share within 48 hours, past 48 hours."""
    board = selectors.dashboard(request.auth, state=state)
    return {
        "running": board.running,
        "judged": board.judged,
        "over_48h": board.over,
        "median_hours": board.median_hours,
        "within_48h": board.within_48h,
        "tracks": [track_out(t) for t in board.timelines],
    }


@router.get("/{track_id}", response=TrackOut)
def read_track(request: HttpRequest, track_id: Id):
    """A track stage by stage: each stage's target and when (and by whom) it was reached."""
    return _read(request, track_id)


@router.post("/cases/{case_id}", response={201: TrackOut})
def start(request: HttpRequest, case_id: Id, payload: StartIn):
    """Start the fast track with the eligibility checklist (CPL Art. 222–223),
    confirmed by you; the 48 hours count from ``captured_at``."""
    case = cases.get_case(request.auth, case_id)
    suspect = Party.objects.filter(pk=payload.suspect_id, case=case).first()
    if suspect is None:
        raise NotFound(
            "fast_track.suspect", "请选择本案的犯罪嫌疑人。", "Choose a suspect of this case."
        )
    track = services.start(
        request.auth,
        case,
        suspect=suspect,
        captured_at=payload.captured_at,
        admits_guilt=payload.admits_guilt,
        facts_clear=payload.facts_clear,
        expected_sentence_months=payload.expected_sentence_months,
        no_exclusion=payload.no_exclusion,
    )
    return Status(201, _read(request, track.pk))


@router.post("/{track_id}/legal-aid", response={201: PackageOut})
def notify_legal_aid(request: HttpRequest, track_id: Id, payload: OrganisationIn):
    """Ask a legal-aid center for a duty lawyer: the notice goes out, signed."""
    track = selectors.get_track(request.auth, track_id)
    package = services.notify_legal_aid(
        request.auth, track, legal_aid=_organisation(payload.organisation_id)
    )
    return Status(201, package_out(package))


@router.post("/{track_id}/submit", response={201: PackageOut})
def submit(request: HttpRequest, track_id: Id, payload: OrganisationIn):
    """Legal affairs approve and submit to the procuratorate: the case is
    transferred for prosecution and its dossier sent, signed."""
    track = selectors.get_track(request.auth, track_id)
    package = services.submit(
        request.auth, track, procuratorate=_organisation(payload.organisation_id)
    )
    return Status(201, package_out(package))


@router.post("/{track_id}/abandon", response=TrackOut)
def abandon(request: HttpRequest, track_id: Id, payload: ReasonIn):
    """Move the case to the ordinary procedure, saying why; the stage clocks stop."""
    track = selectors.get_track(request.auth, track_id)
    services.abandon(request.auth, track, reason=payload.reason)
    return _read(request, track_id)
