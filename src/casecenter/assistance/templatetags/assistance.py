"""The case page's "Requests for help" card:
``{% load assistance %}{% assistance_card case %}``."""

from __future__ import annotations

from django import template
from django.utils import timezone

from casecenter.assistance import access, selectors
from casecenter.assistance.access import FINISHED_CASE_STATES
from casecenter.cases.models import Case

register = template.Library()


@register.inclusion_tag("assistance/_card.html", takes_context=True)
def assistance_card(context: template.Context, case: Case) -> dict:
    """The case's requests the viewer may see (level, unit, topic, state, time
    left — no question text, so no audit entry of its own), and the link to ask
    for the case's lead and assisting officers."""
    user = context["request"].user
    return {
        "case": case,
        "rows": selectors.case_requests(user, case),
        "may_ask": case.state not in FINISHED_CASE_STATES and access.may_ask(user, case),
        "now": timezone.now(),
    }
