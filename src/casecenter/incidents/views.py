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
from casecenter.incidents.forms import CloseForm, ConvertForm, IncidentForm, RevealForm
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


def _detail(
    request: HttpRequest, incident, *, reveal_form=None, revealed: str = "", status: int = 200
) -> HttpResponse:
    reporter = selectors.read_reporter(request.user, incident)
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            "reporter": reporter,
            "masked_phone": selectors.masked_phone(reporter),
            "revealed_phone": revealed,
            "may_reveal": bool(reporter and reporter.phone)
            and selectors.may_reveal_phone(request.user, incident),
            "reveal_form": reveal_form or RevealForm(),
            "convert_form": ConvertForm(initial={"category": incident.category}),
            "close_form": CloseForm(),
        },
        status=status,
    )


@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404_domain(selectors.get_incident, request.user, pk)
    return _detail(request, incident)


@login_required
@require_POST
def incident_reveal_phone(request: HttpRequest, pk: int) -> HttpResponse:
    """The reporter's full phone, once, for a stated purpose (an audited read):
    shown on this answer only, never kept in the page's link or the session."""
    incident = get_object_or_404_domain(selectors.get_incident, request.user, pk)
    form = RevealForm(request.POST)
    if not form.is_valid():
        return _detail(request, incident, reveal_form=form, status=400)
    try:
        phone = selectors.reveal_reporter_phone(
            request.user, incident, purpose=form.cleaned_data["purpose"]
        )
    except DomainError as exc:
        add_domain_error(form, exc)
        return _detail(request, incident, reveal_form=form, status=403)
    return _detail(request, incident, revealed=phone)


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
