"""UI for supervision: alerts, the deadline review, the rule catalogue, the live stream."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from casecenter import law
from casecenter.accounts.models import POLICE_ROLES, User
from casecenter.errors import DomainError
from casecenter.supervision import live, selectors, services, subjects
from casecenter.supervision.forms import (
    ALERT_GROUPING,
    ALERT_SORTS,
    ALERT_STATES,
    AcknowledgeForm,
    AlertFilterForm,
    BulkAcknowledgeForm,
    ExtendForm,
    ResolveForm,
    RuleForm,
    in_english,
    variant_choices,
)
from casecenter.supervision.models import AlertState, Rule, Severity
from casecenter.web.forms import add_domain_error, get_object_or_404_domain, run_service

#: The rules that run clocks (the review's rule filter offers these).
CLOCKED_RULES = [code for code, spec in law.RULES.items() if spec.clocked]


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    """To the page the form was on (a local URL only), else ``fallback``."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect(fallback)


def _number(value: str | None) -> int:
    """An id from a query or header: 1 to 15 ASCII digits, anything else is 0."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 15 else 0


#: alerts (or groups of repeats) on one page of the list
ALERTS_PER_PAGE = 25


@login_required
def alert_list_view(request: HttpRequest) -> HttpResponse:
    """The user's alerts: filtered, in the chosen order, repeats of one rule on
    one subject grouped (by default), acknowledged many at once with one reason."""
    query = AlertFilterForm(request.GET)
    criteria, sort, user = query.criteria(), query.order(), request.user
    if query.grouped():
        groups = selectors.alert_groups(user, sort=sort, **criteria)
        page = Paginator(groups, ALERTS_PER_PAGE).get_page(request.GET.get("page"))
        rows = selectors.group_rows(user, page.object_list, **criteria)
    else:
        alerts = selectors.alert_list(user, sort=sort, **criteria).select_related(
            "deadline", "acknowledged_by", "resolved_by"
        )
        page = Paginator(alerts, ALERTS_PER_PAGE).get_page(request.GET.get("page"))
        rows = [selectors.AlertGroup(a, 1, int(a.state == AlertState.OPEN), a.pk) for a in page]
    rules, organisations = selectors.alert_filter_choices(user)
    return render(
        request,
        "supervision/alerts.html",
        {
            "page": page,
            "rows": rows,
            "page_has_open": any(row.open_count for row in rows),
            "grouped": query.grouped(),
            "filters": query.values(),
            "states": ALERT_STATES,
            "severities": Severity.choices,
            "sorts": ALERT_SORTS,
            "groupings": ALERT_GROUPING,
            "rules": rules,
            "organisations": organisations,
            "bulk_limit": services.BULK_LIMIT,
        },
    )


@login_required
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404_domain(selectors.get_alert, request.user, pk)
    return render(request, "supervision/alert.html", {"alert": alert})


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404_domain(selectors.get_alert, request.user, pk)
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        run_service(
            request,
            lambda: services.acknowledge_alert(request.user, alert, note=form.cleaned_data["note"]),
            _("Alert acknowledged."),
        )
    else:
        messages.error(request, _("The note is too long (at most 2,000 characters)."))
    return _back(request, reverse("alert-detail", args=[alert.pk]))


@login_required
@require_POST
def alert_acknowledge_many(request: HttpRequest) -> HttpResponse:
    """Acknowledge the chosen alerts, and every open alert of the chosen groups
    (among those the list's filters show), with one reason: all or none."""
    form = BulkAcknowledgeForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(request, reverse("alert-list"))
    user, data = request.user, form.cleaned_data
    ids = set(data["ids"])
    if data["groups"]:
        criteria = AlertFilterForm(request.POST).criteria()
        ids.update(
            selectors.open_ids_of_groups(
                user, data["groups"], limit=services.BULK_LIMIT + 1, **criteria
            )
        )
    try:
        done = services.acknowledge_alerts(user, ids, note=data["note"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            ngettext("%(count)d alert acknowledged.", "%(count)d alerts acknowledged.", len(done))
            % {"count": len(done)},
        )
    return _back(request, reverse("alert-list"))


@login_required
@require_POST
def alert_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404_domain(selectors.get_alert, request.user, pk)
    form = ResolveForm(request.POST)
    if form.is_valid():
        run_service(
            request,
            lambda: services.resolve_alert(
                request.user, alert, resolution=form.cleaned_data["resolution"]
            ),
            _("Alert resolved."),
        )
    else:
        messages.error(request, _("Say how the alert was resolved."))
    return _back(request, reverse("alert-detail", args=[alert.pk]))


def _officers_in_scope(user: User) -> list[User]:
    """The officers of the user's organisation and of the stations below it."""
    scope = Q(organisation_id=user.organisation_id) | Q(
        organisation__parent_id=user.organisation_id
    )
    return list(
        User.objects.filter(scope, is_active=True, role__in=POLICE_ROLES).order_by("username")
    )


@login_required
def deadline_review_view(request: HttpRequest) -> HttpResponse:
    f = {k: request.GET.get(k, "")[:60] for k in ("officer", "rule", "case")}
    officer = _number(f["officer"]) or None
    rows = selectors.open_clocks(request.user, officer=officer, rule=f["rule"], case=f["case"])
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    page.object_list = selectors.audit_review(request.user, page.object_list, via="page")
    template = "supervision/_review_rows.html" if request.htmx else "supervision/review.html"
    return render(
        request,
        template,
        {
            "page": page,
            "filters": f,
            "now": timezone.now(),
            "officers": _officers_in_scope(request.user) if request.user.organisation_id else [],
            "rules": Rule.objects.filter(code__in=CLOCKED_RULES),
        },
    )


@login_required
@require_POST
def deadline_extend(request: HttpRequest, pk: int) -> HttpResponse:
    deadline = get_object_or_404_domain(selectors.get_deadline, request.user, pk)
    form = ExtendForm(request.POST, variant_choices=variant_choices(deadline.rule_id))
    if form.is_valid():
        run_service(
            request,
            lambda: services.extend_deadline(request.user, deadline, **form.cleaned_data),
            _("Deadline extended; the clock was counted again."),
        )
    else:
        messages.error(request, _("Choose the new period and give the reason."))
    return _back(request, subjects.page(deadline) or reverse("deadline-review"))


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "supervision/rules.html",
        {"rules": Rule.objects.all(), "may_tune": services.may_tune_rules(request.user)},
    )


@login_required
def rule_edit(request: HttpRequest, code: str) -> HttpResponse:
    if not services.may_tune_rules(request.user):
        raise DjangoPermissionDenied(_("Only an administrator tunes rules."))
    rule = Rule.objects.filter(code=code).first()
    if rule is None:
        raise Http404(code)
    form = RuleForm(request.POST or None, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            services.tune_rule(request.user, rule, **form.changes())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Rule %(code)s saved.") % {"code": rule.code})
            return redirect("rule-list")
    return render(request, "supervision/rule_edit.html", {"rule": rule, "form": form})


def events(request: HttpRequest) -> HttpResponse:
    """The live stream of the user's new alerts (Server-Sent Events, see ``live``)."""
    user = request.user
    if not user.is_authenticated or not user.receives_alerts:
        return HttpResponse(status=403 if user.is_authenticated else 401)
    header, query = request.headers.get("Last-Event-ID"), request.GET.get("after")
    if header is None and query is None:
        after = live.latest_alert_id()  # a fresh page: only what comes from now on
    else:
        after = max(_number(header), _number(query))
    # under an ASGI server (casecenter serve) the stream must be asynchronous
    events = live.alert_events_async if isinstance(request, ASGIRequest) else live.alert_events
    response = StreamingHttpResponse(
        events(user, after=after, english=in_english()),
        content_type="text/event-stream; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
