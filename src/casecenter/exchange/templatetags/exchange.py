"""The case page's "Hand-overs" card."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

from casecenter.cases.models import Case
from casecenter.exchange import selectors, sending
from casecenter.exchange.forms import SendForm
from casecenter.exchange.models import PackageKind

register = template.Library()


@register.inclusion_tag("exchange/_card.html", takes_context=True)
def exchange_card(context: template.Context, case: Case) -> dict:
    """The case's packages both ways, and the form to hand it over for those who
    may (inside the case file, whose read is checked and audited already)."""
    user = context["request"].user
    may_send = any(
        sending.may_send_from_case(user, case, kind)
        for kind in (PackageKind.PROSECUTION_REVIEW, PackageKind.LEGAL_AID)
    )
    return {
        "case": case,
        "packages": selectors.case_packages(case),
        "form": SendForm() if may_send and case.kind == "criminal" else None,
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def moment(value: str) -> str:
    """A moment kept as ISO text (a matter's details) in local time: 2026-03-31 21:40."""
    try:
        at = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return ""
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M") if at.tzinfo else ""


@register.filter
def get_item(mapping: dict, key: str):  # type: ignore[no-untyped-def]
    return mapping.get(key)


@register.filter
def party_role(value: str) -> str:
    """A person's role in a case, as its label (the manifest keeps the code)."""
    from casecenter.cases.models import PartyRole

    return str(PartyRole(value).label) if value in PartyRole.values else value


@register.filter
def document_kind(value: str) -> str:
    """A document kind, as its label (the manifest keeps the code)."""
    from casecenter.dossiers.models import DocumentKind

    return str(DocumentKind(value).label) if value in DocumentKind.values else value
