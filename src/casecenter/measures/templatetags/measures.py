"""The case page's "Coercive measures" card."""

from __future__ import annotations

from django import template

from casecenter.cases import access
from casecenter.cases.models import Case, CaseState
from casecenter.measures import selectors
from casecenter.measures.forms import EndMeasureForm, MomentForm, StartMeasureForm
from casecenter.measures.models import Measure

register = template.Library()


@register.inclusion_tag("measures/_measures.html", takes_context=True)
def measures_card(context: template.Context, case: Case) -> dict:
    """Measures with their moments; forms for the case's own officers."""
    request = context["request"]
    user = request.user
    may_act = user.is_police and case.state != CaseState.CLOSED and access.is_assigned(user, case)
    rows = []
    for measure in selectors.measures_of(case):
        to_record = selectors.open_moments(measure)
        in_force = measure.state == Measure.State.IN_FORCE
        rows.append(
            (
                measure,
                MomentForm(measure=measure, moments=to_record) if may_act and to_record else None,
                EndMeasureForm(measure=measure) if may_act and in_force else None,
            )
        )
    return {
        "case": case,
        "rows": rows,
        "start_form": StartMeasureForm(case=case) if may_act else None,
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def measure_moment(data: dict) -> str:
    """A timeline entry's measure and moment in words: "刑事拘留 · 已通知家属"."""
    from casecenter.measures.models import MeasureEvent, MeasureKind

    kind, moment = (data or {}).get("measure"), (data or {}).get("moment")
    parts = []
    if kind in MeasureKind.values:
        parts.append(str(MeasureKind(kind).label))
    if moment in MeasureEvent.Kind.values:
        parts.append(str(MeasureEvent.Kind(moment).label))
    return " · ".join(parts)
