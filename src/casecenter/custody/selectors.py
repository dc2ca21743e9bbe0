"""Reads of the custody area: the live map, a stay's path with its recordings.

Who sees names: the center's own staff (custody staff, commander) and whoever
reads the case's personal data (its officers and supervisors). Everyone else
sees masked names. Opening the map or a stay writes an audit entry; the map's
entry (the list of the people in the area) names the stays it showed, and which
of them by name — one entry per read of the list, not one per person.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from casecenter import law
from casecenter.accounts.models import Organisation, OrganisationKind, Role, User
from casecenter.audit.services import record
from casecenter.cases import access
from casecenter.custody.models import Camera, Presence, Recording, Stay, Zone
from casecenter.custody.tracking import grace
from casecenter.errors import NotFound
from casecenter.supervision.models import Alert, AlertState, Deadline
from casecenter.supervision.selectors import visible_alerts

CENTER_ROLES = frozenset({Role.CUSTODY_STAFF, Role.COMMANDER, Role.MEDICAL})


def centers_for(user: User) -> QuerySet[Organisation]:
    """The centers whose area the user may watch: their own center, or the centers
    beside their station under the same branch (officers bring people there)."""
    if not user.is_authenticated or not user.organisation_id:
        return Organisation.objects.none()
    org = user.organisation
    return Organisation.objects.filter(kind=OrganisationKind.CASE_CENTER).filter(
        Q(pk=org.pk) | Q(parent_id=org.parent_id or -1) | Q(parent_id=org.pk)
    )


def get_center(user: User, code: str | None = None) -> Organisation:
    centers = centers_for(user)
    center = centers.filter(code=code).first() if code else centers.first()
    if center is None:
        raise NotFound("center.not_found", "没有可查看的办案中心。", "No center you may watch.")
    return center


def sees_names(user: User, stay: Stay) -> bool:
    if user.role in CENTER_ROLES and user.organisation_id == stay.center_id:
        return True
    return access.may_read_personal(user, stay.case)


@dataclass
class Person:
    stay: Stay
    name: str
    since: datetime
    minutes_in_area: int
    alerts: int
    #: the summons or detention clock the arrival started (``AREA_CLOCKS``)
    clock: Deadline | None = None
    #: the name is shown in full (``sees_names``)
    named: bool = False

    @property
    def case_number(self) -> str:
        """The case's number; a secret case's only to those who see the name."""
        case = self.stay.case
        return case.number if self.named or not case.secret else ""

    @property
    def clock_left(self) -> timedelta | None:
        """Time left on the clock (negative past due)."""
        return None if self.clock is None else self.clock.due_at - timezone.now()

    @property
    def clock_distance(self) -> timedelta | None:
        left = self.clock_left
        return None if left is None else abs(left)

    @property
    def clock_state(self) -> str:
        """ "over" past due, "near" within the last fifth of the period, else "ok"."""
        left = self.clock_left
        if left is None or self.clock is None:
            return ""
        if left < timedelta(0):
            return "over"
        return "near" if left <= (self.clock.due_at - self.clock.trigger_at) / 5 else "ok"


@dataclass
class ZoneView:
    zone: Zone
    people: list[Person] = field(default_factory=list)
    staff: int = 0
    cameras: list[Camera] = field(default_factory=list)

    @property
    def recording(self) -> str:
        """The zone's recording as its cameras report it (``Camera.state``), the
        worst first: "failed" (a camera asked to record reported a fault or that it
        does not record), "asked" (asked, not confirmed yet), "on" (every camera
        asked confirmed), "stray" (a camera records with nobody tracked here: it is
        told to stop), "off"."""
        states = {c.state for c in self.cameras}
        for state in ("failed", "asked", "on", "stray"):
            if state in states:
                return state
        return "off"


@dataclass
class CenterMap:
    center: Organisation
    zones: list[ZoneView]
    alerts: list[Alert]
    width: int
    height: int
    in_area: int


def center_map(user: User, center: Organisation, *, audit: bool = False) -> CenterMap:
    """Who is where now, for how long, recording state and open alerts."""
    now = timezone.now()
    zones = list(Zone.objects.filter(center=center).prefetch_related("cameras"))
    views = {z.pk: ZoneView(z, cameras=list(z.cameras.all())) for z in zones}
    open_alerts = list(
        visible_alerts(user)
        .filter(organisation=center)
        .exclude(state=AlertState.RESOLVED)
        .select_related("rule", "case")
        .order_by("-raised_at")[:20]
    )
    by_stay: dict[int, int] = defaultdict(int)
    for alert in open_alerts:
        if "stay" in alert.facts:
            by_stay[alert.facts["stay"]] += 1
    presences = list(
        Presence.objects.filter(zone__center=center, left_at__isnull=True).select_related(
            "stay__party__person", "stay__case"
        )
    )
    clocks = _measure_clocks({p.stay.measure_id for p in presences if p.stay_id})
    for p in presences:
        view = views[p.zone_id]
        if p.stay_id is None:
            view.staff += 1
            continue
        stay = p.stay
        name = stay.party.person.name
        named = sees_names(user, stay)
        view.people.append(
            Person(
                stay=stay,
                name=name if named else law.mask_name(name),
                since=p.entered_at,
                minutes_in_area=int((now - stay.entered_at).total_seconds() // 60),
                alerts=by_stay.get(stay.pk, 0),
                clock=clocks.get(stay.measure_id),
                named=named,
            )
        )
    in_area = Stay.objects.filter(center=center, exited_at__isnull=True).count()
    found = CenterMap(
        center=center,
        zones=list(views.values()),
        alerts=open_alerts,
        width=max([z.x + z.w for z in zones] or [100]),
        height=max([z.y + z.h for z in zones] or [60]),
        in_area=in_area,
    )
    if audit:
        audit_map(user, found)
    return found


def shown_on(view: CenterMap) -> tuple[list[int], list[int]]:
    """The stays a map shows, and those of them shown by name (ids, sorted)."""
    people = [p for z in view.zones for p in z.people]
    return sorted(p.stay.pk for p in people), sorted(p.stay.pk for p in people if p.named)


def audit_map(user: User, view: CenterMap) -> None:
    """One audit entry for one read of the people in the area: the stays shown
    and those shown by name."""
    stays, named = shown_on(view)
    with transaction.atomic():
        record(
            user,
            "custody.map_viewed",
            view.center,
            data={"in_area": view.in_area, "stays": stays, "named": named},
        )


#: The clocks that bound a person's time in the area: the summons' duration, the
#: detained or arrested person's delivery to the detention house.
AREA_CLOCKS = ("summons.criminal", "summons.admin", "detention.to_house", "arrest.interrogate")


def _measure_clocks(measures: set[int | None]) -> dict[int, Deadline]:
    """Each measure's open area clock (one query for the whole map)."""
    nearest: dict[int, Deadline] = {}
    rows = Deadline.objects.filter(
        measure_id__in=[m for m in measures if m], rule_id__in=AREA_CLOCKS, closed_at__isnull=True
    ).select_related("rule")
    for deadline in rows.order_by("due_at"):
        nearest.setdefault(deadline.measure_id, deadline)
    return nearest


def stays_in_area(user: User, center: Organisation) -> list[Stay]:
    return list(
        Stay.objects.filter(center=center, exited_at__isnull=True)
        .select_related("party__person", "case", "wristband", "measure")
        .order_by("entered_at")
    )


@dataclass
class PathStep:
    presence: Presence
    segments: list[Recording]
    covered: bool


def get_stay(user: User, pk: int) -> Stay:
    stay = (
        Stay.objects.filter(pk=pk, center__in=centers_for(user))
        .select_related("party__person", "case", "center", "wristband", "measure")
        .first()
    )
    if stay is None or not sees_names(user, stay):
        raise NotFound("stay.not_found", "没有该入区记录。", "No such stay.")
    with transaction.atomic():
        record(user, "custody.stay_read", stay, data={"case_id": stay.case_id})
    return stay


def stay_path(stay: Stay) -> list[PathStep]:
    """The stay's zones in order, each beside the recording segments of that zone
    that overlap it; ``covered`` when confirmed segments cover the whole visit."""
    steps = []
    for p in Presence.objects.filter(stay=stay).select_related("zone").order_by("entered_at"):
        end = p.left_at or timezone.now()
        began = Q(started_at__lte=end) | Q(started_at__isnull=True, asked_at__lte=end)
        segments = list(
            Recording.objects.filter(began, zone=p.zone)
            .filter(Q(stopped_at__isnull=True) | Q(stopped_at__gte=p.entered_at))
            .select_related("camera")
            .order_by("asked_at")
        )
        confirmed = [s for s in segments if s.started_at]
        covered = any(
            s.started_at <= p.entered_at + grace() and (s.stopped_at is None or s.stopped_at >= end)
            for s in confirmed
        )
        steps.append(PathStep(p, segments, covered or not p.zone.cameras.exists()))
    return steps
