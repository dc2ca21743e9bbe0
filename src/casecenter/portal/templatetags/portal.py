"""The case page's "Acceptance receipts" card."""

from __future__ import annotations

from django import template

from casecenter.cases import access
from casecenter.cases.models import Case
from casecenter.portal.services import RECEIVING_ROLES

register = template.Library()


@register.inclusion_tag("portal/_receipts.html", takes_context=True)
def receipts_card(context: template.Context, case: Case) -> dict:
    user = context["request"].user
    parties = [p for p in case.parties.select_related("person") if p.role in RECEIVING_ROLES]
    issued = {r.party_id: r for r in case.receipts.filter(revoked_at__isnull=True)}
    return {
        "case": case,
        "rows": [(p, issued.get(p.pk)) for p in parties],
        "may_issue": access.is_assigned(user, case) and not case.secret,
        "csrf_token": context.get("csrf_token"),
    }
