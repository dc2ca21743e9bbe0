"""Every write of supervision: clocks opened, met, extended; alerts raised and handled.

``open_deadline``, ``meet_deadlines`` and ``cancel_deadlines`` run inside the
transaction of the service whose event triggered them (a measure recorded, a
case filed), so a clock and its cause commit together. The worker raises
alerts (``raise_alert``) in the transaction that advances the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from casecenter import law
from casecenter.accounts.models import Role, User
from casecenter.audit.services import record
from casecenter.calendars.selectors import work_calendar
from casecenter.cases.models import Case, Party
from casecenter.errors import InvalidInput, PermissionDenied
from casecenter.outbox.services import emit
from casecenter.supervision.models import (
    Alert,
    AlertAudience,
    AlertState,
    Deadline,
    DeadlineState,
    Extension,
    Rule,
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
) -> tuple[law.PeriodResult, datetime]:
    try:
        result = law.due(
            rule.code,
            trigger_at,
            variant=variant,
            period=period or _rule_period(rule),
            calendar=work_calendar(),
        )
    except law.LawError as exc:
        raise InvalidInput(exc.code, exc.message_zh, exc.message_en) from exc
    warn_at = result.ends_at - rule.warn_before if rule.warn_before else result.ends_at
    return result, max(warn_at, trigger_at)


def open_deadline(
    actor: User | None,
    rule_code: str,
    case: Case,
    *,
    trigger_at: datetime,
    party: Party | None = None,
    measure: Any = None,
    variant: str = "default",
    period: law.Period | None = None,
) -> Deadline | None:
    """Start the clock of ``rule_code`` (inside the caller's transaction)."""
    _in_transaction()
    rule = Rule.objects.get(code=rule_code)
    if not rule.enabled:
        return None
    result, warn_at = _compute(rule, trigger_at, variant, period)
    deadline = Deadline.objects.create(
        rule=rule,
        case=case,
        party=party,
        measure=measure,
        variant=variant,
        trigger_at=trigger_at,
        warn_at=warn_at,
        due_at=result.ends_at,
        next_check_at=warn_at,
        computation={
            "zh": result.explanation_zh,
            "en": result.explanation_en,
            "basis": result.basis,
            "calendar": result.calendar,
            "period": (period.describe_en() if period else None),
        },
    )
    record(
        actor,
        "deadline.opened",
        deadline,
        data={
            "rule": rule_code,
            "case_id": case.pk,
            "due_at": result.ends_at.isoformat(),
            "variant": variant,
        },
    )
    return deadline


def _running(case: Case, rule_codes: Iterable[str], party: Party | None, measure: Any):
    rows = Deadline.objects.select_for_update().filter(
        case=case,
        rule_id__in=list(rule_codes),
        state__in=[DeadlineState.RUNNING, DeadlineState.BREACHED],
        closed_at__isnull=True,
    )
    if party is not None:
        rows = rows.filter(party=party)
    if measure is not None:
        rows = rows.filter(measure=measure)
    return list(rows)


def meet_deadlines(
    actor: User | None,
    case: Case,
    rule_codes: Iterable[str],
    *,
    at: datetime | None = None,
    party: Party | None = None,
    measure: Any = None,
) -> list[Deadline]:
    """The duty was done at ``at``: running clocks are met. A clock already
    breached stays breached — the breach happened — but is closed."""
    _in_transaction()
    at = at or timezone.now()
    closed = []
    for deadline in _running(case, rule_codes, party, measure):
        if deadline.state == DeadlineState.RUNNING:
            deadline.state = DeadlineState.MET if at < deadline.due_at else DeadlineState.BREACHED
        deadline.closed_at, deadline.closed_by, deadline.next_check_at = at, actor, None
        deadline.save(update_fields=["state", "closed_at", "closed_by", "next_check_at"])
        record(
            actor,
            "deadline.closed",
            deadline,
            data={"rule": deadline.rule_id, "state": deadline.state},
        )
        Alert.objects.filter(
            deadline=deadline, state__in=[AlertState.OPEN, AlertState.ACKNOWLEDGED]
        ).update(
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
    case: Case,
    rule_codes: Iterable[str],
    *,
    reason: str,
    party: Party | None = None,
    measure: Any = None,
) -> list[Deadline]:
    """The clock no longer applies (the person was released, the case withdrawn)."""
    _in_transaction()
    now = timezone.now()
    cancelled = []
    for deadline in _running(case, rule_codes, party, measure):
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
    deadline = Deadline.objects.select_for_update().select_related("rule").get(pk=deadline.pk)
    from casecenter.cases.access import is_supervising

    if not is_supervising(actor, deadline.case):
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
        raise InvalidInput(
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
    result, warn_at = _compute(deadline.rule, deadline.trigger_at, variant, None)
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
    deadline.computation = {
        **deadline.computation,
        "zh": result.explanation_zh,
        "en": result.explanation_en,
    }
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
) -> Alert | None:
    """Raise an alert once: a second call with the same ``key`` returns None."""
    _in_transaction()
    at = at or timezone.now()
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
    return alert


def escalate(alert: Alert, *, at: datetime | None = None) -> Alert:
    """Tell the next rung of the ladder about an alert nobody acknowledged."""
    _in_transaction()
    at = at or timezone.now()
    ladder = alert.rule.escalation
    if alert.level >= len(ladder):
        alert.escalate_at = None
        alert.save(update_fields=["escalate_at"])
        return alert
    role = ladder[alert.level]
    alert.level += 1
    AlertAudience.objects.get_or_create(alert=alert, role=role, defaults={"level": alert.level})
    more = alert.level < len(ladder) and alert.rule.escalate_after
    alert.escalate_at = at + alert.rule.escalate_after if more else None
    alert.save(update_fields=["level", "escalate_at"])
    record(None, "alert.escalated", alert, data={"level": alert.level, "role": role})
    emit("alert.escalated", alert_id=alert.pk, level=alert.level)
    return alert


def _may_handle(actor: User, alert: Alert) -> None:
    from casecenter.supervision.selectors import visible_alerts

    if not visible_alerts(actor).filter(pk=alert.pk).exists():
        raise PermissionDenied(
            "alert.not_yours", "该提醒不是发给您的。", "This alert is not addressed to you."
        )


@transaction.atomic
def acknowledge_alert(actor: User, alert: Alert) -> Alert:
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    _may_handle(actor, alert)
    if alert.state != AlertState.OPEN:
        raise InvalidInput("alert.not_open", "该提醒已被处理。", "The alert is no longer open.")
    alert.state, alert.acknowledged_at, alert.acknowledged_by = (
        AlertState.ACKNOWLEDGED,
        timezone.now(),
        actor,
    )
    alert.escalate_at = None
    alert.save(update_fields=["state", "acknowledged_at", "acknowledged_by", "escalate_at"])
    record(actor, "alert.acknowledged", alert)
    emit("alert.acknowledged", alert_id=alert.pk)
    return alert


@transaction.atomic
def resolve_alert(actor: User, alert: Alert, *, resolution: str) -> Alert:
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    _may_handle(actor, alert)
    if alert.state == AlertState.RESOLVED:
        raise InvalidInput("alert.resolved", "该提醒已办结。", "The alert is already resolved.")
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
    return alert
