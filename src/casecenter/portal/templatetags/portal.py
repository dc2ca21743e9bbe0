"""The case page's portal cards: receipts, the public preview, messages and ratings."""

from __future__ import annotations

from django import template

from casecenter.cases import access
from casecenter.cases.models import Case
from casecenter.portal.selectors import case_feedback, public_case
from casecenter.portal.services import RECEIVING_ROLES, may_answer

register = template.Library()


@register.filter
def stars_for(rated: dict[str, int] | None, key: str) -> int | None:
    """The stars a party gave one milestone, if any."""
    return (rated or {}).get(key)


@register.inclusion_tag("portal/_receipts.html", takes_context=True)
def receipts_card(context: template.Context, case: Case) -> dict:
    user = context["request"].user
    parties = [p for p in case.parties.select_related("person") if p.role in RECEIVING_ROLES]
    issued = {
        r.party_id: r
        for r in case.receipts.filter(revoked_at__isnull=True).prefetch_related("notifications")
    }
    return {
        "case": case,
        "rows": [(p, issued.get(p.pk)) for p in parties],
        "may_issue": access.is_assigned(user, case) and not case.secret,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("portal/_preview.html")
def public_preview(case: Case) -> dict:
    """Exactly what the public sees of the case (nothing, for a secret case)."""
    return {"case": case, "c": None if case.secret else public_case(case)}


@register.inclusion_tag("portal/_feedback_card.html", takes_context=True)
def feedback_card(context: template.Context, case: Case) -> dict:
    user = context["request"].user
    return {
        "case": case,
        "feedback": case_feedback(user, case),
        "may_answer": may_answer(user, case),
        "csrf_token": context.get("csrf_token"),
    }
