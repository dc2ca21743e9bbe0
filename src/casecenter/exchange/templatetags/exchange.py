"""The case page's "Hand-overs" card."""

from __future__ import annotations

from django import template

from casecenter.cases.models import Case
from casecenter.exchange import selectors, services
from casecenter.exchange.forms import SendForm
from casecenter.exchange.models import PackageKind

register = template.Library()


@register.inclusion_tag("exchange/_card.html", takes_context=True)
def exchange_card(context: template.Context, case: Case) -> dict:
    """The case's packages both ways, and the form to hand it over for those who
    may (inside the case file, whose read is checked and audited already)."""
    user = context["request"].user
    may_send = any(
        services.may_send_from_case(user, case, kind)
        for kind in (PackageKind.PROSECUTION_REVIEW, PackageKind.LEGAL_AID)
    )
    return {
        "case": case,
        "packages": selectors.case_packages(case),
        "form": SendForm() if may_send and case.kind == "criminal" else None,
        "csrf_token": context.get("csrf_token"),
    }
