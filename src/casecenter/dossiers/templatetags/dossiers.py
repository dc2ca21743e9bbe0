"""The case page's "Dossier" card."""

from __future__ import annotations

from django import template

from casecenter.cases.models import Case
from casecenter.dossiers import selectors

register = template.Library()


@register.inclusion_tag("dossiers/_card.html")
def dossier_card(case: Case) -> dict:
    """How many documents, how many wait for review or came back, and what stops
    the case's next guarded step. Shown inside the case file, whose read is
    checked and audited already: no audit entry of its own."""
    return {"case": case, "summary": selectors.summary(case)}
