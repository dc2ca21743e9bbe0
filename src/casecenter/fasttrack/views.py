"""UI of the fast track: the dashboard of tracks with their hours, one track's
stage-by-stage timeline (planned vs actual), and the police's steps."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casecenter import law
from casecenter.cases import access
from casecenter.cases import selectors as cases
from casecenter.dossiers import services as dossiers
from casecenter.exchange import selectors as exchange
from casecenter.exchange import sending
from casecenter.exchange.models import Package, PackageKind, PackageState
from casecenter.fasttrack import selectors, services
from casecenter.fasttrack.forms import AbandonForm, LegalAidForm, StartForm, SubmitForm
from casecenter.fasttrack.models import FastTrack, Stage
from casecenter.web.forms import get_object_or_404_domain, submit_form


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")[:10]
    board = selectors.dashboard(
        request.user, state=state if state in FastTrack.State.values else ""
    )
    return render(
        request,
        "fasttrack/dashboard.html",
        {"board": board, "state": state, "limit": law.fasttrack.TRACK_HOURS},
    )


def _police_steps(request: HttpRequest, track: FastTrack) -> dict:
    """The police's forms on the track's page, for those who may take them."""
    user, case = request.user, track.case
    if track.state != FastTrack.State.RUNNING or not user.is_police:
        return {}
    steps: dict = {}
    live = Package.objects.filter(
        fast_track=track, case=case, source_matter__isnull=True, state__in=sending.LIVE_STATES
    )
    if services.may_start(user, case) and not live.filter(kind=PackageKind.LEGAL_AID).exists():
        steps["legal_aid"] = LegalAidForm()
    if not live.filter(kind=PackageKind.FAST_TRACK).exists():
        steps["blocking"] = dossiers.blocking(case, "transfer_for_prosecution")
        if services.may_submit(user, case):
            steps["submit"] = SubmitForm()
    if access.may_read_personal(user, case):
        steps["abandon"] = AbandonForm()
    return steps


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    track = get_object_or_404_domain(selectors.read_track, request.user, pk)
    police = request.user.is_police
    matter = None if police else selectors.partner_matter(request.user, track)
    waiting = exchange.inbox(request.user).filter(fast_track=track, state=PackageState.SENT)
    return render(
        request,
        "fasttrack/detail.html",
        {
            "track": track,
            "timeline": selectors.timeline(track),
            "police": police and access.may_read_personal(request.user, track.case),
            "matter": matter,
            "waiting": waiting,
            "steps": _police_steps(request, track),
            "packages": exchange.visible_packages(request.user)
            .filter(fast_track=track)
            .select_related("sender", "receiver")
            .order_by("sent_at"),
            "limit": law.fasttrack.TRACK_HOURS,
            "now": timezone.now(),
        },
    )


@login_required
def stage(request: HttpRequest, pk: int) -> HttpResponse:
    """A stage's clock points here: its track's page."""
    found = get_object_or_404(Stage, pk=pk)
    return redirect(
        reverse("fasttrack-detail", args=[found.fast_track_id]) + f"#stage-{found.code}"
    )


def _track_of(request: HttpRequest, pk: int) -> FastTrack:
    return get_object_or_404_domain(selectors.get_track, request.user, pk)


@login_required
@require_POST
def start(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404_domain(cases.get_case, request.user, case_id)
    submit_form(
        request,
        StartForm(request.POST, case=case),
        lambda d: services.start(request.user, case, **d),
        _("Fast track started: the 48 hours count from the capture."),
    )
    track = FastTrack.objects.filter(case=case).first()
    if track is not None:
        return redirect("fasttrack-detail", track.pk)
    return redirect(reverse("case-detail", args=[case.pk]) + "#fast-track")


@login_required
@require_POST
def notify_legal_aid(request: HttpRequest, pk: int) -> HttpResponse:
    track = _track_of(request, pk)
    submit_form(
        request,
        LegalAidForm(request.POST),
        lambda d: services.notify_legal_aid(request.user, track, legal_aid=d["legal_aid"]),
        _("Legal aid notified: the notice was sent, signed."),
    )
    return redirect("fasttrack-detail", pk)


@login_required
@require_POST
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    track = _track_of(request, pk)
    submit_form(
        request,
        SubmitForm(request.POST),
        lambda d: services.submit(request.user, track, procuratorate=d["procuratorate"]),
        _("Submitted to the procuratorate: the case is transferred and the package sent."),
    )
    return redirect("fasttrack-detail", pk)


@login_required
@require_POST
def abandon(request: HttpRequest, pk: int) -> HttpResponse:
    track = _track_of(request, pk)
    submit_form(
        request,
        AbandonForm(request.POST),
        lambda d: services.abandon(request.user, track, reason=d["reason"]),
        _("The case moved to the ordinary procedure."),
    )
    return redirect("fasttrack-detail", pk)
