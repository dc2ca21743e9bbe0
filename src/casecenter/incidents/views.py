"""UI for incidents: thin views that parse, call a service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casecenter.cases.models import Category
from casecenter.errors import DomainError
from casecenter.incidents import selectors, services
from casecenter.incidents.forms import CloseForm, ConvertForm, IncidentForm
from casecenter.incidents.models import Channel, IncidentState
from casecenter.web.forms import add_domain_error, get_object_or_404_domain


@login_required
def incident_list_view(request: HttpRequest) -> HttpResponse:
    f = {k: request.GET.get(k, "")[:100] for k in ("q", "state", "channel", "category")}
    rows = selectors.incident_list(request.user, **f).select_related("reporter")
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    template = "incidents/_rows.html" if request.htmx else "incidents/list.html"
    return render(
        request,
        template,
        {
            "page": page,
            "filters": f,
            "states": IncidentState.choices,
            "channels": Channel.choices,
            "categories": Category.choices,
        },
    )


@login_required
def incident_new(request: HttpRequest) -> HttpResponse:
    form = IncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.register_incident(request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, _("Incident %(number)s registered.") % {"number": incident.number}
            )
            return redirect("incident-detail", pk=incident.pk)
    return render(request, "incidents/new.html", {"form": form})


@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404_domain(selectors.get_incident, request.user, pk)
    reporter = selectors.read_reporter(request.user, incident)
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            "reporter": reporter,
            "convert_form": ConvertForm(initial={"category": incident.category}),
            "close_form": CloseForm(),
        },
    )


@login_required
@require_POST
def incident_convert(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404_domain(selectors.get_incident, request.user, pk)
    form = ConvertForm(request.POST)
    if form.is_valid():
        try:
            case = services.convert_to_case(request.user, incident, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Case %(number)s accepted.") % {"number": case.number})
            return redirect("case-detail", pk=case.pk)
    else:
        messages.error(request, _("Please correct the form."))
    return redirect("incident-detail", pk=pk)


@login_required
@require_POST
def incident_close(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404_domain(selectors.get_incident, request.user, pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            services.close_incident(request.user, incident, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Incident closed."))
    else:
        messages.error(request, _("Please state how it was dealt with."))
    return redirect("incident-detail", pk=pk)
