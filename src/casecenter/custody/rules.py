"""The custody area's live rules (F3.4, F3.5), checked as presence and readings arrive.

- ``custody.vitals``: a reading outside the thresholds (the rule's ``params``,
  tuned by an administrator on /rules/) alerts the center's medical desk at
  once; unacknowledged, it escalates after the rule's ``escalate_after``.
- ``custody.strap``: a wristband's strap opened during a stay.
- ``custody.separation``: two people in custody of one case in one waiting room.
- ``custody.juvenile_room``: a minor (at the time of the act) in an adult
  interrogation room.
- ``custody.lawyer_audio``: a camera of a lawyer's meeting room reports that it
  records sound (CPL Art. 39: the meeting is not listened to).
- ``custody.two_officers``: a person in custody in an interrogation room with
  fewer than two badges of the case's own officers present, past a short grace.

Each alert is raised once per situation (its key names the situation).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.utils import timezone

from casecenter.cases.models import Assignment, AssignmentRole
from casecenter.custody.models import (
    INTERROGATION_ZONES,
    Device,
    Presence,
    Stay,
    Vital,
    Zone,
    ZoneKind,
)
from casecenter.supervision import services as clocks
from casecenter.supervision.models import Alert, AlertState, Rule

TWO_OFFICERS_GRACE = timedelta(seconds=60)

#: metric → (label zh, label en, unit, low param, high param)
METRICS = {
    "heart_rate": ("心率", "heart rate", "bpm", "hr_min", "hr_max"),
    "systolic": ("收缩压", "systolic pressure", "mmHg", "sys_min", "sys_max"),
    "diastolic": ("舒张压", "diastolic pressure", "mmHg", "dia_min", "dia_max"),
    "spo2": ("血氧饱和度", "SpO2", "%", "spo2_min", None),
}


def _rule(code: str) -> Rule | None:
    rule = Rule.objects.filter(code=code, enabled=True).first()
    return rule


def _alert(code: str, key: str, stay: Stay, zh: str, en: str, facts: dict, at=None) -> None:
    rule = _rule(code)
    if rule is None:
        return
    clocks.raise_alert(
        key=key,
        rule=rule,
        kind="breach",
        case=stay.case,
        organisation_id=stay.center_id,
        title_zh=rule.name_zh,
        title_en=rule.name_en,
        explanation_zh=zh,
        explanation_en=en,
        facts={"stay": stay.pk, **facts},
        at=at,
    )


def out_of_range(params: dict, reading: Vital) -> list[tuple[str, int, str]]:
    """The metrics of ``reading`` outside ``params``: (metric, value, "low"|"high")."""
    found = []
    for metric, (_, _, _, low, high) in METRICS.items():
        value = getattr(reading, metric)
        if value is None:
            continue
        if low and low in params and value < params[low]:
            found.append((metric, value, "low"))
        elif high and high in params and value > params[high]:
            found.append((metric, value, "high"))
    return found


def check_vitals(stay: Stay, reading: Vital) -> None:
    rule = _rule("custody.vitals")
    if rule is None:
        return
    for metric, value, side in out_of_range(rule.params or {}, reading):
        open_one = Alert.objects.filter(
            rule=rule,
            facts__stay=stay.pk,
            facts__metric=metric,
            state__in=[AlertState.OPEN, AlertState.ACKNOWLEDGED],
        ).exists()
        if open_one:
            continue
        zh, en, unit, low, high = METRICS[metric]
        limit = rule.params[low if side == "low" else high]
        when = timezone.localtime(reading.at).strftime("%H:%M:%S")
        _alert(
            "custody.vitals",
            f"vitals:{stay.pk}:{metric}:{reading.pk}",
            stay,
            f"{when} {zh}{value}{unit}，{'低于' if side == 'low' else '高于'}阈值{limit}{unit}。"
            f"请医疗人员立即查看。",
            f"{when} {en} {value} {unit}, {'below' if side == 'low' else 'above'} the "
            f"threshold {limit} {unit}. Medical staff: check on the person now.",
            {"metric": metric, "value": value, "limit": limit, "at": reading.at.isoformat()},
            at=timezone.now(),
        )


def strap_removed(stay: Stay, device: Device, at: datetime, seq: int) -> None:
    when = timezone.localtime(at).strftime("%H:%M:%S")
    _alert(
        "custody.strap",
        f"strap:{device.code}:{seq}",
        stay,
        f"{when} 手环{device.code}腕带被打开或摘除。",
        f"{when} the strap of wristband {device.code} was opened or removed.",
        {"device": device.code, "at": at.isoformat()},
    )


def check_zone(zone: Zone) -> None:
    """The rules that depend on who is in ``zone`` now."""
    present = list(
        Presence.objects.filter(zone=zone, left_at__isnull=True).select_related(
            "stay__party", "stay__case"
        )
    )
    stays = [p for p in present if p.stay_id]
    if zone.kind == ZoneKind.WAITING:
        by_case: dict[int, list[Presence]] = defaultdict(list)
        for p in stays:
            by_case[p.stay.case_id].append(p)
        for together in by_case.values():
            if len(together) > 1:
                first = min(p.pk for p in together)
                stay = together[0].stay
                _alert(
                    "custody.separation",
                    f"separation:{zone.pk}:{stay.case_id}:{first}",
                    stay,
                    f"同案{len(together)}名人员同在{zone.name}，应分开看管。",
                    f"{len(together)} people of one case are together in {zone.name}; "
                    f"they must be held apart.",
                    {"zone": zone.code, "stays": sorted(p.stay_id for p in together)},
                )
    if zone.kind == ZoneKind.INTERROGATION:
        for p in stays:
            if p.stay.party.minor_at_act:
                _alert(
                    "custody.juvenile_room",
                    f"juvenile:{p.pk}",
                    p.stay,
                    f"未成年人被带入成年人讯问室{zone.name}，应在未成年人询问室。",
                    f"A minor was taken into the adult interrogation room {zone.name}; "
                    f"minors are questioned in the juvenile room.",
                    {"zone": zone.code},
                )
    if zone.kind in INTERROGATION_ZONES and stays:
        wearers = set(
            Device.objects.filter(
                pk__in=[p.badge_id for p in present if p.badge_id], user__isnull=False
            ).values_list("user_id", flat=True)
        )
        officers: dict[int, set[int]] = defaultdict(set)
        for case_id, user_id in Assignment.objects.filter(
            case_id__in={p.stay.case_id for p in stays},
            user_id__in=wearers,
            ended_at__isnull=True,
            role__in=[AssignmentRole.LEAD, AssignmentRole.ASSISTING],
        ).values_list("case_id", "user_id"):
            officers[case_id].add(user_id)
        for p in stays:
            _two_officers(zone, p, len(officers[p.stay.case_id]))


def _two_officers(zone: Zone, presence: Presence, officers: int) -> None:
    """``officers``: how many of the case's own officers wear a badge in the room
    (a colleague passing through does not make the second officer, MPS-C)."""
    stay = presence.stay
    subject = f"two:{presence.pk}"
    if officers >= 2:
        clocks.meet_deadlines(None, stay.case, ["custody.two_officers"], subject=subject)
        return
    running = stay.case.deadlines.filter(
        rule_id="custody.two_officers", subject=subject, closed_at__isnull=True
    ).exists()
    if not running and _rule("custody.two_officers"):
        clocks.open_deadline(
            None,
            "custody.two_officers",
            stay.case,
            trigger_at=presence.entered_at,
            due_at=max(presence.entered_at, timezone.now()) + TWO_OFFICERS_GRACE,
            party=stay.party,
            subject=subject,
        )


def left_zone(presence: Presence, stay: Stay) -> None:
    """A person left a zone (or the presence was replayed): its two-officers
    clock no longer applies."""
    clocks.cancel_deadlines(
        None,
        stay.case,
        ["custody.two_officers"],
        reason="left the room",
        subject=f"two:{presence.pk}",
    )


def lawyer_audio(camera, at: datetime, seq: int) -> None:
    """A camera in a lawyer's meeting room says it records sound: never lawful."""
    rule = _rule("custody.lawyer_audio")
    if rule is None:
        return
    stay = (
        Presence.objects.filter(zone=camera.zone, left_at__isnull=True, stay__isnull=False)
        .select_related("stay__case")
        .first()
    )
    when = timezone.localtime(at).strftime("%H:%M:%S")
    clocks.raise_alert(
        key=f"lawyer-audio:{camera.code}:{seq}",
        rule=rule,
        kind="breach",
        case=stay.stay.case if stay else None,
        organisation_id=camera.zone.center_id,
        title_zh=rule.name_zh,
        title_en=rule.name_en,
        explanation_zh=(
            f"{when} 律师会见室摄像机{camera.code}报告正在录音；"
            f"律师会见不得被监听，请立即停止录音并核查。"
        ),
        explanation_en=(
            f"{when} camera {camera.code} in the lawyer's meeting room reports recording sound; "
            f"a lawyer's meeting is never listened to — stop it and check the camera."
        ),
        facts={"camera": camera.code, "zone": camera.zone.code, "at": at.isoformat()},
    )
