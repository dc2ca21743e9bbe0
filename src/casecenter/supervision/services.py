"""Every write of supervision: clocks opened, met, extended; alerts raised and handled.

``open_deadline``, ``meet_deadlines`` and ``cancel_deadlines`` run inside the
transaction of the service whose event triggered them (a measure recorded, a
case filed), so a clock and its cause commit together. The worker raises
alerts (``raise_alert``) in the transaction that advances the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from casecenter import law
from casecenter.accounts.models import ALERTED_ROLES, Organisation, Role, User
from casecenter.audit.services import record
from casecenter.calendars.selectors import work_calendar
from casecenter.cases.models import Case, Party
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.law.periods import MAX_LENGTH
from casecenter.outbox.services import emit
from casecenter.supervision import push
from casecenter.supervision.models import (
    Alert,
    AlertAudience,
    AlertState,
    Deadline,
    DeadlineState,
    Extension,
    Rule,
    Severity,
)

EXTENDING_ROLES = {Role.LEGAL_AFFAIRS}


def _in_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("supervision services run inside the caller's transaction")


def _rule_period(rule: Rule) -> law.Period | None:
    if rule.kind == "policy" and rule.policy_length and rule.policy_unit:
        return law.Period(rule.policy_length, rule.policy_unit)  # type: ignore[arg-type]
    return None


def _compute(
    rule: Rule, trigger_at: datetime, variant: str, period: law.Period | None
) -> tuple[law.PeriodResult, datetime, int | None]:
    """The due moment, the warning moment, and the year whose calendar is missing.

    A last day in a year no holiday notice covers yet (late in the year, before
    the State Council publishes the next one) is not guessed: the clock runs to
    the unextended last day — the earliest the period can end, so no alert
    comes late — and says it is provisional until the notice is loaded, when
    it is counted again (``recount_provisional``). Working days cannot be
    counted at all without the calendar; their earliest possible end is N
    calendar days (as if every day were worked), and that is what runs.
    """
    chosen = period or _rule_period(rule)
    try:
        try:
            result = law.due(
                rule.code, trigger_at, variant=variant, period=chosen, calendar=work_calendar()
            )
            missing = None
        except law.UnknownCalendarYear as exc:
            missing = exc.year
            result = _provisional(
                trigger_at, chosen or law.rule(rule.code).period(variant), missing
            )
    except law.LawError as exc:
        raise InvalidInput(exc.code, exc.message_zh, exc.message_en) from exc
    warn_at = result.ends_at - rule.warn_before if rule.warn_before else result.ends_at
    return result, max(warn_at, trigger_at), missing


def _provisional(trigger_at: datetime, period: law.Period, missing: int) -> law.PeriodResult:
    """The earliest end of ``period`` while ``missing``'s holiday notice is not loaded."""
    if period.unit == "workday":
        # The N-th working day is at least N days on: count N calendar days.
        strict = law.compute_period(trigger_at, period.length, "day", in_custody=True)
        return replace(
            strict,
            calendar=f"missing {missing}",
            explanation_zh=(
                f"暂定：尚未载入{missing}年节假日安排，无法确定工作日；按{period.length}个"
                f"自然日计算（最早可能的最后一日{strict.last_day}）；载入后自动重新计算。"
            ),
            explanation_en=(
                f"Provisional: no holiday notice for {missing} is loaded, so working days "
                f"cannot be told from rest days; the clock runs {period.length} calendar "
                f"days to the earliest possible last day {strict.last_day}; it is counted "
                f"again when the notice is loaded."
            ),
        )
    strict = law.compute_period(trigger_at, period.length, period.unit, in_custody=True)
    return replace(
        strict,
        calendar=f"missing {missing}",
        explanation_zh=(
            f"暂定：尚未载入{missing}年节假日安排，按未顺延的最后一日"
            f"{strict.last_day}计算；载入后自动重新计算。"
        ),
        explanation_en=(
            f"Provisional: no holiday notice for {missing} is loaded, so the "
            f"clock runs to the unextended last day {strict.last_day}; it is "
            f"counted again when the notice is loaded."
        ),
    )


def _computation(result: law.PeriodResult, missing: int | None, period: law.Period | None):
    return {
        "zh": result.explanation_zh,
        "en": result.explanation_en,
        "basis": result.basis,
        "calendar": result.calendar,
        "period": period.describe_en() if period else None,
        "provisional_year": missing,
    }


def open_deadline(
    actor: User | None,
    rule_code: str,
    case: Case | None,
    *,
    trigger_at: datetime,
    party: Party | None = None,
    measure: Any = None,
    variant: str = "default",
    period: law.Period | None = None,
    item: Any = None,
    due_at: datetime | None = None,
    subject: str = "",
    organisation: Organisation | None = None,
    reference: str = "",
) -> Deadline | None:
    """Start the clock of ``rule_code`` (inside the caller's transaction).

    ``due_at`` fixes the due moment where a person set it (a promised return
    date of a policy rule) instead of counting a period. A clock of a case
    belongs to the case's organisation unless ``organisation`` says whose it
    is; a clock without a case (another organisation's own record) needs
    ``organisation``, ``subject`` and the ``reference`` shown for it.
    """
    _in_transaction()
    if case is None and not (organisation and subject and reference):
        raise ValueError("a clock without a case needs organisation, subject and reference")
    rule = Rule.objects.get(code=rule_code)
    if not rule.enabled:
        return None
    if due_at is not None:
        if due_at <= trigger_at:
            raise InvalidInput(
                "deadline.due_before_trigger",
                "到期时间须晚于开始时间。",
                "The due moment must come after the start.",
            )
        when = _fmt(due_at)
        result = law.PeriodResult(
            ends_at=due_at,
            last_day=None,
            extended_by_holiday=False,
            unextended_last_day=None,
            calendar="not consulted (fixed moment)",
            basis=rule.basis,
            explanation_zh=f"约定于{when}前完成。",
            explanation_en=f"Promised for {when}.",
        )
        warn_at = max(due_at - (rule.warn_before or timedelta(0)), trigger_at)
        missing = None
    else:
        result, warn_at, missing = _compute(rule, trigger_at, variant, period)
    deadline = Deadline.objects.create(
        rule=rule,
        case=case,
        organisation_id=organisation.pk if organisation else case.organisation_id,
        reference=reference,
        party=party,
        item=item,
        measure=measure,
        variant=variant,
        subject=subject,
        trigger_at=trigger_at,
        warn_at=warn_at,
        due_at=result.ends_at,
        next_check_at=warn_at,
        computation=_computation(result, missing, period),
    )
    record(
        actor,
        "deadline.opened",
        deadline,
        data={
            "rule": rule_code,
            "case_id": case.pk if case else None,
            "subject": subject,
            "due_at": result.ends_at.isoformat(),
            "variant": variant,
        },
    )
    return deadline


def _running(
    case: Case | None,
    rule_codes: Iterable[str],
    party: Party | None,
    measure: Any,
    item: Any = None,
    subject: str = "",
):
    if case is None and not subject:
        raise ValueError("the clocks of no case are found by their subject")
    rows = Deadline.objects.select_for_update(of=("self",)).filter(
        case=case,
        rule_id__in=list(rule_codes),
        state__in=[DeadlineState.RUNNING, DeadlineState.BREACHED],
        closed_at__isnull=True,
    )
    if party is not None:
        rows = rows.filter(party=party)
    if measure is not None:
        rows = rows.filter(measure=measure)
    if item is not None:
        rows = rows.filter(item=item)
    if subject:
        rows = rows.filter(subject=subject)
    return list(rows)


def meet_deadlines(
    actor: User | None,
    case: Case | None,
    rule_codes: Iterable[str],
    *,
    at: datetime | None = None,
    party: Party | None = None,
    measure: Any = None,
    item: Any = None,
    subject: str = "",
) -> list[Deadline]:
    """The duty was done at ``at``: running clocks are met. A clock already
    breached stays breached — the breach happened — but is closed."""
    _in_transaction()
    at = at or timezone.now()
    closed = []
    for deadline in _running(case, rule_codes, party, measure, item, subject):
        if deadline.state == DeadlineState.RUNNING:
            late = at >= deadline.due_at
            deadline.state = DeadlineState.BREACHED if late else DeadlineState.MET
            if late:  # done, but too late: the breach stands and is told
                deadline_alert(deadline, "breach", at=timezone.now(), done_at=at)
        deadline.closed_at, deadline.closed_by, deadline.next_check_at = at, actor, None
        deadline.save(update_fields=["state", "closed_at", "closed_by", "next_check_at"])
        record(
            actor,
            "deadline.closed",
            deadline,
            data={"rule": deadline.rule_id, "state": deadline.state},
        )
        # warnings are answered by the duty done; a breach alert stays for review
        answered = Alert.objects.filter(
            deadline=deadline,
            kind="warning",
            state__in=[AlertState.OPEN, AlertState.ACKNOWLEDGED],
        )
        push.announce(answered.values_list("pk", flat=True), "resolved")
        answered.update(
            state=AlertState.RESOLVED,
            resolved_at=at,
            resolved_by=actor,
            resolution="duty done / 已履行",
            escalate_at=None,
        )
        closed.append(deadline)
    return closed


def cancel_deadlines(
    actor: User | None,
    case: Case | None,
    rule_codes: Iterable[str],
    *,
    reason: str,
    party: Party | None = None,
    measure: Any = None,
    item: Any = None,
    subject: str = "",
    at: datetime | None = None,
) -> list[Deadline]:
    """The clock no longer applies (the person was released, the case withdrawn),
    from ``at`` (default now)."""
    _in_transaction()
    now = at or timezone.now()
    cancelled = []
    for deadline in _running(case, rule_codes, party, measure, item, subject):
        if deadline.state == DeadlineState.RUNNING:
            deadline.state = DeadlineState.CANCELLED
        deadline.closed_at, deadline.closed_by, deadline.next_check_at = now, actor, None
        deadline.save(update_fields=["state", "closed_at", "closed_by", "next_check_at"])
        record(
            actor, "deadline.cancelled", deadline, reason=reason, data={"rule": deadline.rule_id}
        )
        cancelled.append(deadline)
    return cancelled


@transaction.atomic
def extend_deadline(actor: User, deadline: Deadline, *, variant: str, reason: str) -> Deadline:
    """Record an approved extension and count the clock again from its trigger."""
    if actor.role not in EXTENDING_ROLES:
        raise PermissionDenied(
            "deadline.extend_role",
            "只有法制部门可以批准延长期限。",
            "Only the legal-affairs unit approves extensions.",
        )
    deadline = (
        Deadline.objects.select_for_update(of=("self",)).select_related("rule").get(pk=deadline.pk)
    )
    from casecenter.cases.access import is_supervising

    if deadline.case is None or not is_supervising(actor, deadline.case):
        raise PermissionDenied(
            "deadline.extend_scope",
            "该案件不在您的监督范围内。",
            "This case is not under your supervision.",
        )
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            "deadline.extend_reason", "延长期限须说明理由。", "An extension needs a reason."
        )
    if deadline.state != DeadlineState.RUNNING:
        raise Conflict(
            "deadline.not_running",
            "只能延长正在计算的期限。",
            "Only a running clock can be extended.",
        )
    if variant == deadline.variant:
        raise InvalidInput(
            "deadline.same_variant",
            "新期限与原期限相同。",
            "The new period is the one already running.",
        )
    result, warn_at, missing = _compute(deadline.rule, deadline.trigger_at, variant, None)
    if result.ends_at <= deadline.due_at:
        raise InvalidInput(
            "deadline.not_longer",
            "延长后的期限必须晚于原期限。",
            "An extension must end later than the current clock.",
        )
    now = timezone.now()
    Extension.objects.create(
        deadline=deadline,
        approved_by=actor,
        reason=reason,
        old_variant=deadline.variant,
        new_variant=variant,
        old_due_at=deadline.due_at,
        new_due_at=result.ends_at,
    )
    old_due = deadline.due_at
    deadline.variant, deadline.due_at, deadline.warn_at = variant, result.ends_at, warn_at
    if warn_at > now:
        deadline.warned_at = None
    deadline.next_check_at = deadline.due_at if deadline.warned_at else deadline.warn_at
    deadline.computation = _computation(result, missing, None)
    deadline.save()
    record(
        actor,
        "deadline.extended",
        deadline,
        reason=reason,
        data={
            "rule": deadline.rule_id,
            "old_due_at": old_due.isoformat(),
            "new_due_at": deadline.due_at.isoformat(),
            "variant": variant,
        },
    )
    emit("deadline.extended", deadline_id=deadline.pk, case_id=deadline.case_id)
    return deadline


def recount_provisional(year: int) -> int:
    """Count again the running clocks that waited for ``year``'s holiday notice."""
    _in_transaction()
    count = 0
    rows = (
        Deadline.objects.select_for_update()
        .select_related("rule")
        .filter(state=DeadlineState.RUNNING, computation__provisional_year=year)
    )
    for deadline in rows:
        period = None
        if deadline.rule_id == "admin_detention.release" and deadline.measure_id:
            period = law.Period(deadline.measure.term_days, "day")
        result, warn_at, missing = _compute(
            deadline.rule, deadline.trigger_at, deadline.variant, period
        )
        old_due = deadline.due_at
        deadline.due_at, deadline.warn_at = result.ends_at, warn_at
        if deadline.warned_at and warn_at > timezone.now():
            deadline.warned_at = None
        deadline.next_check_at = deadline.due_at if deadline.warned_at else warn_at
        deadline.computation = _computation(result, missing, period)
        deadline.save()
        record(
            None,
            "deadline.recounted",
            deadline,
            data={
                "year": year,
                "old_due_at": old_due.isoformat(),
                "new_due_at": deadline.due_at.isoformat(),
            },
        )
        count += 1
    return count


def _fmt(at: datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def deadline_alert(
    deadline: Deadline, kind: str, *, at: datetime, done_at: datetime | None = None
) -> Alert | None:
    """The warning or breach alert of a clock, explaining itself (F6.5, PIPL Art. 24):
    the rule, the person (masked), the due time, the article and the computation."""
    rule, case, comp = deadline.rule, deadline.case, deadline.computation
    number = deadline.shown_reference
    who = law.mask_name(deadline.party.person.name) if deadline.party_id else ""
    who_zh, who_en = (f"（{who}）", f" ({who})") if who else ("", "")
    due = _fmt(deadline.due_at)
    if kind == Alert.Kind.BREACH:
        title_zh, title_en = f"已超期：{rule.name_zh}", f"Breached: {rule.name_en}"
        head_zh = f"期限已于{due}届满（{law.basis_zh(rule.basis)}）。"
        head_en = f"The period ended at {due} ({rule.basis})."
        if done_at:
            head_zh += f"{_fmt(done_at)}才履行。"
            head_en += f" The duty was done only at {_fmt(done_at)}."
    else:
        title_zh, title_en = f"即将到期：{rule.name_zh}", f"Due soon: {rule.name_en}"
        head_zh = f"期限将于{due}届满（{law.basis_zh(rule.basis)}）。"
        head_en = f"The period ends at {due} ({rule.basis})."
    return raise_alert(
        key=f"deadline:{deadline.pk}:{kind}:{deadline.due_at.astimezone(UTC).isoformat()}",
        rule=rule,
        kind=kind,
        case=case,
        organisation_id=deadline.organisation_id,
        deadline=deadline,
        at=at,
        facts={
            "case": number,
            "rule": rule.code,
            "person": who,
            "trigger_at": deadline.trigger_at.isoformat(),
            "due_at": deadline.due_at.isoformat(),
            "basis": rule.basis,
            **({"done_at": done_at.isoformat()} if done_at else {}),
        },
        title_zh=f"{title_zh}{who_zh} · {number}",
        title_en=f"{title_en}{who_en} · {number}",
        explanation_zh=f"{head_zh}{comp.get('zh', '')}",
        explanation_en=f"{head_en} {comp.get('en', '')}",
    )


def raise_alert(
    *,
    key: str,
    rule: Rule,
    kind: str,
    case: Case | None,
    organisation_id: int,
    title_zh: str,
    title_en: str,
    explanation_zh: str,
    explanation_en: str,
    deadline: Deadline | None = None,
    facts: dict | None = None,
    at: datetime | None = None,
    subject: str = "",
) -> Alert | None:
    """Raise an alert once: a second call with the same ``key`` returns None.

    ``subject`` ("kind:id") is the record the alert is about — the page it opens
    and what repeats are grouped by; a clock's alert defaults to its clock's
    subject, else its case."""
    _in_transaction()
    at = at or timezone.now()
    if not subject:
        if deadline is not None and deadline.subject:
            subject = deadline.subject
        elif case is not None:
            subject = f"case:{case.pk}"
    if Alert.objects.filter(key=key).exists():
        return None
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                key=key,
                rule=rule,
                kind=kind,
                severity=rule.severity,
                case=case,
                organisation_id=organisation_id,
                deadline=deadline,
                subject=subject[:60],
                raised_at=at,
                escalate_at=(at + rule.escalate_after) if rule.escalate_after else None,
                title_zh=title_zh,
                title_en=title_en,
                explanation_zh=explanation_zh,
                explanation_en=explanation_en,
                facts=facts or {},
            )
    except IntegrityError:  # raised meanwhile by another worker
        return None
    AlertAudience.objects.bulk_create(
        [AlertAudience(alert=alert, role=role, level=0) for role in rule.audience]
    )
    record(
        None,
        "alert.raised",
        alert,
        data={"rule": rule.code, "kind": kind, "case_id": getattr(case, "pk", None)},
    )
    emit(
        "alert.raised",
        alert_id=alert.pk,
        case_id=getattr(case, "pk", None),
        organisation_id=organisation_id,
    )
    push.announce([alert.pk], "raised")
    return alert


BREAK_GLASS_RULE = "access.break_glass"


def break_glass_alert(grant) -> Alert | None:
    """Tell an officer's supervisors at once that they opened a case by
    break-glass (紧急查阅): the case-management group of the officer's station
    and the legal-affairs unit (the rule's audience, in the officer's
    organisation's scope), and the case's own station's group and unit when the
    case is another station's. The alert is about the grant (its page is the
    review), not the case: the case's own officers are not told through it.
    Runs in the transaction of ``cases.breakglass.break_glass``."""
    _in_transaction()
    rule = Rule.objects.get(code=BREAK_GLASS_RULE)
    officer, case = grant.user, grant.case
    until = _fmt(grant.expires_at)
    alert = raise_alert(
        key=f"break-glass:{grant.pk}",
        rule=rule,
        kind=Alert.Kind.EVENT,
        case=None,
        organisation_id=officer.organisation_id,
        subject=f"break_glass:{grant.pk}",
        at=grant.granted_at,
        facts={
            "grant": grant.pk,
            "case": case.number,
            "case_id": case.pk,
            "officer": str(officer),
            "officer_id": officer.pk,
            "expires_at": grant.expires_at.isoformat(),
        },
        title_zh=f"紧急查阅：{officer} · {case.number}",
        title_en=f"Break-glass read: {officer} · {case.number}",
        explanation_zh=f"{officer}未被指派办理该案件，以紧急查阅方式打开，有效至{until}。"
        f"理由：{grant.reason}。请审查其查阅记录。",
        explanation_en=f"{officer} is not assigned to the case and opened it by break-glass "
        f"until {until}. Reason: {grant.reason}. Review the reads made under it.",
    )
    if alert is not None and case.organisation_id != officer.organisation_id:
        AlertAudience.objects.bulk_create(
            [
                AlertAudience(alert=alert, role=role, organisation_id=case.organisation_id)
                for role in rule.audience
            ]
        )
    return alert


#: a rung of a ladder told at the case's own organisation, not the alert's
AT_CASE = "@case"


def _rung(rung: str, alert: Alert) -> tuple[str, Organisation | None]:
    """A ladder's rung → (role, organisation): "case_management@case" is the
    case-management group of the alert's case's own station (a custody alert's
    organisation is the center; the case is the station's)."""
    if rung.endswith(AT_CASE):
        role = rung.removesuffix(AT_CASE)
        return role, alert.case.organisation if alert.case_id else None
    return rung, None


def _told(rung: tuple[str, Organisation | None], told: set[tuple[str, int | None]]) -> bool:
    role, where = rung
    return (role, where.pk if where else None) in told


def escalate(alert: Alert, *, at: datetime | None = None) -> Alert:
    """Tell the next rung of the ladder about an alert nobody acknowledged.

    A rung whose role is told already (the rule's audience names it) is passed
    over, so an escalation always reaches someone new — or ends the ladder.
    ``level`` is the number of rungs reached.
    """
    _in_transaction()
    at = at or timezone.now()
    ladder = alert.rule.escalation
    told = set(alert.audience.values_list("role", "organisation_id"))
    rung = alert.level
    while rung < len(ladder) and _told(_rung(ladder[rung], alert), told):
        rung += 1
    if rung >= len(ladder):
        alert.escalate_at = None
        alert.save(update_fields=["escalate_at"])
        return alert
    role, where = _rung(ladder[rung], alert)
    alert.level = rung + 1
    AlertAudience.objects.get_or_create(
        alert=alert, role=role, organisation=where, defaults={"level": alert.level}
    )
    more = alert.level < len(ladder) and alert.rule.escalate_after
    alert.escalate_at = at + alert.rule.escalate_after if more else None
    alert.save(update_fields=["level", "escalate_at"])
    record(None, "alert.escalated", alert, data={"level": alert.level, "role": role})
    emit("alert.escalated", alert_id=alert.pk, level=alert.level)
    push.announce([alert.pk], "escalated")
    return alert


def _may_handle(actor: User, alert: Alert) -> None:
    from casecenter.supervision.selectors import visible_alerts

    if not visible_alerts(actor).filter(pk=alert.pk).exists():
        raise PermissionDenied(
            "alert.not_yours", "该提醒不是发给您的。", "This alert is not addressed to you."
        )


def _acknowledge(actor: User, alert: Alert, note: str, now: datetime) -> None:
    alert.state, alert.acknowledged_at, alert.acknowledged_by = (
        AlertState.ACKNOWLEDGED,
        now,
        actor,
    )
    alert.acknowledgement, alert.escalate_at = note, None
    alert.save(
        update_fields=[
            "state",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledgement",
            "escalate_at",
        ]
    )
    record(actor, "alert.acknowledged", alert, reason=note)
    emit("alert.acknowledged", alert_id=alert.pk)
    push.announce([alert.pk], "acknowledged")


@transaction.atomic
def acknowledge_alert(actor: User, alert: Alert, *, note: str = "") -> Alert:
    """The alert was seen and someone acts on it (``note``: what they do, optional)."""
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    _may_handle(actor, alert)
    if alert.state != AlertState.OPEN:
        raise Conflict("alert.not_open", "该提醒已被处理。", "The alert is no longer open.")
    _acknowledge(actor, alert, (note or "").strip()[:2000], timezone.now())
    return alert


#: how many alerts one bulk acknowledgement takes at most
BULK_LIMIT = 500


@transaction.atomic
def acknowledge_alerts(actor: User, alert_ids: Iterable[int], *, note: str) -> list[Alert]:
    """Acknowledge many alerts at once with one reason (an alert flood): all or
    none — an id the actor may not handle, or an alert no longer open, refuses
    the whole request and changes nothing."""
    note = (note or "").strip()
    if not note:
        raise InvalidInput(
            "alert.bulk_note",
            "批量确认须说明理由。",
            "Acknowledging several alerts at once needs a reason.",
        )
    ids = sorted({int(i) for i in alert_ids})
    if not ids:
        raise InvalidInput("alert.bulk_empty", "请选择提醒。", "Choose the alerts to acknowledge.")
    if len(ids) > BULK_LIMIT:
        raise InvalidInput(
            "alert.bulk_limit",
            f"一次最多确认{BULK_LIMIT}条提醒。",
            f"At most {BULK_LIMIT} alerts can be acknowledged at once.",
        )
    from casecenter.supervision.selectors import visible_alerts

    alerts = list(Alert.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    mine = set(visible_alerts(actor).filter(pk__in=ids).values_list("pk", flat=True))
    if len(alerts) != len(ids) or set(ids) - mine:
        raise PermissionDenied(
            "alert.not_yours",
            "所选提醒中有不是发给您的。",
            "Some of these alerts are not addressed to you.",
        )
    closed = [a.pk for a in alerts if a.state != AlertState.OPEN]
    if closed:
        raise Conflict(
            "alert.not_open",
            f"所选提醒中有{len(closed)}条已被处理。",
            f"{len(closed)} of these alerts are no longer open.",
        )
    now = timezone.now()
    for alert in alerts:
        _acknowledge(actor, alert, note[:2000], now)
    return alerts


def resolve_automatically(
    alerts: Iterable[Alert], *, zh: str, en: str, at: datetime | None = None
) -> int:
    """The condition of these alerts ended on its own (inside the caller's
    transaction): they are resolved by the system with the reason on record,
    and leave the desks' lists of open alerts. Returns how many."""
    _in_transaction()
    at = at or timezone.now()
    done = 0
    for alert in alerts:
        if alert.state == AlertState.RESOLVED:
            continue
        alert.state, alert.resolved_at, alert.resolved_by = AlertState.RESOLVED, at, None
        alert.resolution, alert.escalate_at = f"{zh} / {en}", None
        alert.save(
            update_fields=["state", "resolved_at", "resolved_by", "resolution", "escalate_at"]
        )
        record(None, "alert.resolved", alert, reason=en, data={"automatic": True})
        emit("alert.resolved", alert_id=alert.pk)
        push.announce([alert.pk], "resolved")
        done += 1
    return done


@transaction.atomic
def resolve_alert(actor: User, alert: Alert, *, resolution: str) -> Alert:
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    _may_handle(actor, alert)
    if alert.state == AlertState.RESOLVED:
        raise Conflict("alert.resolved", "该提醒已办结。", "The alert is already resolved.")
    resolution = (resolution or "").strip()
    if not resolution:
        raise InvalidInput("alert.resolution", "请说明处理情况。", "Say how it was resolved.")
    now = timezone.now()
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, actor
    alert.state, alert.resolved_at, alert.resolved_by = AlertState.RESOLVED, now, actor
    alert.resolution, alert.escalate_at = resolution, None
    alert.save()
    record(actor, "alert.resolved", alert, reason=resolution)
    emit("alert.resolved", alert_id=alert.pk)
    push.announce([alert.pk], "resolved")
    return alert


def restate_alert(alert: Alert, *, explanation_zh: str, explanation_en: str, facts: dict) -> bool:
    """More is known of an alert's situation (it ended; a camera named its fault):
    its explanation and facts say so, on record (inside the caller's transaction).
    Returns whether anything changed."""
    _in_transaction()
    if (alert.facts, alert.explanation_zh, alert.explanation_en) == (
        facts,
        explanation_zh,
        explanation_en,
    ):
        return False
    alert.facts, alert.explanation_zh, alert.explanation_en = facts, explanation_zh, explanation_en
    alert.save(update_fields=["facts", "explanation_zh", "explanation_en"])
    record(None, "alert.restated", alert, data={"end": facts.get("end")})
    return True


def disprove_alert(alert: Alert, *, zh: str, en: str, at: datetime | None = None) -> Alert:
    """Later facts show an alert's situation never happened (inside the caller's
    transaction): it is resolved with that reason and marked ``disproved`` — also
    one the system had already closed as over; one a person resolved keeps what
    they wrote."""
    _in_transaction()
    alert.facts = {**(alert.facts or {}), "disproved": True}
    if alert.state != AlertState.RESOLVED:
        alert.save(update_fields=["facts"])
        resolve_automatically([alert], zh=zh, en=en, at=at)
        return alert
    if alert.resolved_by_id is None:
        alert.resolution = f"{zh} / {en}"
    alert.save(update_fields=["facts", "resolution"])
    record(None, "alert.disproved", alert, reason=en)
    return alert


def reopen_alert(alert: Alert, *, zh: str, en: str, at: datetime | None = None) -> Alert:
    """An alert the system resolved because the facts no longer showed its
    situation, shown again by later facts (inside the caller's transaction): it
    is open again, told again, with the reason on record."""
    _in_transaction()
    at = at or timezone.now()
    alert.facts = {k: v for k, v in (alert.facts or {}).items() if k != "disproved"}
    alert.state, alert.resolved_at, alert.resolved_by, alert.resolution = (
        AlertState.OPEN,
        None,
        None,
        "",
    )
    alert.acknowledged_at, alert.acknowledged_by, alert.acknowledgement = None, None, ""
    alert.escalate_at = (at + alert.rule.escalate_after) if alert.rule.escalate_after else None
    alert.save()
    record(None, "alert.reopened", alert, reason=en, data={"reason_zh": zh})
    emit("alert.reopened", alert_id=alert.pk)
    push.announce([alert.pk], "reopened")
    return alert


#: What an administrator may tune on any rule, and on a policy rule its period too.
TUNABLE = frozenset({"warn_before", "escalate_after", "severity", "audience", "enabled", "params"})
POLICY_PERIOD = frozenset({"policy_length", "policy_unit"})
_LONGEST_LEAD = timedelta(days=366)


def tuned_period(rule: Rule) -> law.Period | None:
    """The locally tuned period of a policy rule, or None: the law's own applies."""
    return _rule_period(rule)


def may_tune_rules(actor: User) -> bool:
    return actor.is_authenticated and (actor.role == Role.ADMIN or actor.is_staff)


def _check_duration(name: str, value: Any, *, zero_ok: bool) -> timedelta | None:
    if value is None:
        return None
    if not isinstance(value, timedelta) or value > _LONGEST_LEAD or value < timedelta(0):
        raise InvalidInput(
            f"rule.{name}", "时长须在0至366日之间。", "A duration lies between 0 and 366 days."
        )
    if not zero_ok and value < timedelta(minutes=1):
        raise InvalidInput(
            f"rule.{name}", "升级时限至少为1分钟。", "Escalation waits at least one minute."
        )
    return value


def _checked_changes(rule: Rule, changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - TUNABLE - POLICY_PERIOD
    if unknown:
        raise InvalidInput(
            "rule.field",
            f"不能修改：{'、'.join(sorted(unknown))}",
            f"Not tunable: {', '.join(sorted(unknown))}",
        )
    if POLICY_PERIOD & set(changes) and rule.kind != "policy":
        raise InvalidInput(
            "rule.statutory",
            "法定期限由法律规定，不能修改。",
            "A statutory period is fixed by law and cannot be changed.",
            basis=rule.basis,
        )
    clean: dict[str, Any] = {}
    if "warn_before" in changes:
        clean["warn_before"] = _check_duration("warn_before", changes["warn_before"], zero_ok=True)
    if "escalate_after" in changes:
        clean["escalate_after"] = _check_duration(
            "escalate_after", changes["escalate_after"], zero_ok=False
        )
    if "severity" in changes:
        if changes["severity"] not in Severity.values:
            raise InvalidInput("rule.severity", "未知的严重程度。", "Unknown severity.")
        clean["severity"] = str(changes["severity"])
    if "audience" in changes:
        roles = list(dict.fromkeys(str(r) for r in changes["audience"] or []))
        if not set(roles) <= ALERTED_ROLES:
            raise InvalidInput(
                "rule.audience",
                "提醒对象须为接收提醒的角色：公安、驻中心医疗人员或检、法、司、看守所人员。",
                "The audience are roles that receive alerts: police, the center's medical "
                "desk, or the people of the procuratorate, court, legal aid or detention centre.",
            )
        clean["audience"] = roles
    if "params" in changes:
        clean["params"] = _checked_params(rule, changes["params"])
    if "enabled" in changes:
        clean["enabled"] = bool(changes["enabled"])
    if POLICY_PERIOD & set(changes):
        length = changes.get("policy_length", rule.policy_length)
        unit = changes.get("policy_unit", rule.policy_unit) or ""
        if length is None and not unit:  # back to the default of law.RULES
            clean["policy_length"], clean["policy_unit"] = None, ""
        elif unit not in law.UNITS or not isinstance(length, int) or length < 1:
            raise InvalidInput(
                "rule.period",
                "期限须为正整数并注明单位。",
                "A period is a positive whole number and a unit.",
            )
        elif length > MAX_LENGTH[unit]:
            raise InvalidInput("rule.period", "期限过长。", "The period is too long.")
        else:
            clean["policy_length"], clean["policy_unit"] = length, unit
    return clean


def _checked_params(rule: Rule, params: Any) -> dict[str, int]:
    """A rule's thresholds: only the names it has, whole numbers from 0 to 400."""
    if not isinstance(params, dict):
        raise InvalidInput("rule.params", "阈值格式不正确。", "Thresholds are name: number pairs.")
    unknown = set(params) - set(rule.params or {})
    if unknown:
        raise InvalidInput(
            "rule.params",
            f"该规则没有阈值{sorted(unknown)[0]}。",
            f"This rule has no threshold {sorted(unknown)[0]!r}.",
        )
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 400:
            raise InvalidInput(
                "rule.params",
                f"阈值{name}须为0到400之间的整数。",
                f"The threshold {name} is a whole number from 0 to 400.",
            )
    return {**(rule.params or {}), **params}


def _audit_value(value: Any) -> Any:
    return int(value.total_seconds()) if isinstance(value, timedelta) else value


@transaction.atomic
def tune_rule(actor: User, rule: Rule, **changes: Any) -> Rule:
    """An administrator tunes a rule of the catalogue (F6.1): warning lead,
    escalation wait, severity, audience, on/off — and the period of a *policy*
    rule. A statutory period is the law's and is refused. Clocks already
    running keep the times they were computed with; new clocks use the change.
    """
    if not may_tune_rules(actor):
        raise PermissionDenied(
            "rule.tune_role", "只有管理员可以调整规则。", "Only an administrator tunes rules."
        )
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    clean = _checked_changes(rule, changes)
    changed = {k: v for k, v in clean.items() if getattr(rule, k) != v}
    if not changed:
        return rule
    before = {k: _audit_value(getattr(rule, k)) for k in changed}
    for field, value in changed.items():
        setattr(rule, field, value)
    rule.save(update_fields=list(changed))
    record(
        actor,
        "rule.tuned",
        rule,
        data={
            "before": before,
            "after": {k: _audit_value(v) for k, v in changed.items()},
        },
    )
    emit("rule.tuned", code=rule.code, fields=sorted(changed))
    return rule
