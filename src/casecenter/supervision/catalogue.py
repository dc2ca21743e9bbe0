"""The supervision catalogue's local defaults, and keeping it in step with ``law.RULES``.

``law`` owns names, bases and statutory periods; this module owns what is local
practice: how severe, who is told, how early to warn, how to escalate.
"""

from __future__ import annotations

from datetime import timedelta

from casecenter import law
from casecenter.accounts.models import Role
from casecenter.supervision.models import Rule, Severity

CRITICAL = {
    "summons.criminal",
    "summons.admin",
    "detention.to_house",
    "detention.arrest_request",
    "arrest.decision",
    "investigation.custody",
    "admin_detention.release",
    "custody.recording",
    "custody.separation",
    "custody.two_officers",
    "juvenile.appropriate_adult",
}
SUPERVISORS = [Role.CASE_MANAGEMENT]
LADDER = [Role.CASE_MANAGEMENT, Role.LEGAL_AFFAIRS]


def default_warn_before(period: law.Period) -> timedelta:
    """Warn a quarter of the period ahead for hours (at most 2 h), a day ahead
    for day periods, a week ahead for months."""
    if period.unit == "hour":
        return min(timedelta(hours=period.length) / 4, timedelta(hours=2))
    if period.unit == "day":
        return timedelta(days=1)
    return timedelta(days=7)


def defaults_for(spec: law.RuleSpec) -> dict:
    period = spec.periods.get("default")
    critical = spec.code in CRITICAL
    return {
        "name_zh": spec.name_zh,
        "name_en": spec.name_en,
        "basis": spec.basis,
        "kind": spec.kind,
        "severity": Severity.CRITICAL if critical else Severity.WARNING,
        "audience": [str(r) for r in SUPERVISORS],
        "warn_before": default_warn_before(period) if period else None,
        "escalate_after": timedelta(minutes=2 if critical else 30),
        "escalation": [str(r) for r in LADDER],
    }


def sync_rules() -> int:
    """Create missing rules and refresh the law-owned fields of existing ones.

    Local settings (severity, audience, warning lead, escalation, policy period)
    are kept. Returns how many rules were created.
    """
    created = 0
    for spec in law.RULES.values():
        rule = Rule.objects.filter(code=spec.code).first()
        if rule is None:
            Rule.objects.create(code=spec.code, **defaults_for(spec))
            created += 1
        else:
            Rule.objects.filter(code=spec.code).update(
                name_zh=spec.name_zh, name_en=spec.name_en, basis=spec.basis, kind=spec.kind
            )
    return created
