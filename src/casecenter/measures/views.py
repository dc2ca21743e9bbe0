"""UI for coercive measures: the forms of the case page's "Coercive measures" card."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casecenter.accounts.models import User
from casecenter.cases import selectors as cases
from casecenter.measures import selectors, services
from casecenter.measures.forms import EndMeasureForm, MomentForm, StartMeasureForm
from casecenter.web.forms import get_object_or_404_domain, submit_form


def _to_card(case_id: int) -> HttpResponse:
    return redirect(reverse("case-detail", args=[case_id]) + "#measures")


@login_required
@require_POST
def measure_start(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404_domain(cases.get_case, request.user, pk)
    form = StartMeasureForm(request.POST, case=case)

    def start(data: dict) -> None:
        services.start_measure(
            request.user,
            case,
            case.parties.get(pk=data["party"]),
            data["kind"],
            started_at=data["started_at"],
            officers=list(User.objects.filter(pk__in=data["officers"])),
            designated_residence=data.get("designated_residence", False),
            term_days=data.get("term_days"),
            variant=data["variant"],
        )

    submit_form(request, form, start, _("Coercive measure recorded; its clocks are running."))
    return _to_card(case.pk)


@login_required
@require_POST
def measure_moment(request: HttpRequest, pk: int) -> HttpResponse:
    measure = get_object_or_404_domain(selectors.get_measure, request.user, pk)
    form = MomentForm(request.POST, measure=measure)
    submit_form(
        request,
        form,
        lambda data: services.record_moment(
            request.user, measure, data["moment"], at=data["at"], note=data["note"]
        ),
        _("Moment recorded."),
    )
    return _to_card(measure.case_id)


@login_required
@require_POST
def measure_end(request: HttpRequest, pk: int) -> HttpResponse:
    measure = get_object_or_404_domain(selectors.get_measure, request.user, pk)
    form = EndMeasureForm(request.POST, measure=measure)
    submit_form(
        request,
        form,
        lambda data: services.end_measure(
            request.user, measure, at=data["at"], reason=data["reason"]
        ),
        _("Measure ended; its clocks are closed."),
    )
    return _to_card(measure.case_id)
