"""Reads of the fast track: which tracks a user may follow, a track's stage-by-stage
timeline (planned vs actual) and the dashboard's figures.

Who follows a track (need-to-know, the same rule on the page and the API): the
police who read its case's personal data (``cases.access``: its officers, its
supervisors, a break-glass grant), and a partner organisation's working role
whose organisation holds a matter of the track. Anyone else — an officer of the
station not on the case, a prosecutor of another procuratorate — is told "not
found", as if it did not exist: the track's title names the defendant and its
stages the judgment. The shared record names the case by number and title only;
each read of a track and of the dashboard is audited (one entry per read).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casecenter import law
from casecenter.accounts.models import User
from casecenter.audit.services import record
from casecenter.cases import access
from casecenter.errors import NotFound
from casecenter.exchange import services as exchange
from casecenter.exchange.models import Matter
from casecenter.fasttrack.models import FastTrack, Stage


def visible_tracks(user: User) -> QuerySet[FastTrack]:
    if not user.is_authenticated or not user.organisation_id:
        return FastTrack.objects.none()
    if user.is_police:
        granted = Q(
            case__access_grants__user=user, case__access_grants__expires_at__gt=timezone.now()
        )
        on_case = Q(case__in=access.readable_cases(user).values("pk"))
        return FastTrack.objects.filter(on_case | granted).distinct()
    if exchange.is_partner_worker(user, user.organisation_id):
        held = Matter.objects.filter(organisation_id=user.organisation_id).values("fast_track_id")
        return FastTrack.objects.filter(pk__in=held)
    return FastTrack.objects.none()


def _with_stages(rows: QuerySet[FastTrack]) -> QuerySet[FastTrack]:
    stages = Stage.objects.select_related("organisation", "done_by").order_by("position")
    return rows.select_related("police").prefetch_related(Prefetch("stages", queryset=stages))


def get_track(user: User, pk: int) -> FastTrack:
    track = _with_stages(visible_tracks(user)).filter(pk=pk).first()
    if track is None:
        raise NotFound("fast_track.not_found", "速裁案件不存在。", "No such fast track.")
    return track


def basis(user: User, track: FastTrack) -> str:
    """Why ``user`` follows ``track``, for the audit entry."""
    if user.is_police:
        return access.access_basis(user, track.case) or "none"
    return "matter"


def read_track(user: User, pk: int, *, via: str = "page") -> FastTrack:
    """A track as its page and the API show it: audited."""
    track = get_track(user, pk)
    with transaction.atomic():
        record(
            user,
            "fast_track.read",
            track,
            reason=via,
            data={"case_number": track.case_number, "basis": basis(user, track)},
        )
    return track


#: who does a stage, as the timeline names them before an organisation did it
BY_LABELS = {
    "police": _("Police"),
    "legal_aid": _("Legal aid"),
    "procuratorate": _("Procuratorate"),
    "court": _("Court"),
}


@dataclass
class StageRow:
    """A stage as the timeline shows it."""

    stage: Stage
    name_zh: str
    name_en: str
    by: str
    #: hours after capture: the target, and when it was reached
    target_hours: float | None
    done_hours: float | None
    late: bool  # reached after its target, or its target passed unreached
    current: bool  # the next stage to reach

    @property
    def by_label(self) -> str:
        return str(BY_LABELS.get(self.by, self.by))


@dataclass
class Timeline:
    track: FastTrack
    rows: list[StageRow]
    hours: float  # capture → judgment, or → now while running
    over: bool  # past the 48 hours without a judgment, or judged after them
    current: StageRow | None


def timeline(track: FastTrack, now: datetime | None = None) -> Timeline:
    now = now or timezone.now()
    start = track.captured_at
    stages = sorted(track.stages.all(), key=lambda s: s.position)
    running = track.state == FastTrack.State.RUNNING
    current = next((s for s in stages if s.done_at is None), None) if running else None
    rows = []
    for stage in stages:
        spec = law.fasttrack.stage(stage.code)
        target = law.fasttrack.hours_between(start, stage.target_at) if stage.target_at else None
        done = law.fasttrack.hours_between(start, stage.done_at) if stage.done_at else None
        late = bool(
            stage.target_at
            and (
                (stage.done_at and stage.done_at > stage.target_at)
                or (not stage.done_at and running and now > stage.target_at)
            )
        )
        rows.append(
            StageRow(
                stage,
                spec.name_zh,
                spec.name_en,
                spec.by,
                target,
                done,
                late,
                current is not None and stage.pk == current.pk,
            )
        )
    judgment = next((s.done_at for s in stages if s.code == "judgment" and s.done_at), None)
    end = judgment or (now if running else track.ended_at or now)
    hours = law.fasttrack.hours_between(start, end)
    return Timeline(
        track=track,
        rows=rows,
        hours=hours,
        over=hours > law.fasttrack.TRACK_HOURS and (judgment is not None or running),
        current=next((r for r in rows if r.current), None),
    )


@dataclass
class Dashboard:
    timelines: list[Timeline]
    running: int
    judged: int
    over: int
    median_hours: float | None  # capture → judgment, of the judged tracks
    within_48h: float | None  # share of judged tracks judged within 48 h


def dashboard(user: User, *, state: str = "") -> Dashboard:
    rows = _with_stages(visible_tracks(user))
    if state:
        rows = rows.filter(state=state)
    now = timezone.now()
    timelines = [timeline(t, now) for t in rows.order_by("-captured_at", "-id")[:500]]
    with transaction.atomic():  # one entry per read of the list: the tracks it showed
        record(
            user,
            "fast_track.listed",
            None,
            data={"tracks": [t.track.pk for t in timelines], "state": state},
        )
    judged = [
        t for t in timelines if any(r.stage.code == "judgment" and r.done_hours for r in t.rows)
    ]
    hours = [t.hours for t in judged]
    return Dashboard(
        timelines=sorted(
            timelines, key=lambda t: (t.track.state != "running", not t.over, -t.hours)
        ),
        running=sum(1 for t in timelines if t.track.state == FastTrack.State.RUNNING),
        judged=len(judged),
        over=sum(1 for t in timelines if t.over),
        median_hours=round(statistics.median(hours), 1) if hours else None,
        within_48h=(
            round(sum(1 for h in hours if h <= law.fasttrack.TRACK_HOURS) / len(hours), 2)
            if hours
            else None
        ),
    )


def case_track(case) -> FastTrack | None:  # type: ignore[no-untyped-def]
    """A case's fast track, for its page (the caller checked the case)."""
    return _with_stages(FastTrack.objects.filter(case=case)).first()


def partner_matter(user: User, track: FastTrack) -> Matter | None:
    """The viewer's own organisation's latest record of the track, if any."""
    return (
        Matter.objects.filter(fast_track=track, organisation_id=user.organisation_id)
        .order_by("-opened_at")
        .first()
    )
