"""Every write of coercive measures: start, the moments of their life, end.

Each call is one transaction that records the moment, starts or stops the
statutory clocks it triggers (``supervision.services``), and writes the case
timeline, audit entry and outbox event. Which moment touches which clock is
the table below, in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from casecenter import law
from casecenter.accounts.models import User
from casecenter.cases import access
from casecenter.cases.models import Case, CaseEvent, CaseKind, Party, PartyRole
from casecenter.cases.services import log_event, require_two_officers
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.measures.models import Measure, MeasureEvent, MeasureKind
from casecenter.moments import past_moment
from casecenter.supervision import services as clocks

K, E = MeasureKind, MeasureEvent.Kind

#: The clocks a measure starts (criminal / administrative summons differ).
STARTS: dict[str, list[str]] = {
    K.CRIMINAL_DETENTION: [
        "detention.to_house",
        "detention.notify_family",
        "detention.interrogate",
        "detention.arrest_request",
    ],
    K.ARREST: ["arrest.notify_family", "arrest.interrogate", "investigation.custody"],
    K.BAIL: ["bail.max"],
    K.SURVEILLANCE: ["surveillance.max"],
    K.ADMIN_DETENTION: ["admin_detention.release"],
}
#: The clocks a moment meets.
MEETS: dict[str, list[str]] = {
    E.FAMILY_NOTIFIED: [
        "summons.notify_family",
        "detention.notify_family",
        "arrest.notify_family",
        "surveillance.notify_family",
    ],
    E.INTERROGATED: ["detention.interrogate", "arrest.interrogate"],
    E.SENT_TO_HOUSE: ["detention.to_house"],
    E.ARREST_REQUESTED: ["detention.arrest_request"],
    E.ARREST_APPROVED: ["arrest.decision"],
    E.ARREST_REFUSED: ["arrest.decision"],
    E.ENDED: [
        "summons.criminal",
        "summons.admin",
        "bail.max",
        "surveillance.max",
        "investigation.custody",
        "admin_detention.release",
    ],
}
#: The moments each measure has (besides its start and end).
MOMENTS: dict[str, list[str]] = {
    K.SUMMONS: [E.FAMILY_NOTIFIED],
    K.COMPELLED: [E.FAMILY_NOTIFIED],
    K.CRIMINAL_DETENTION: [
        E.FAMILY_NOTIFIED,
        E.INTERROGATED,
        E.SENT_TO_HOUSE,
        E.ARREST_REQUESTED,
        E.ARREST_APPROVED,
        E.ARREST_REFUSED,
    ],
    K.ARREST: [E.FAMILY_NOTIFIED, E.INTERROGATED],
    K.BAIL: [],
    K.SURVEILLANCE: [E.FAMILY_NOTIFIED],
    K.ADMIN_DETENTION: [E.FAMILY_NOTIFIED],
}
CRIMINAL_ONLY = {K.CRIMINAL_DETENTION, K.ARREST, K.BAIL, K.SURVEILLANCE}
CUSTODY = {K.SUMMONS, K.COMPELLED, K.CRIMINAL_DETENTION, K.ARREST, K.ADMIN_DETENTION}


def starting_clocks(measure: Measure) -> list[str]:
    if measure.kind in (K.SUMMONS, K.COMPELLED):
        main = "summons.criminal" if measure.case.kind == CaseKind.CRIMINAL else "summons.admin"
        return [main, "summons.notify_family"]
    codes = list(STARTS[measure.kind])
    if measure.kind == K.SURVEILLANCE and measure.designated_residence:
        codes.append("surveillance.notify_family")
    return codes


def _check_time(at: datetime, what_zh: str, what_en: str) -> datetime:
    return past_moment(at, code="measure", what_zh=what_zh, what_en=what_en)


def _require_officer(actor: User, case: Case) -> None:
    if not access.is_assigned(actor, case) or not actor.is_police:
        raise PermissionDenied(
            "measure.not_assigned",
            "只有本案办案民警可以采取强制措施。",
            "Only the case's officers apply coercive measures.",
        )


@transaction.atomic
def start_measure(
    actor: User,
    case: Case,
    party: Party,
    kind: str,
    *,
    started_at: datetime,
    officers: Iterable[User],
    designated_residence: bool = False,
    term_days: int | None = None,
    variant: str = "default",
) -> Measure:
    """Apply a coercive measure to a suspect; its clocks start at ``started_at``
    (arrival for a summons, detention, the decision for bail)."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    _require_officer(actor, case)
    if kind not in MeasureKind.values:
        raise InvalidInput("measure.kind", f"未知的强制措施：{kind}", f"Unknown measure: {kind}")
    if party.case_id != case.pk or party.role != PartyRole.SUSPECT:
        raise InvalidInput(
            "measure.party",
            "强制措施只能对本案嫌疑人采取。",
            "Measures apply to a suspect of this case.",
        )
    if kind in CRIMINAL_ONLY and case.kind != CaseKind.CRIMINAL:
        raise InvalidInput(
            "measure.case_kind",
            "该措施只适用于刑事案件。",
            "This measure applies to criminal cases only.",
        )
    if kind == K.ADMIN_DETENTION and case.kind != CaseKind.ADMINISTRATIVE:
        raise InvalidInput(
            "measure.case_kind",
            "行政拘留只适用于行政案件。",
            "Administrative detention applies to administrative cases only.",
        )
    if kind == K.ADMIN_DETENTION and not (term_days and 1 <= term_days <= 20):
        raise InvalidInput(
            "measure.term",
            "行政拘留期限为1至20日。",
            "Administrative detention lasts 1 to 20 days.",
        )
    started_at = _check_time(started_at, "开始时间", "start time")
    team = require_two_officers(case, officers)
    in_force = Measure.objects.select_for_update().filter(party=party, state=Measure.State.IN_FORCE)
    if in_force.filter(kind=kind).exists():
        raise Conflict(
            "measure.duplicate",
            "该嫌疑人已在此措施之下。",
            "The suspect is already under this measure.",
        )
    measure = Measure.objects.create(
        case=case,
        party=party,
        kind=kind,
        started_at=started_at,
        designated_residence=designated_residence,
        term_days=term_days,
        officers=[o.pk for o in team],
        decided_by=actor,
    )
    MeasureEvent.objects.create(measure=measure, kind=E.STARTED, at=started_at, actor=actor)
    # a stronger measure replaces the one in force (summons → detention → arrest)
    for previous in in_force.exclude(pk=measure.pk):
        _end(actor, previous, at=started_at, reason=f"→ {measure.get_kind_display()}")
    for code in starting_clocks(measure):
        period = law.Period(term_days, "day") if code == "admin_detention.release" else None
        clocks.open_deadline(
            actor,
            code,
            case,
            trigger_at=started_at,
            party=party,
            measure=measure,
            variant=variant
            if code.startswith("summons.") and not code.endswith("notify_family")
            else "default",
            period=period,
        )
    log_event(
        actor,
        case,
        CaseEvent.Kind.MEASURE,
        measure_id=measure.pk,
        measure=kind,
        person_id=party.person_id,
        moment=E.STARTED,
        at=started_at.isoformat(),
    )
    return measure


def _end(actor: User, measure: Measure, *, at: datetime, reason: str) -> None:
    measure.state, measure.ended_at, measure.end_reason = Measure.State.ENDED, at, reason
    measure.save(update_fields=["state", "ended_at", "end_reason"])
    MeasureEvent.objects.create(measure=measure, kind=E.ENDED, at=at, actor=actor, note=reason)
    case = measure.case
    clocks.meet_deadlines(actor, case, MEETS[E.ENDED], at=at, measure=measure)
    others = [c for c in starting_clocks(measure) if c not in MEETS[E.ENDED]]
    clocks.cancel_deadlines(actor, case, others, reason=reason or "measure ended", measure=measure)
    log_event(
        actor,
        case,
        CaseEvent.Kind.MEASURE,
        reason=reason,
        measure_id=measure.pk,
        measure=measure.kind,
        moment=E.ENDED,
        at=at.isoformat(),
    )


@transaction.atomic
def record_moment(
    actor: User, measure: Measure, moment: str, *, at: datetime, note: str = ""
) -> MeasureEvent:
    """Record a moment (family notified, interrogated …); it meets its clocks.

    An approved arrest ends the detention and starts the arrest at ``at``.
    """
    measure = (
        Measure.objects.select_for_update(of=("self",))
        .select_related("case", "party")
        .get(pk=measure.pk)
    )
    case = measure.case
    _require_officer(actor, case)
    if measure.state != Measure.State.IN_FORCE:
        raise Conflict("measure.ended", "该措施已结束。", "The measure has ended.")
    if moment not in MOMENTS.get(measure.kind, []):
        raise InvalidInput(
            "measure.moment", "该措施没有这一环节。", f"A {measure.kind} has no moment '{moment}'."
        )
    if measure.events.filter(kind=moment).exists():
        raise Conflict(
            "measure.moment_twice", "该环节已经记录。", "This moment is already recorded."
        )
    at = _check_time(at, "时间", "time")
    if at < measure.started_at:
        raise InvalidInput(
            "measure.before_start",
            "时间早于措施开始。",
            "The moment is before the measure started.",
        )
    event = MeasureEvent.objects.create(
        measure=measure, kind=moment, at=at, actor=actor, note=note.strip()
    )
    clocks.meet_deadlines(actor, case, MEETS.get(moment, []), at=at, measure=measure)
    if moment == E.ARREST_REQUESTED:
        clocks.open_deadline(
            actor, "arrest.decision", case, trigger_at=at, party=measure.party, measure=measure
        )
    log_event(
        actor,
        case,
        CaseEvent.Kind.MEASURE,
        reason=note.strip(),
        measure_id=measure.pk,
        measure=measure.kind,
        moment=moment,
        at=at.isoformat(),
    )
    if moment == E.ARREST_APPROVED:
        start_measure(
            actor,
            case,
            measure.party,
            K.ARREST,
            started_at=at,
            officers=list(User.objects.filter(pk__in=measure.officers)),
        )
    return event


@transaction.atomic
def end_measure(actor: User, measure: Measure, *, at: datetime, reason: str) -> Measure:
    """End a measure (released, bail ends, term served); its clocks close."""
    measure = (
        Measure.objects.select_for_update(of=("self",)).select_related("case").get(pk=measure.pk)
    )
    _require_officer(actor, measure.case)
    if measure.state != Measure.State.IN_FORCE:
        raise Conflict("measure.ended", "该措施已结束。", "The measure has ended.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("measure.reason", "请说明结束原因。", "Say why the measure ends.")
    at = _check_time(at, "结束时间", "end time")
    if at < measure.started_at:
        raise InvalidInput(
            "measure.before_start", "结束时间早于开始时间。", "The end is before the start."
        )
    _end(actor, measure, at=at, reason=reason)
    return measure
