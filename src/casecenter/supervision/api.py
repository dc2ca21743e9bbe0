"""API: alerts (read, acknowledge, resolve), the deadline review, the rule catalogue."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from casecenter import law
from casecenter.accounts.models import ALERTED_ROLES, Role
from casecenter.errors import NotFound
from casecenter.schema import Choice, Id, Limit, Offset, Text
from casecenter.supervision import selectors, services
from casecenter.supervision.forms import in_english, in_minutes
from casecenter.supervision.models import Alert, Deadline, Rule

router = Router(tags=["supervision"])

Minutes = Annotated[int, Field(ge=0, le=366 * 24 * 60)]
#: the roles a rule's alerts may go to
AUDIENCE = [role for role in Role if role in ALERTED_ROLES]
#: every period variant of the rules (which ones a clock has: its ``variants``)
VARIANTS = sorted({variant for spec in law.RULES.values() for variant in spec.periods})


def local(obj: object, field: str) -> str:
    """``obj.<field>_zh`` or ``obj.<field>_en``, in the language of the request."""
    return getattr(obj, f"{field}_{'en' if in_english() else 'zh'}")


class PeriodOut(Schema):
    variant: str
    length: int
    unit: str
    text_zh: str
    text_en: str
    description: str


class RuleOut(Schema):
    code: str
    name: str
    name_zh: str
    name_en: str
    basis: str
    kind: str
    trigger: str
    in_custody: bool
    severity: str
    audience: list[str]
    warn_before_minutes: int | None
    escalate_after_minutes: int | None
    escalation: list[str]
    enabled: bool
    periods: list[PeriodOut]
    policy_period: PeriodOut | None


class RulePatch(Schema):
    warn_before_minutes: Minutes | None = None
    escalate_after_minutes: Minutes | None = None
    severity: Literal["info", "warning", "critical"] | None = None
    audience: Annotated[list[Choice(AUDIENCE, 30)], Field(max_length=10)] | None = None
    enabled: bool | None = None
    policy_length: Annotated[int, Field(ge=1, le=10_000)] | None = None
    policy_unit: law.Unit | None = None


class DeadlineOut(Schema):
    id: int
    rule: str
    name: str
    basis: str
    case_id: int | None
    case_number: str | None
    organisation_id: int
    subject: str
    reference: str = Field(description="the case number, or the number of the record it is about")
    party_id: int | None
    person: str | None
    measure_id: int | None
    variant: str
    state: str
    trigger_at: datetime
    warn_at: datetime
    due_at: datetime
    seconds_left: int
    closed_at: datetime | None
    computation_zh: str
    computation_en: str
    variants: list[str]


class DeadlineFilter(Schema):
    officer: Id | None = None
    rule: Text(60) = ""
    case: Text(40) = ""
    limit: Limit = 50
    offset: Offset = 0


class ExtendIn(Schema):
    variant: Choice(VARIANTS, 30)
    reason: Text(2000, 1)


class AlertOut(Schema):
    id: int
    rule: str
    rule_name: str
    basis: str
    kind: str
    severity: str
    state: str
    level: int
    case_id: int | None
    case_number: str | None
    deadline_id: int | None
    organisation_id: int
    subject: str = Field(description='the record it is about, "kind:id" (what repeats group by)')
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledgement: str = Field(description="what was said when it was acknowledged")
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str
    title: str
    title_zh: str
    title_en: str
    explanation: str
    explanation_zh: str
    explanation_en: str
    computation_zh: str
    computation_en: str
    facts: dict
    count: int | None = Field(
        None, description="grouped list: how many alerts the group has (this is its newest)"
    )
    open_count: int | None = Field(None, description="grouped list: how many of them are open")


class AlertFilter(Schema):
    state: Literal["", "open", "acknowledged", "resolved", "active"] = Field(
        "", description='"active": not resolved; "": every state'
    )
    rule: Text(60) = Field("", description="a rule's code")
    severity: Literal["", "info", "warning", "critical"] = ""
    case: Text(40) = Field("", description="part of the case number (or the record's number)")
    organisation: Id | None = Field(None, description="the organisation it is filed under")
    subject: Text(60) = Field("", description='the record it is about, "kind:id"')
    sort: Literal["newest", "oldest", "severity", "rule"] = Field(
        "newest", description="newest, oldest, severity (critical first, then newest), rule"
    )
    group: bool = Field(
        False,
        description="one row per rule and subject: its newest alert, with count and open_count",
    )
    limit: Limit = 50
    offset: Offset = 0


class AcknowledgeIn(Schema):
    note: Text(2000) = ""


class BulkAcknowledgeIn(Schema):
    ids: Annotated[list[Id], Field(min_length=1, max_length=services.BULK_LIMIT)]
    note: Text(2000, 1)


class ResolveIn(Schema):
    resolution: Text(2000, 1)


def _period_out(variant: str, period: law.Period, description: str = "") -> dict:
    return {
        "variant": variant,
        "length": period.length,
        "unit": period.unit,
        "text_zh": period.describe_zh(),
        "text_en": period.describe_en(),
        "description": description,
    }


def rule_out(rule: Rule) -> dict:
    spec = law.RULES.get(rule.code) or law.RuleSpec(
        rule.code, rule.name_zh, rule.name_en, rule.basis, "policy", ""
    )  # a rule the law package no longer lists: shown, without periods
    tuned = services.tuned_period(rule)
    return {
        "code": rule.code,
        "name": local(rule, "name"),
        "name_zh": rule.name_zh,
        "name_en": rule.name_en,
        "basis": rule.basis,
        "kind": rule.kind,
        "trigger": spec.trigger_en,
        "in_custody": spec.in_custody,
        "severity": rule.severity,
        "audience": list(rule.audience),
        "warn_before_minutes": in_minutes(rule.warn_before),
        "escalate_after_minutes": in_minutes(rule.escalate_after),
        "escalation": list(rule.escalation),
        "enabled": rule.enabled,
        "periods": [_period_out(v, p, spec.variant_en.get(v, "")) for v, p in spec.periods.items()],
        "policy_period": _period_out("default", tuned, "tuned locally") if tuned else None,
    }


def deadline_out(deadline: Deadline) -> dict:
    comp = deadline.computation or {}
    spec = law.RULES.get(deadline.rule_id)
    return {
        "id": deadline.pk,
        "rule": deadline.rule_id,
        "name": local(deadline.rule, "name"),
        "basis": deadline.rule.basis,
        "case_id": deadline.case_id,
        "case_number": deadline.case.number if deadline.case_id else None,
        "organisation_id": deadline.organisation_id,
        "subject": deadline.subject,
        "reference": deadline.shown_reference,
        "party_id": deadline.party_id,
        "person": deadline.party.person.name if deadline.party_id else None,
        "measure_id": deadline.measure_id,
        "variant": deadline.variant,
        "state": deadline.state,
        "trigger_at": deadline.trigger_at,
        "warn_at": deadline.warn_at,
        "due_at": deadline.due_at,
        "seconds_left": int((deadline.due_at - timezone.now()).total_seconds()),
        "closed_at": deadline.closed_at,
        "computation_zh": comp.get("zh", ""),
        "computation_en": comp.get("en", ""),
        "variants": list(spec.periods) if spec else [],
    }


def alert_out(alert: Alert) -> dict:
    comp = alert.deadline.computation if alert.deadline_id else {}
    return {
        "id": alert.pk,
        "rule": alert.rule_id,
        "rule_name": local(alert.rule, "name"),
        "basis": alert.rule.basis,
        "kind": alert.kind,
        "severity": alert.severity,
        "state": alert.state,
        "level": alert.level,
        "case_id": alert.case_id,
        "case_number": alert.case.number if alert.case_id else None,
        "deadline_id": alert.deadline_id,
        "organisation_id": alert.organisation_id,
        "subject": alert.subject,
        "raised_at": alert.raised_at,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by": str(alert.acknowledged_by) if alert.acknowledged_by_id else None,
        "acknowledgement": alert.acknowledgement,
        "resolved_at": alert.resolved_at,
        "resolved_by": str(alert.resolved_by) if alert.resolved_by_id else None,
        "resolution": alert.resolution,
        "title": local(alert, "title"),
        "title_zh": alert.title_zh,
        "title_en": alert.title_en,
        "explanation": local(alert, "explanation"),
        "explanation_zh": alert.explanation_zh,
        "explanation_en": alert.explanation_en,
        "computation_zh": comp.get("zh", ""),
        "computation_en": comp.get("en", ""),
        "facts": alert.facts,
    }


def _rule(code: str) -> Rule:
    rule = Rule.objects.filter(code=code).first()
    if rule is None:
        raise NotFound("rule.not_found", "规则不存在。", "No such rule.")
    return rule


#: what an alert's output reads besides the alert itself
_ALERT_RELATED = ("rule", "case", "deadline", "acknowledged_by", "resolved_by")


@router.get("/alerts", response=list[AlertOut])
def list_alerts(request: HttpRequest, filters: Query[AlertFilter]):
    """Alerts addressed to you, filtered and sorted (newest first by default).
    With ``group=true`` one row per rule and subject — the newest alert of the
    repeats, with ``count`` and ``open_count`` — paged by group."""
    criteria = filters.dict(exclude={"sort", "group", "limit", "offset"})
    window = slice(filters.offset, filters.offset + filters.limit)
    if filters.group:
        groups = selectors.alert_groups(request.auth, sort=filters.sort, **criteria)[window]
        return [
            alert_out(g.alert) | {"count": g.count, "open_count": g.open_count}
            for g in selectors.group_rows(request.auth, groups, **criteria)
        ]
    rows = selectors.alert_list(request.auth, sort=filters.sort, **criteria)
    return [alert_out(a) for a in rows.select_related(*_ALERT_RELATED)[window]]


@router.post("/alerts/acknowledge", response=list[AlertOut])
def acknowledge_many(request: HttpRequest, payload: BulkAcknowledgeIn):
    """Acknowledge many alerts at once with one reason (an alert flood): all or
    none. An id not addressed to you refuses the whole request (403
    ``alert.not_yours``), so does an alert no longer open (409 ``alert.not_open``)."""
    done = services.acknowledge_alerts(request.auth, payload.ids, note=payload.note)
    rows = selectors.alert_list(request.auth).filter(pk__in=[a.pk for a in done])
    return [alert_out(a) for a in rows.select_related(*_ALERT_RELATED).order_by("pk")]


@router.get("/alerts/{alert_id}", response=AlertOut)
def read_alert(request: HttpRequest, alert_id: Id):
    """One alert with its explanation: rule, facts, article, the computation of the time."""
    return alert_out(selectors.get_alert(request.auth, alert_id))


@router.post("/alerts/{alert_id}/acknowledge", response=AlertOut)
def acknowledge(request: HttpRequest, alert_id: Id, payload: AcknowledgeIn | None = None):
    """Say you have seen it (``note``: what you do about it, optional): escalation stops."""
    alert = selectors.get_alert(request.auth, alert_id)
    services.acknowledge_alert(request.auth, alert, note=payload.note if payload else "")
    return alert_out(selectors.get_alert(request.auth, alert_id))


@router.post("/alerts/{alert_id}/resolve", response=AlertOut)
def resolve(request: HttpRequest, alert_id: Id, payload: ResolveIn):
    """Close the alert, saying how it was resolved."""
    alert = selectors.get_alert(request.auth, alert_id)
    services.resolve_alert(request.auth, alert, resolution=payload.resolution)
    return alert_out(selectors.get_alert(request.auth, alert_id))


@router.get("/deadlines", response=list[DeadlineOut])
def review(request: HttpRequest, filters: Query[DeadlineFilter]):
    """The multi-person multi-case review (F6.3): every open clock you work or
    supervise, breached first, then by due time."""
    rows = selectors.open_clocks(
        request.auth, officer=filters.officer, rule=filters.rule, case=filters.case
    )
    shown = rows[filters.offset : filters.offset + filters.limit]
    return [deadline_out(d) for d in selectors.audit_review(request.auth, shown, via="api")]


@router.post("/deadlines/{deadline_id}/extend", response=DeadlineOut)
def extend(request: HttpRequest, deadline_id: Id, payload: ExtendIn):
    """Record an approved extension (legal-affairs unit): the clock is counted
    again from its trigger under the longer period ``variant``."""
    deadline = selectors.get_deadline(request.auth, deadline_id)
    services.extend_deadline(request.auth, deadline, variant=payload.variant, reason=payload.reason)
    return deadline_out(selectors.get_deadline(request.auth, deadline_id))


@router.get("/rules", response=list[RuleOut])
def catalogue(request: HttpRequest):
    """The rule catalogue (F6.1): legal basis, statute or policy, periods and
    their variants, severity, audience, warning lead and escalation."""
    return [rule_out(r) for r in Rule.objects.all()]


@router.get("/rules/{code}", response=RuleOut)
def read_rule(request: HttpRequest, code: Text(60, 1)):
    return rule_out(_rule(code))


@router.patch("/rules/{code}", response=RuleOut)
def tune(request: HttpRequest, code: Text(60, 1), payload: RulePatch):
    """An administrator tunes a rule; a statutory period is refused (422)."""
    changes = payload.dict(exclude_unset=True)
    for name in ("warn_before", "escalate_after"):
        if f"{name}_minutes" in changes:
            minutes = changes.pop(f"{name}_minutes")
            changes[name] = None if minutes is None else timedelta(minutes=minutes)
    rule = services.tune_rule(request.auth, _rule(code), **changes)
    return rule_out(rule)
