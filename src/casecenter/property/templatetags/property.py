"""The case page's "Seized property" card."""

from __future__ import annotations

from django import template

from casecenter.cases import access
from casecenter.cases.models import Case, CaseState
from casecenter.property import selectors
from casecenter.property.forms import RegisterItemForm

register = template.Library()


@register.inclusion_tag("property/_case_items.html", takes_context=True)
def property_card(context: template.Context, case: Case) -> dict:
    """The case's items, where each is now; the seizure form for its own officers.

    Shown inside the case file, whose read is already checked and audited: the
    owners' names appear as the people card shows them.
    """
    request = context["request"]
    user = request.user
    may_register = (
        user.is_police and case.state != CaseState.CLOSED and access.is_assigned(user, case)
    )
    return {
        "case": case,
        "items": selectors.items_of(case),
        "form": RegisterItemForm(case=case) if may_register else None,
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
