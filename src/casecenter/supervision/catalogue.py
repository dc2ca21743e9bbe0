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
    "custody.juvenile_room",
    "custody.lawyer_audio",
    "custody.vitals",
    "custody.strap",
    "juvenile.appropriate_adult",
}
#: the custody area's staff and commander hear of its rules (the center's alerts;
#: the case's own officers always do)
CUSTODY_AUDIENCE = [Role.CUSTODY_STAFF, Role.COMMANDER]
#: nobody at the center acknowledged: the case's own station's case-management group
CUSTODY_LADDER = [f"{Role.CASE_MANAGEMENT.value}@case"]
CUSTODY_RULES = (
    "custody.recording",
    "custody.separation",
    "custody.two_officers",
    "custody.juvenile_room",
    "custody.strap",
    "custody.lawyer_audio",
    "custody.vitals",
)
#: who is told first, by rule, where it is not the case's supervisors
AUDIENCES = {
    "custody.recording": CUSTODY_AUDIENCE,
    "custody.separation": CUSTODY_AUDIENCE,
    "custody.two_officers": CUSTODY_AUDIENCE,
    "custody.juvenile_room": CUSTODY_AUDIENCE,
    "custody.strap": CUSTODY_AUDIENCE,
    "custody.lawyer_audio": CUSTODY_AUDIENCE,
    "custody.vitals": [Role.MEDICAL, *CUSTODY_AUDIENCE],
    # the clocks of a partner organisation's own records: its own people
    "prosecution.review": [Role.PROSECUTOR],
    "fast_track.review": [Role.PROSECUTOR],
    "fast_track.trial": [Role.JUDGE],
    "legal_aid.assign": [Role.DUTY_LAWYER],
    "lawyer.meeting": [Role.DETENTION_STAFF],
    # whichever organisation's clock it is (the alert's scope picks who hears it)
    "exchange.receive": [
        Role.CASE_MANAGEMENT,
        Role.PROSECUTOR,
        Role.JUDGE,
        Role.DUTY_LAWYER,
        Role.DETENTION_STAFF,
    ],
    "fast_track.stage": [Role.CASE_MANAGEMENT, Role.PROSECUTOR, Role.JUDGE, Role.DUTY_LAWYER],
    # three-level response: the specialised units and legal affairs, then the commander
    "response.level1": [Role.SPECIALIST, Role.LEGAL_AFFAIRS],
    "response.level2": [Role.SPECIALIST, Role.LEGAL_AFFAIRS],
    "response.level3": [Role.SPECIALIST, Role.LEGAL_AFFAIRS],
    # an officer opened a case by break-glass: their station's case-management
    # group and the legal-affairs unit review it (cases.breakglass)
    "access.break_glass": [Role.CASE_MANAGEMENT, Role.LEGAL_AFFAIRS],
}
#: partner organisations have no case-management group or legal-affairs unit to
#: escalate to: their clocks' alerts stay with the people told first
PARTNER_CLOCKS = (
    "prosecution.review",
    "fast_track.review",
    "fast_track.trial",
    "legal_aid.assign",
    "lawyer.meeting",
)
LADDERS = {
    **{code: CUSTODY_LADDER for code in CUSTODY_RULES},
    **{code: [] for code in PARTNER_CLOCKS},
    "response.level1": [Role.COMMANDER],
    "response.level2": [Role.COMMANDER],
    "response.level3": [Role.COMMANDER],
}
#: the warning lead of rules without a period of their own (due moments set per clock)
WARN_BEFORE = {"fast_track.stage": timedelta(hours=2)}
#: local thresholds (adults at rest; a doctor of the center tunes them on /rules/)
PARAMS = {
    "custody.vitals": {
        "hr_min": 50,
        "hr_max": 120,
        "sys_min": 90,
        "sys_max": 160,
        "dia_min": 50,
        "dia_max": 100,
        "spo2_min": 92,
    },
    # hours after capture by which each stage of the 48-hour fast track is done
    "fast_track.stage": dict(law.fasttrack.DEFAULT_TARGETS),
}
SUPERVISORS = [Role.CASE_MANAGEMENT]
LADDER = [Role.CASE_MANAGEMENT, Role.LEGAL_AFFAIRS]


def default_warn_before(period: law.Period) -> timedelta:
    """Warn a quarter of the period ahead for hours (at most 2 h), a day ahead
    for day and working-day periods, a week ahead for months."""
    if period.unit == "hour":
        return min(timedelta(hours=period.length) / 4, timedelta(hours=2))
    if period.unit in ("day", "workday"):
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
        "audience": [str(r) for r in AUDIENCES.get(spec.code, SUPERVISORS)],
        "warn_before": default_warn_before(period) if period else WARN_BEFORE.get(spec.code),
        "escalate_after": timedelta(minutes=2 if critical else 30),
        "escalation": [str(r) for r in LADDERS.get(spec.code, LADDER)],
        "params": PARAMS.get(spec.code, {}),
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
