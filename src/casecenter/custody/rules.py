"""The custody area's live rules (F3.3–F3.5): episodes from device-time facts, alerts
reconciled with them.

Each rule asks a question of the stored facts — presences, recording segments,
readings, strap reports — in *device time* (``custody.episodes``) and gets its
episodes: when, for whom, the rule was broken. The alerts are then made to
agree with the episodes:

- an episode that has lasted past the rule's grace is alerted once (its alert's
  key names the rule, the subject and the episode's start, so facts that arrive
  late, twice or out of order never raise it again);
- an episode still within its grace sets a timer (``supervision.timers``) to look
  again when the grace ends;
- an episode that ends while its alert is open resolves the alert, where the
  rule allows it (the person left the room, the camera confirmed, the second
  officer came in, the co-suspects are apart), with the reason on record;
- an open alert whose episode the facts no longer show (late events proved it
  never happened) is resolved as such.

The rules and who hears them (docs/custody.md): ``custody.recording``,
``custody.two_officers``, ``custody.separation``, ``custody.juvenile_room``,
``custody.vitals``, ``custody.strap``, ``custody.lawyer_audio``. Every alert is
filed under the center where the person is, names the person (masked), the zone
and what to do, and opens the person's stay.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from casecenter import law
from casecenter.cases.models import Assignment, AssignmentRole
from casecenter.custody.episodes import (
    Interval,
    alertable,
    crowded,
    key_time,
    runs,
    thin,
    uncovered,
    union,
)
from casecenter.custody.models import (
    INTERROGATION_ZONES,
    Camera,
    DeviceEvent,
    Presence,
    Recording,
    Stay,
    Vital,
    Zone,
    ZoneKind,
)
from casecenter.supervision import services as clocks
from casecenter.supervision import timers
from casecenter.supervision.models import Alert, AlertState, Deadline, Rule

RECORDING = "custody.recording"
TWO_OFFICERS = "custody.two_officers"
SEPARATION = "custody.separation"
JUVENILE = "custody.juvenile_room"
VITALS = "custody.vitals"
STRAP = "custody.strap"
LAWYER_AUDIO = "custody.lawyer_audio"

#: a person in an interrogation room with fewer than two of the case's officers
TWO_OFFICERS_GRACE = timedelta(seconds=60)

#: metric → (label zh, label en, unit, low param, high param)
METRICS = {
    "heart_rate": ("心率", "Heart rate", "次/分", "bpm", "hr_min", "hr_max"),
    "systolic": ("收缩压", "Systolic pressure", "mmHg", "mmHg", "sys_min", "sys_max"),
    "diastolic": ("舒张压", "Diastolic pressure", "mmHg", "mmHg", "dia_min", "dia_max"),
    "spo2": ("血氧饱和度", "SpO2", "%", "%", "spo2_min", None),
}


def recording_grace() -> timedelta:
    return timedelta(seconds=getattr(settings, "CASECENTER_RECORDING_GRACE_SECONDS", 5))


#: the rules read once per look (``one_look``): a batch asks for each several times
_catalogue: ContextVar[dict[str, Rule | None] | None] = ContextVar("custody_rules", default=None)


@contextmanager
def one_look() -> Iterator[None]:
    """Within it the rules' catalogue is read once (the rules looking at one batch)."""
    token = _catalogue.set({})
    try:
        yield
    finally:
        _catalogue.reset(token)


def _rule(code: str) -> Rule | None:
    cache = _catalogue.get()
    if cache is not None and code in cache:
        return cache[code]
    rule = Rule.objects.filter(code=code, enabled=True).first()
    if cache is not None:
        cache[code] = rule
    return rule


def clock(at: datetime) -> str:
    """A moment as the desk reads it: local time to the second."""
    return timezone.localtime(at).strftime("%H:%M:%S")


def _moment(at: datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S")


def who(stay: Stay) -> tuple[str, str]:
    """The person as alerts name them (masked; the stay's page shows the name to
    those who may read it) with their wristband."""
    name = law.mask_name(stay.party.person.name)
    band = stay.wristband.code if stay.wristband_id else ""
    return (f"{name}（手环{band}）", f"{name} (wristband {band})") if band else (name, name)


def _place(zone: Zone) -> tuple[str, str]:
    """A zone's name in Chinese and in English (the Chinese one where it has none)."""
    return zone.name, zone.name_en or zone.name


def _person_line(stay: Stay) -> tuple[str, str, str, str]:
    """The facts line naming the person (label zh, label en, value zh, value en)."""
    return ("人员", "Person", *who(stay))


def _zone_line(place: tuple[str, str]) -> tuple[str, str, str, str]:
    return ("房间", "Zone", *place)


def _todo(zh: str, en: str) -> tuple[str, str, str, str]:
    """The facts line that says what to do."""
    return ("应对", "What to do", zh, en)


# --- alerts agreed with episodes ------------------------------------------------------


@dataclass
class Episode:
    """One episode of a rule for one stay, ready to be alerted."""

    key: str
    interval: Interval
    title: tuple[str, str]
    text: tuple[str, str]
    lines: list[tuple[str, str, str, str]] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    grace: timedelta = timedelta(0)
    #: the rule's alert closes itself when the episode ends (and says why)
    ended: tuple[str, str] | None = None
    now: bool = False  # alert at once whatever the grace (a camera said it fails)


#: the resolution of an alert whose episode late facts disproved
DISPROVED = ("迟到的设备事件表明该情况未发生", "late device events show this did not happen")


def _raise(rule: Rule, stay: Stay, episode: Episode, at: datetime) -> None:
    interval = episode.interval
    earlier = Alert.objects.filter(key=episode.key).first()
    if earlier is not None:
        # the episode ended, or more is known of it (a camera's fault): said so
        facts = {
            **(earlier.facts or {}),
            **episode.facts,
            "end": interval.end.isoformat() if interval.end else None,
            "lines": [list(line) for line in episode.lines],
        }
        clocks.restate_alert(
            earlier, explanation_zh=episode.text[0], explanation_en=episode.text[1], facts=facts
        )
        if facts.get("disproved") and earlier.state == AlertState.RESOLVED:
            # disproved by facts that later facts contradict again: it stands after all
            clocks.reopen_alert(
                earlier,
                zh="后到的设备事件再次表明该情况",
                en="later device events show it again",
                at=at,
            )
        return
    clocks.raise_alert(
        key=episode.key,
        rule=rule,
        kind="event",
        case=stay.case,
        organisation_id=stay.center_id,
        subject=f"stay:{stay.pk}",
        title_zh=f"{episode.title[0]}：{who(stay)[0]}",
        title_en=f"{episode.title[1]}: {who(stay)[1]}",
        explanation_zh=episode.text[0],
        explanation_en=episode.text[1],
        facts={
            **episode.facts,
            "stay": stay.pk,
            "start": interval.start.isoformat(),
            "end": interval.end.isoformat() if interval.end else None,
            # learnt of only once it was over: left open for someone to review
            "learnt_after": interval.end is not None,
            "lines": [list(line) for line in episode.lines],
        },
        at=at,
    )


def agree(
    code: str,
    stay: Stay,
    episodes: Sequence[Episode],
    *,
    since: datetime,
    now: datetime,
    owned: Q | None = None,
    keys: set[str] | None = None,
    known: Known | None = None,
) -> None:
    """Make the alerts of rule ``code`` about ``stay`` agree with ``episodes`` (the
    episodes of the facts from ``since`` on; see the module doc). ``owned`` picks
    the alerts these episodes answer for (default: the rule's alerts of the stay);
    ``keys``, every episode the facts still show (default: ``episodes``'); ``known``,
    the stay's open alerts and running timers when the caller read them already."""
    rule = _rule(code)
    if rule is None:
        return
    keys = set(keys) if keys is not None else {e.key for e in episodes}
    pending: list[datetime] = []
    for episode in episodes:
        if episode.now or alertable(episode.interval, episode.grace, now):
            _raise(rule, stay, episode, now)
            if episode.interval.end is not None and episode.ended:
                _resolve(episode.key, episode.ended, episode.interval.end)
        elif episode.interval.end is None:
            pending.append(episode.interval.start + episode.grace)
        else:  # over within its grace: no episode after all (an alert of it is taken back)
            keys.discard(episode.key)
    if known is not None:
        standing: Iterable[Alert] = known.alerts.get(code, [])
    else:
        standing = Alert.objects.filter(owned or Q(subject=f"stay:{stay.pk}"), rule_id=code).filter(
            NOT_CLOSED_BY_A_PERSON
        )
    for alert in standing:
        episode = _episode_of(alert)
        if alert.key in keys or episode is None or not episode.overlaps(since):
            continue
        if not (alert.facts or {}).get("disproved"):
            clocks.disprove_alert(alert, zh=DISPROVED[0], en=DISPROVED[1], at=now)
    if timers.is_timer(code) and pending:
        timers.wake_at(
            code,
            stay.case,
            subject=f"stay:{stay.pk}",
            organisation=stay.center,
            at=min(pending) if pending else None,
            since=since,
        )


#: the alerts the facts may still take back: open, acknowledged, or closed by the
#: system (an episode that "ended" may turn out never to have happened); one a
#: person resolved keeps what they wrote
NOT_CLOSED_BY_A_PERSON = ~Q(state=AlertState.RESOLVED, resolved_by__isnull=False)


def _episode_of(alert: Alert) -> Interval | None:
    """The episode an alert was raised for, as its facts say (None for an alert
    raised before episodes were kept: it is never taken back)."""
    facts = alert.facts or {}
    try:
        start = datetime.fromisoformat(facts["start"])
        end = datetime.fromisoformat(facts["end"]) if facts.get("end") else None
    except (KeyError, TypeError, ValueError):
        return None
    return Interval(start, end)


def _resolve(key: str, why: tuple[str, str], at: datetime) -> None:
    """Close an open alert whose episode ended at ``at`` — one raised while it was
    going on: an episode learnt of only after it ended stays open for review."""
    alert = Alert.objects.filter(key=key).exclude(state=AlertState.RESOLVED).first()
    if alert is None or (alert.facts or {}).get("learnt_after"):
        return
    clocks.resolve_automatically(
        [alert], zh=f"{why[0]}（{clock(at)}）", en=f"{why[1]} ({clock(at)})"
    )


# --- presence rules: recording, two officers, minors ----------------------------------


def _span(presence: Presence) -> Interval:
    return Interval(presence.entered_at, presence.left_at)


def _presences(stay: Stay, since: datetime) -> list[Presence]:
    return list(
        Presence.objects.filter(stay=stay)
        .filter(Q(left_at__isnull=True) | Q(left_at__gte=since))
        .select_related("zone")
        .prefetch_related("zone__cameras")
        .order_by("entered_at", "enter_seq")
    )


@dataclass
class Known:
    """The alerts a stay's rules have raised already (read once for all its rules)."""

    alerts: dict[str, list[Alert]]

    @classmethod
    def of(cls, stay: Stay) -> Known:
        alerts: dict[str, list[Alert]] = defaultdict(list)
        for alert in Alert.objects.filter(NOT_CLOSED_BY_A_PERSON, subject=f"stay:{stay.pk}"):
            alerts[alert.rule_id].append(alert)
        return cls(alerts)

    def has(self, code: str) -> bool:
        return bool(self.alerts.get(code))


def check_stay(stay: Stay, since: datetime, now: datetime | None = None) -> None:
    """The presence rules of one stay over its facts from ``since`` on (each rule
    skipped when there is nothing for it to look at)."""
    now = now or timezone.now()
    presences = _presences(stay, since)
    known = Known.of(stay)
    check_recording(stay, since, now, presences, known)
    if known.has(TWO_OFFICERS) or any(p.zone.kind in INTERROGATION_ZONES for p in presences):
        check_two_officers(stay, since, now, presences, known)
    if stay.party.minor_at_act:
        check_juvenile(stay, since, now, presences, known)


def _segments(zone: Zone, span: Interval) -> dict[Camera, list[Interval]]:
    """Each camera of ``zone`` with its confirmed recording segments over ``span``."""
    cameras = {c.pk: c for c in zone.cameras.all()}
    by_camera: dict[Camera, list[Interval]] = {c: [] for c in cameras.values()}
    rows = Recording.objects.filter(zone=zone, started_at__isnull=False).filter(
        Q(stopped_at__isnull=True) | Q(stopped_at__gt=span.start)
    )
    if span.end is not None:
        rows = rows.filter(started_at__lt=span.end)
    for start, stop, camera_id in rows.values_list("started_at", "stopped_at", "camera_id"):
        if camera_id in cameras:
            by_camera[cameras[camera_id]].append(Interval(start, stop))
    return by_camera


def check_recording(
    stay: Stay,
    since: datetime,
    now: datetime,
    presences: Sequence[Presence],
    known: Known | None = None,
) -> None:
    """``custody.recording`` (F3.3): every moment of a tracked person in a zone with
    cameras is covered by a confirmed recording of *each* of its cameras. A gap
    longer than the grace is an episode; a camera that said it does not record
    (or reported a fault) makes it one at once."""
    grace = recording_grace()
    episodes = []
    for presence in presences:
        zone = presence.zone
        by_camera = _segments(zone, _span(presence))
        if not by_camera:
            continue
        for gap in uncovered(_span(presence), list(by_camera.values())):
            # the cameras to blame: those that failed, or left it uncovered past the grace
            failed = [c for c in by_camera if c.wanted and c.fault]
            missing = [
                c
                for c, segments in by_camera.items()
                if c in failed
                or any(alertable(part, grace, now) for part in uncovered(gap, [segments]))
            ] or list(by_camera)
            episodes.append(_recording_episode(stay, zone, gap, missing, failed, grace))
    agree(RECORDING, stay, episodes, since=since, now=now, known=known)


def _recording_episode(stay, zone, gap, missing, failed, grace) -> Episode:
    cams = "、".join(c.code for c in missing)
    cams_en = ", ".join(c.code for c in missing)
    faults = "；".join(f"{c.code}报告故障{c.fault}" for c in failed)
    faults_en = "; ".join(f"{c.code} reports fault {c.fault}" for c in failed)
    place = _place(zone)
    return Episode(
        key=f"recording:{stay.pk}:{zone.pk}:{key_time(gap.start)}",
        interval=gap,
        title=(f"录像未确认 · {zone.name}", f"Recording not confirmed · {place[1]}"),
        text=(
            f"{clock(gap.start)}起，{who(stay)[0]}所在的{zone.name}没有摄像机{cams}确认的录像"
            f"{'（' + faults + '）' if faults else ''}。请立即检查摄像机；无法恢复时，将人员带到"
            f"录像正常的房间。",
            f"Since {clock(gap.start)}, no confirmed recording from camera {cams_en} covers "
            f"{who(stay)[1]} in {place[1]}{' (' + faults_en + ')' if faults_en else ''}. Check the "
            f"camera now; if it cannot record, take the person to a room whose recording works.",
        ),
        lines=[
            _person_line(stay),
            _zone_line(place),
            ("未录像起始", "Not recorded since", _moment(gap.start), _moment(gap.start)),
            (
                "摄像机",
                "Cameras",
                "、".join(
                    f"{c.code}（故障 {c.fault}）" if c in failed else c.code for c in missing
                ),
                ", ".join(
                    f"{c.code} (fault {c.fault})" if c in failed else c.code for c in missing
                ),
            ),
            _todo("检查摄像机，必要时转移人员", "Check the camera; move the person if needed"),
        ],
        facts={"zone": zone.code, "cameras": [c.code for c in missing]},
        grace=grace,
        ended=("录像已确认或人员已离开", "recording confirmed or the person left"),
        now=bool(failed) and gap.end is None,
    )


def _officer_spans(stay: Stay, zone: Zone, span: Interval) -> dict[int, list[Interval]]:
    """The case's own officers (lead, assisting) in ``zone`` over ``span``, by badge."""
    officers = set(
        Assignment.objects.filter(
            case_id=stay.case_id,
            ended_at__isnull=True,
            role__in=[AssignmentRole.LEAD, AssignmentRole.ASSISTING],
        ).values_list("user_id", flat=True)
    )
    rows = Presence.objects.filter(
        zone=zone, badge__user_id__in=officers, badge__isnull=False
    ).filter(Q(left_at__isnull=True) | Q(left_at__gt=span.start))
    if span.end is not None:
        rows = rows.filter(entered_at__lt=span.end)
    spans: dict[int, list[Interval]] = defaultdict(list)
    for user_id, start, end in rows.values_list("badge__user_id", "entered_at", "left_at"):
        spans[user_id].append(Interval(start, end))
    return spans


def check_two_officers(
    stay: Stay,
    since: datetime,
    now: datetime,
    presences: Sequence[Presence],
    known: Known | None = None,
) -> None:
    """``custody.two_officers`` (CPL Art. 118): a person in custody in an
    interrogation room with fewer than two of the case's own officers (lead or
    assisting, by their badges) for longer than a minute. A colleague walking in
    does not make the second officer."""
    episodes = []
    for presence in presences:
        zone = presence.zone
        if zone.kind not in INTERROGATION_ZONES:
            continue
        spans = _officer_spans(stay, zone, _span(presence))
        per_officer = [iv for ivs in spans.values() for iv in union(ivs)]
        for gap in thin(_span(presence), per_officer, 2):
            present = len(
                [1 for ivs in spans.values() if any(_during(iv, gap.start) for iv in ivs)]
            )
            place = _place(zone)
            episodes.append(
                Episode(
                    key=f"two:{stay.pk}:{zone.pk}:{key_time(gap.start)}",
                    interval=gap,
                    title=(f"{zone.name}内民警不足两名", f"Fewer than two officers in {place[1]}"),
                    text=(
                        f"{clock(gap.start)}起，{who(stay)[0]}在{zone.name}，本案办案民警在场"
                        f"{present}名，少于两名（《刑事诉讼法》第118条）。请第二名办案民警立即进入，"
                        f"或暂停讯问并将人员带离。",
                        f"Since {clock(gap.start)}, {who(stay)[1]} has been in {place[1]} with "
                        f"{present} of the case's officers present, fewer than two (CPL Art. "
                        f"118). A second officer of the case goes in now, or the questioning "
                        f"stops and the person is taken out.",
                    ),
                    lines=[
                        _person_line(stay),
                        _zone_line(place),
                        ("自", "Since", _moment(gap.start), _moment(gap.start)),
                        ("在场办案民警", "Case officers present", str(present), str(present)),
                        _todo(
                            "第二名办案民警进入或暂停讯问",
                            "A second officer goes in, or stop the questioning",
                        ),
                    ],
                    facts={"zone": zone.code, "officers": present},
                    grace=TWO_OFFICERS_GRACE,
                    ended=(
                        "两名办案民警已在场或人员已离开",
                        "two officers present or the person left",
                    ),
                )
            )
    agree(TWO_OFFICERS, stay, episodes, since=since, now=now, known=known)


def _during(iv: Interval, at: datetime) -> bool:
    return iv.start <= at and (iv.end is None or at < iv.end)


def check_juvenile(
    stay: Stay,
    since: datetime,
    now: datetime,
    presences: Sequence[Presence],
    known: Known | None = None,
) -> None:
    """``custody.juvenile_room``: a minor (at the time of the act) in an adult
    interrogation room; minors are questioned in the juvenile room."""
    if not stay.party.minor_at_act:
        return
    episodes = []
    for presence in presences:
        zone = presence.zone
        if zone.kind != ZoneKind.INTERROGATION:
            continue
        place = _place(zone)
        episodes.append(
            Episode(
                key=f"juvenile:{stay.pk}:{zone.pk}:{key_time(presence.entered_at)}",
                interval=_span(presence),
                title=(f"未成年人在成年人讯问室{zone.name}", f"A minor in {place[1]}"),
                text=(
                    f"{clock(presence.entered_at)}，未成年人{who(stay)[0]}被带入成年人讯问室"
                    f"{zone.name}。未成年人应在未成年人询问室接受询问，并有监护人或合适成年人在场。"
                    f"请立即将其带到未成年人询问室。",
                    f"At {clock(presence.entered_at)} the minor {who(stay)[1]} was taken into the "
                    f"adult interrogation room {place[1]}. Minors are questioned in the juvenile "
                    f"room with a guardian or appropriate adult: take them there now.",
                ),
                lines=[
                    _person_line(stay),
                    _zone_line(place),
                    (
                        "进入时间",
                        "Entered",
                        _moment(presence.entered_at),
                        _moment(presence.entered_at),
                    ),
                    _todo("带到未成年人询问室", "Take them to the juvenile room"),
                ],
                facts={"zone": zone.code},
                ended=("已离开成年人讯问室", "left the adult interrogation room"),
            )
        )
    agree(JUVENILE, stay, episodes, since=since, now=now, known=known)


# --- co-suspects held apart -----------------------------------------------------------


def check_separation(zone: Zone, since: datetime, now: datetime | None = None) -> None:
    """``custody.separation``: two or more people in custody of one case in one
    waiting room at once (by device time)."""
    if zone.kind != ZoneKind.WAITING:
        return
    now = now or timezone.now()
    presences = list(
        Presence.objects.filter(zone=zone, stay__isnull=False)
        .filter(Q(left_at__isnull=True) | Q(left_at__gte=since))
        .select_related("stay__party__person", "stay__case", "stay__center", "stay__wristband")
    )
    by_case: dict[int, list[Presence]] = defaultdict(list)
    for p in presences:
        by_case[p.stay.case_id].append(p)
    for case_id in {p.stay.case_id for p in presences}:
        together = by_case[case_id]
        episodes_by_stay: dict[int, list[Episode]] = defaultdict(list)
        stays: dict[int, Stay] = {p.stay_id: p.stay for p in together}
        for episode in crowded([_span(p) for p in together], 2):
            joined = [p for p in together if _during(_span(p), episode.start)]
            joiner = max(joined, key=lambda p: (p.entered_at, p.stay_id))
            names = "、".join(who(p.stay)[0] for p in sorted(joined, key=lambda p: p.stay_id))
            names_en = ", ".join(who(p.stay)[1] for p in sorted(joined, key=lambda p: p.stay_id))
            place = _place(zone)
            episodes_by_stay[joiner.stay_id].append(
                Episode(
                    key=f"separation:{zone.pk}:{case_id}:{key_time(episode.start)}",
                    interval=episode,
                    title=(f"同案人员同在{zone.name}", f"Co-suspects together in {place[1]}"),
                    text=(
                        f"{clock(episode.start)}起，同案{len(joined)}名人员（{names}）同在"
                        f"{zone.name}。同案人员应分开看管：请立即将其中一人带到其他候问室。",
                        f"Since {clock(episode.start)}, {len(joined)} people of one case "
                        f"({names_en}) are together in {place[1]}. People of one case are held "
                        f"apart: take one of them to another waiting room now.",
                    ),
                    lines=[
                        ("人员", "People", names, names_en),
                        _zone_line(place),
                        ("自", "Since", _moment(episode.start), _moment(episode.start)),
                        _todo("分开看管", "Hold them apart"),
                    ],
                    facts={
                        "zone": zone.code,
                        "case_id": case_id,
                        "stays": sorted(p.stay_id for p in joined),
                    },
                    ended=("已分开看管", "held apart now"),
                )
            )
        every = {e.key for found in episodes_by_stay.values() for e in found}
        for stay_id, stay in stays.items():
            agree(
                SEPARATION,
                stay,
                episodes_by_stay.get(stay_id, []),
                since=since,
                now=now,
                owned=Q(subject=f"stay:{stay_id}", facts__zone=zone.code),
                keys=every,
            )


# --- vital signs, the strap ------------------------------------------------------------


def out_of_range(params: Mapping, reading: Vital) -> list[tuple[str, int, str]]:
    """The metrics of ``reading`` outside ``params``: (metric, value, "low"|"high")."""
    found = []
    for metric, (*_, low, high) in METRICS.items():
        value = getattr(reading, metric)
        if value is None:
            continue
        if low and low in params and value < params[low]:
            found.append((metric, value, "low"))
        elif high and high in params and value > params[high]:
            found.append((metric, value, "high"))
    return found


def check_vitals(stay: Stay, since: datetime, now: datetime | None = None) -> None:
    """``custody.vitals`` (F3.4): a run of readings on one side of one threshold
    (heart rate above 120 …) is one episode, alerted at once to the medical desk
    (and the center's desk and commander). A reading back in range ends the run: a
    later excursion, or one on the other side, is a new alert even while the first
    is acknowledged. A medic closes these alerts, not the next reading."""
    rule = _rule(VITALS)
    if rule is None:
        return
    now = now or timezone.now()
    params = rule.params or {}
    readings = _vitals_around(stay, since, params)
    episodes = []
    for metric, side, limit in _sides(params):
        zh, en, unit_zh, unit_en, *_ = METRICS[metric]
        series = [
            (r.at, _bad(v, side, limit)) for r in readings if (v := getattr(r, metric)) is not None
        ]
        for run in runs(series):
            first = next(
                r for r in readings if r.at == run.start and getattr(r, metric) is not None
            )
            value = getattr(first, metric)
            word = ("低于", "below") if side == "low" else ("高于", "above")
            episodes.append(
                Episode(
                    key=f"vitals:{stay.pk}:{metric}:{side}:{key_time(run.start)}",
                    interval=run,
                    title=(
                        f"{zh}{'过低' if side == 'low' else '过高'}",
                        f"{en} {'low' if side == 'low' else 'high'}",
                    ),
                    text=(
                        f"{clock(run.start)} {zh} {value} {unit_zh}，{word[0]} {limit}。"
                        f"请医疗人员立即查看{who(stay)[0]}。",
                        f"{clock(run.start)} {en} {value} {unit_en}, {word[1]} {limit}. "
                        f"Medical staff: see {who(stay)[1]} now.",
                    ),
                    lines=[
                        _person_line(stay),
                        (
                            "读数",
                            "Reading",
                            f"{zh} {value} {unit_zh}，{word[0]} {limit}",
                            f"{en} {value} {unit_en}, {word[1]} {limit}",
                        ),
                        ("时间", "At", _moment(run.start), _moment(run.start)),
                        _todo("医疗人员立即查看", "Medical staff see the person now"),
                    ],
                    facts={"metric": metric, "side": side, "value": value, "limit": limit},
                )
            )
    agree(VITALS, stay, episodes, since=since, now=now)


def _sides(params: Mapping) -> list[tuple[str, str, int]]:
    """(metric, "low"|"high", limit) of every threshold the rule has."""
    return [
        (metric, side, params[name])
        for metric, (*_, low, high) in METRICS.items()
        for side, name in (("low", low), ("high", high))
        if name and name in params
    ]


def _bad(value: int, side: str, limit: int) -> bool:
    return value < limit if side == "low" else value > limit


def _vitals_around(stay: Stay, since: datetime, params: Mapping) -> list[Vital]:
    """The readings that decide the episodes from ``since`` on: from the last reading
    before it that is in range on every side of every threshold (no episode runs
    across it) — looked for backwards, a few readings as a rule — to the newest."""
    todo = set(_sides(params))
    start = None
    for reading in stay.vitals.filter(at__lt=since).order_by("-at", "-id").iterator(100):
        for metric, side, limit in list(todo):
            value = getattr(reading, metric)
            if value is not None and not _bad(value, side, limit):
                todo.discard((metric, side, limit))
        if not todo:
            start = reading.at
            break
    rows = stay.vitals.all() if start is None else stay.vitals.filter(at__gte=start)
    return list(rows.order_by("at", "id"))


def check_strap(stay: Stay, since: datetime, now: datetime | None = None) -> None:
    """``custody.strap``: the wristband's strap reported open; one episode until it
    is reported closed again. Someone checks the person: the alert stays open."""
    if not stay.wristband_id:
        return
    now = now or timezone.now()
    rows = DeviceEvent.objects.filter(
        device=stay.wristband.code, kind="status", device_time__gte=stay.entered_at
    )
    if stay.exited_at:
        rows = rows.filter(device_time__lte=stay.exited_at)
    series = [
        (at, payload["strap"] == "removed")
        for at, payload in rows.values_list("device_time", "payload")
        if isinstance(payload, dict) and "strap" in payload
    ]
    episodes = []
    band = stay.wristband.code
    for run in runs(series):
        episodes.append(
            Episode(
                key=f"strap:{stay.pk}:{key_time(run.start)}",
                interval=run,
                title=("手环腕带被打开", "Wristband strap opened"),
                text=(
                    f"{clock(run.start)} {who(stay)[0]}的手环{band}腕带被打开或摘除。"
                    f"请立即查看人员并重新佩戴手环。",
                    f"At {clock(run.start)} the strap of wristband {band} worn by "
                    f"{who(stay)[1]} was opened or removed. See the person now and put the "
                    f"wristband back on.",
                ),
                lines=[
                    _person_line(stay),
                    ("时间", "At", _moment(run.start), _moment(run.start)),
                    _todo("查看人员，重新佩戴手环", "See the person; refit the wristband"),
                ],
                facts={"device": band},
            )
        )
    agree(STRAP, stay, episodes, since=since, now=now)


def lawyer_audio(camera: Camera, at: datetime, seq: int) -> None:
    """A camera in a lawyer's meeting room says it records sound: never lawful
    (CPL Art. 39). One alert per run of such reports of that camera."""
    rule = _rule(LAWYER_AUDIO)
    if rule is None:
        return
    present = (
        Presence.objects.filter(zone=camera.zone, left_at__isnull=True, stay__isnull=False)
        .select_related("stay__case", "stay__party__person", "stay__wristband")
        .first()
    )
    stay = present.stay if present else None
    # the run of reports with sound this one belongs to starts at its first
    start = at
    earlier = (
        DeviceEvent.objects.filter(device=camera.code, kind="status", device_time__lt=at)
        .order_by("-device_time", "-seq")
        .values_list("device_time", "payload")[:1000]
    )
    for event_at, payload in earlier:
        if not (isinstance(payload, dict) and payload.get("recording") and payload.get("audio")):
            break
        start = event_at
    place = _place(camera.zone)
    clocks.raise_alert(
        key=f"lawyer-audio:{camera.code}:{key_time(start)}",
        rule=rule,
        kind="event",
        case=stay.case if stay else None,
        organisation_id=camera.zone.center_id,
        subject=f"stay:{stay.pk}" if stay else "",
        title_zh=f"律师会见室录音 · {camera.code}",
        title_en=f"Sound recorded in {place[1]} · {camera.code}",
        explanation_zh=(
            f"{clock(start)} {place[0]}摄像机{camera.code}报告正在录音；律师会见不得被监听"
            f"（《刑事诉讼法》第39条）。请立即停止录音并检修摄像机。"
        ),
        explanation_en=(
            f"At {clock(start)} camera {camera.code} in {place[1]} reports recording sound; a "
            f"lawyer's meeting is never listened to (CPL Art. 39). Stop it and have the camera "
            f"checked now."
        ),
        facts={
            "camera": camera.code,
            "zone": camera.zone.code,
            "start": start.isoformat(),
            "end": None,
            "lines": [
                list(_zone_line(place)),
                ["摄像机", "Camera", camera.code, camera.code],
                ["时间", "At", _moment(start), _moment(start)],
                list(_todo("停止录音，检修摄像机", "Stop the sound; have the camera checked")),
            ],
        },
    )


# --- the timers' handlers -------------------------------------------------------------


#: the live rules that set timers, and what each checks when its timer comes due
#: (``CustodyConfig.ready`` registers them with ``supervision.timers``)
TIMER_CHECKS = {RECORDING: check_recording, TWO_OFFICERS: check_two_officers}


def timer_came_due(deadline: Deadline, now: datetime) -> None:
    """A live rule's timer came due: the rule looks at the stay again."""
    kind, _, ident = deadline.subject.partition(":")
    stay = (
        Stay.objects.filter(pk=int(ident) if ident.isdigit() else 0)
        .select_related("case", "party__person", "center", "wristband")
        .first()
    )
    if kind == "stay" and stay is not None:
        check = TIMER_CHECKS[deadline.rule_id]
        check(stay, deadline.trigger_at, now, _presences(stay, deadline.trigger_at))


def stays_in(zones: Iterable[int], since: datetime) -> list[Stay]:
    """The stays present (by device time) in ``zones`` from ``since`` on."""
    ids = (
        Presence.objects.filter(zone_id__in=list(zones), stay__isnull=False)
        .filter(Q(left_at__isnull=True) | Q(left_at__gte=since))
        .values_list("stay_id", flat=True)
        .distinct()
    )
    return list(
        Stay.objects.filter(pk__in=list(ids)).select_related(
            "case", "party__person", "center", "wristband"
        )
    )
