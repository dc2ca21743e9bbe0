"""UI for cases: thin views that parse, call a service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casecenter.accounts.models import POLICE_ROLES, User
from casecenter.cases import access, breakglass, selectors, services
from casecenter.cases.forms import (
    AssignForm,
    BreakGlassForm,
    CaseForm,
    ContactForm,
    PartyForm,
    ReviewForm,
    TransitionForm,
)
from casecenter.cases.models import Case, CaseKind, CaseState, Category
from casecenter.errors import DomainError, PermissionDenied
from casecenter.web.forms import add_domain_error, get_object_or_404_domain, submit_form


def _colleagues(case: Case) -> list[tuple[int, str]]:
    org = case.organisation
    people = User.objects.filter(
        organisation_id__in=[org.pk, org.parent_id], is_active=True, role__in=POLICE_ROLES
    ).order_by("username")
    return [(u.pk, f"{u} ({u.get_role_display()})") for u in people]


@login_required
def case_list_view(request: HttpRequest) -> HttpResponse:
    f = {k: request.GET.get(k, "")[:100] for k in ("q", "state", "kind", "category")}
    mine = request.GET.get("mine") == "1"
    rows = selectors.case_list(request.user, assigned_to_me=mine, **f)
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    template = "cases/_rows.html" if request.htmx else "cases/list.html"
    return render(
        request,
        template,
        {
            "page": page,
            "filters": f,
            "mine": mine,
            "states": CaseState.choices,
            "kinds": CaseKind.choices,
            "categories": Category.choices,
        },
    )


@login_required
def case_new(request: HttpRequest) -> HttpResponse:
    form = CaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.accept_case(request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Case %(number)s accepted.") % {"number": case.number})
            return redirect("case-detail", pk=case.pk)
    return render(request, "cases/new.html", {"form": form})


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404_domain(selectors.get_case, request.user, pk)
    context: dict = {"case": case, "incident": getattr(case, "incident", None)}
    try:
        context["file"] = selectors.read_case_file(request.user, case)
    except PermissionDenied as exc:
        context["denied"] = exc.message
        context["break_glass_form"] = BreakGlassForm()
        return render(request, "cases/detail.html", context, status=403)
    colleagues = _colleagues(case)
    context.update(
        transitions=selectors.available_transitions(request.user, case),
        transition_form=TransitionForm(officer_choices=colleagues),
        officer_choices=colleagues,
        party_form=PartyForm(),
        assign_form=AssignForm(officer_choices=colleagues),
        may_assign=access.may_assign(request.user, case),
    )
    return render(request, "cases/detail.html", context)


@login_required
@require_POST
def case_transition(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404_domain(selectors.get_case, request.user, pk)
    form = TransitionForm(request.POST, officer_choices=_colleagues(case))
    submit_form(
        request,
        form,
        lambda d: services.transition_case(
            request.user,
            case,
            d["transition"],
            expected_version=d["version"],
            reason=d["reason"],
            officers=list(User.objects.filter(pk__in=d["officers"])),
        ),
        _("Case updated."),
    )
    return redirect("case-detail", pk=pk)


@login_required
@require_POST
def case_add_party(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404_domain(selectors.get_case, request.user, pk)
    submit_form(
        request,
        PartyForm(request.POST),
        lambda d: services.add_party(request.user, case, **d),
        _("Person added."),
    )
    return redirect("case-detail", pk=pk)


@login_required
@require_POST
def case_assign(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404_domain(selectors.get_case, request.user, pk)
    submit_form(
        request,
        AssignForm(request.POST, officer_choices=_colleagues(case)),
        lambda d: services.assign_officer(
            request.user, case, User.objects.get(pk=d["user"]), d["role"]
        ),
        _("Officer assigned."),
    )
    return redirect("case-detail", pk=pk)


@login_required
@require_POST
def case_break_glass(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404_domain(selectors.get_case, request.user, pk)
    submit_form(
        request,
        BreakGlassForm(request.POST),
        lambda d: breakglass.break_glass(request.user, case, reason=d["reason"]),
        _("Access granted for a few hours; it is recorded and your supervisors are told."),
    )
    return redirect("case-detail", pk=pk)


@login_required
@require_POST
def case_party_contact(request: HttpRequest, pk: int, party_id: int) -> HttpResponse:
    """Change a party's phone and e-mail (this case's own record of them)."""
    case = get_object_or_404_domain(selectors.get_case, request.user, pk)
    party = case.parties.filter(pk=party_id).first()
    if party is None:
        raise Http404
    submit_form(
        request,
        ContactForm(request.POST),
        lambda d: services.change_party_contact(
            request.user, party, phone=d["phone"], email=d["email"]
        ),
        _("Contact changed."),
    )
    return redirect("case-detail", pk=pk)


@login_required
def break_glass_list(request: HttpRequest) -> HttpResponse:
    """The break-glass grants to review (the supervisors' page)."""
    if not breakglass.may_review(request.user):
        raise DjangoPermissionDenied
    state = request.GET.get("state", "pending")
    if state not in ("pending", "reviewed", ""):
        state = "pending"
    rows = breakglass.grants_to_review(request.user, state=state)
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/break_glass_list.html",
        {"page": page, "state": state, "filters": {"state": state}},
    )


@login_required
def break_glass_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One grant: who, which case, why, until when, and the reads made under it."""
    grant = get_object_or_404_domain(breakglass.get_grant, request.user, pk)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            breakglass.review_grant(request.user, grant, note=form.cleaned_data["note"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Marked as reviewed."))
            return redirect("break-glass-detail", pk=pk)
    return render(
        request,
        "cases/break_glass_detail.html",
        {"grant": grant, "reads": breakglass.reads_under(grant)[:500], "form": form},
    )
