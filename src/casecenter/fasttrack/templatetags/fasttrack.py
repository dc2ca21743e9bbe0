"""The case page's "Fast track" card."""

from __future__ import annotations

from django import template

from casecenter.cases.models import Case
from casecenter.fasttrack import selectors, services
from casecenter.fasttrack.forms import StartForm

register = template.Library()


@register.inclusion_tag("fasttrack/_card.html", takes_context=True)
def fasttrack_card(context: template.Context, case: Case) -> dict:
    """The case's track at a glance, or the eligibility checklist to start one."""
    user = context["request"].user
    track = selectors.case_track(case)
    form = None
    if (
        track is None
        and case.kind == "criminal"
        and case.state in services.START_STATES
        and services.may_start(user, case)
    ):
        form = StartForm(case=case, auto_id="id_ft_%s")
    return {
        "case": case,
        "track": track,
        "timeline": selectors.timeline(track) if track else None,
        "form": form,
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def hours(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"
