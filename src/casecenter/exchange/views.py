"""UI of the exchange: an organisation's inbox and outbox, a package with its
verified manifest, a partner's matters and their steps, checking a zip.

Views parse, call a service or selector, render; what a viewer may do is the
services' to decide (the page offers it after ``may_receive``/``may_work``).
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casecenter.accounts.models import User
from casecenter.audit.services import record
from casecenter.cases import selectors as cases
from casecenter.errors import Conflict, DomainError
from casecenter.exchange import keys, manifest, packaging, selectors, sending, services, steps
from casecenter.exchange.forms import (
    HearingForm,
    IndictForm,
    JudgmentForm,
    LawyerForm,
    MeetingForm,
    OutcomeForm,
    ReasonsForm,
    RevealForm,
    SendForm,
    VerifyFileForm,
)
from casecenter.exchange.models import MatterKind, Package, PackageState
from casecenter.fasttrack import progress
from casecenter.web.forms import get_object_or_404_domain, run_service, submit_form


def zip_response(user: User, package: Package) -> FileResponse:
    """The package's zip, written to a temporary file and streamed; audited.
    A package whose files no longer match its manifest is not exported."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the response when sent
    try:
        packaging.write_zip(package, spool)
    except ValueError as exc:
        spool.close()
        raise Conflict(
            "package.changed",
            "移交材料已被改动，不能导出：" + str(exc),
            f"The package changed since it was signed and is not exported: {exc}",
        ) from None
    with transaction.atomic():
        record(user, "exchange.package_exported", package, data={"number": package.number})
    spool.seek(0)
    return FileResponse(
        spool, as_attachment=True, filename=f"{package.number}.zip", content_type="application/zip"
    )


@login_required
def hub(request: HttpRequest) -> HttpResponse:
    """The organisation's inbox, outbox and (a partner's) matters."""
    user = request.user
    return render(
        request,
        "exchange/hub.html",
        {
            "inbox": selectors.inbox(user)[:100],
            "outbox": selectors.outbox(user)[:100],
            "matters": selectors.matters(user)[:100],
            "partner": selectors.works_for_partner(user),
            "waiting": selectors.inbox(user).filter(state__in=selectors.WAITING).count(),
        },
    )


def _package_page(pk: int) -> str:
    return reverse("package-detail", args=[pk])


@login_required
def package_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _package_response(request, pk)


def _reveal(request: HttpRequest, index: int, **source: Any) -> dict[tuple[int, str], str]:
    """The value a reveal form asked for, as ``{(index, field): value}`` for the page
    (an error message and nothing when the form is wrong or the value is missing)."""
    form = RevealForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what you need the full value for."))
        return {}
    field = form.cleaned_data["field"]
    try:
        value = selectors.reveal_person(
            request.user, index=index, field=field, purpose=form.cleaned_data["purpose"], **source
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return {}
    return {(index, field): value}


@login_required
@require_POST
def package_reveal(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    """A person's full ID number or phone on the package's page: shown once, in the
    response to the POST that asked for it (audited), never kept in the session."""
    package = get_object_or_404_domain(selectors.get_package, request.user, pk)
    return _package_response(request, pk, _reveal(request, index, package=package))


def _package_response(
    request: HttpRequest, pk: int, revealed: dict[tuple[int, str], str] | None = None
) -> HttpResponse:
    view = get_object_or_404_domain(selectors.read_package, request.user, pk)
    package = view.package
    verdict = request.session.pop(f"verdict-{pk}", None)
    sender_side = package.sender_id == request.user.organisation_id or (
        request.user.is_police and package.sender.kind in services.POLICE_KINDS
    )
    return render(
        request,
        "exchange/package.html",
        {
            "view": view,
            "package": package,
            "entries": view.manifest.get("entries", []),
            "files": {f.path: f for f in package.files.all()},
            "verdict": verdict,
            "return_form": ReasonsForm() if view.may_receive else None,
            "may_resend": sender_side
            and package.state in (PackageState.RETURNED, PackageState.REFUSED)
            and not hasattr(package, "superseded_by"),
            "people": _people_rows(view.people, revealed or {}),
            "now": timezone.now(),
        },
    )


def _people_rows(people: list[dict], revealed: dict[tuple[int, str], str]) -> list[dict]:
    """The people as the page lists them: masked, but for a value just revealed."""
    rows = []
    for n, person in enumerate(people):
        shown = {f: revealed.get((n, f), person.get(f, "")) for f in selectors.MASKED_FIELDS}
        full = {f for f in selectors.MASKED_FIELDS if (n, f) in revealed}
        rows.append({**person, **shown, "index": n, "revealed": full})
    return rows


@login_required
def package_zip(request: HttpRequest, pk: int) -> HttpResponse:
    package = get_object_or_404_domain(selectors.get_package, request.user, pk)
    try:
        return zip_response(request.user, package)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_package_page(pk))


def _act(request: HttpRequest, pk: int, call: Any, success: str) -> HttpResponse:
    package = get_object_or_404_domain(selectors.get_package, request.user, pk)
    run_service(request, lambda: call(package), success)
    return redirect(_package_page(pk))


@login_required
@require_POST
def receive(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda p: services.receive(request.user, p),
        _("Signed for: the package was verified (see the result)."),
    )


@login_required
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    package = get_object_or_404_domain(selectors.get_package, request.user, pk)
    try:
        package = services.accept(request.user, package)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_package_page(pk))
    police = package.receiver.kind in services.POLICE_KINDS
    if package.fast_track_id:
        package.fast_track.refresh_from_db(fields=["state"])  # the acceptance may close it
    if package.fast_track_id and package.fast_track.state == "closed":
        done = _("Accepted and filed into the case's dossier: the fast track is closed.")
    elif police:
        done = _("Accepted: filed into the case's dossier.")
    else:
        done = _("Package accepted.")
    messages.success(request, done)
    if police and package.fast_track_id:
        return redirect("fasttrack-detail", package.fast_track_id)
    if police and package.case_id:
        return redirect("case-dossier", package.case_id)
    if package.matter_id and package.matter.organisation_id == request.user.organisation_id:
        return redirect("matter-detail", package.matter_id)
    return redirect(_package_page(pk))


@login_required
@require_POST
def return_package(request: HttpRequest, pk: int) -> HttpResponse:
    package = get_object_or_404_domain(selectors.get_package, request.user, pk)
    submit_form(
        request,
        ReasonsForm(request.POST),
        lambda d: services.return_package(request.user, package, reasons=d["reasons"]),
        _("Package returned to its sender."),
    )
    return redirect(_package_page(pk))


@login_required
@require_POST
def verify_again(request: HttpRequest, pk: int) -> HttpResponse:
    package = get_object_or_404_domain(selectors.get_package, request.user, pk)
    verdict = services.reverify(request.user, package)
    request.session[f"verdict-{pk}"] = {
        "ok": verdict.ok,
        "checked_at": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
        "problems": [p.__dict__ for p in verdict.problems],
    }
    return redirect(_package_page(pk))


@login_required
@require_POST
def resend(request: HttpRequest, pk: int) -> HttpResponse:
    package = get_object_or_404_domain(selectors.get_package, request.user, pk)
    try:
        new = sending.resend(request.user, package)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_package_page(pk))
    return redirect(_package_page(new.pk))


@login_required
@require_POST
def send_from_case(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404_domain(cases.get_case, request.user, case_id)
    submit_form(
        request,
        SendForm(request.POST),
        lambda d: sending.send_from_case(
            request.user, case, kind=d["kind"], receiver=d["receiver"], request=d["request"]
        ),
        _("Package signed and sent."),
    )
    return redirect(reverse("case-detail", args=[case.pk]) + "#exchange")


@login_required
def verify_file(request: HttpRequest) -> HttpResponse:
    """Check a package zip made anywhere against the registered keys."""
    verdict, name = None, ""
    form = VerifyFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        name = upload.name
        with tempfile.TemporaryFile() as spool:
            for chunk in upload.chunks():
                spool.write(chunk)
            spool.seek(0)
            verdict = manifest.verify_zip(spool, keys.trusted())
    return render(request, "exchange/verify.html", {"form": form, "verdict": verdict, "name": name})


# --- matters -------------------------------------------------------------------------


def _matter_page(pk: int) -> str:
    return reverse("matter-detail", args=[pk])


@login_required
def matter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _matter_response(request, pk)


@login_required
@require_POST
def matter_reveal(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    """A person's full ID number or phone on the matter's page (audited, shown once)."""
    matter = get_object_or_404_domain(selectors.get_matter, request.user, pk)
    return _matter_response(request, pk, _reveal(request, index, matter=matter))


def _matter_response(
    request: HttpRequest, pk: int, revealed: dict[tuple[int, str], str] | None = None
) -> HttpResponse:
    view = get_object_or_404_domain(selectors.read_matter, request.user, pk)
    matter = view.matter
    details = matter.details or {}
    lawyer_met = None  # not a question for this matter
    if matter.fast_track_id and matter.kind in steps.REVIEW_KINDS:
        lawyer_met = progress.reached_at(matter.fast_track, "lawyer_met") or False
    forms: dict[str, Any] = {}
    if view.may_work:
        if matter.kind == MatterKind.LEGAL_AID:
            if "lawyer" not in details:
                forms["lawyer"] = LawyerForm(  # on duty herself, as a rule
                    organisation_id=matter.organisation_id, initial={"lawyer": request.user.pk}
                )
            elif details["lawyer"]["id"] == request.user.pk:
                forms["meeting"] = MeetingForm()
        if matter.kind in steps.REVIEW_KINDS and steps.may_indict_yet(matter):
            forms["indict"] = IndictForm()
        if matter.kind in steps.TRIAL_KINDS:
            forms["hearing"] = HearingForm()
            if "hearing" in details:  # held when it was scheduled, if that has come
                scheduled = datetime.fromisoformat(details["hearing"]["at"])
                held = timezone.localtime(min(scheduled, timezone.now()))
                forms["judgment"] = JudgmentForm(
                    initial={"hearing_at": held.strftime("%Y-%m-%dT%H:%M")}
                )
        forms["conclude"] = OutcomeForm()
    return render(
        request,
        "exchange/matter.html",
        {
            "view": view,
            "matter": matter,
            "documents": matter.dossier.documents.order_by("number"),
            "sources": {p.number: p.pk for p in view.packages_in},
            "lawyer_met": lawyer_met,
            "forms": forms,
            "people": _people_rows(view.people, revealed or {}),
            "now": timezone.now(),
        },
    )


def _matter_step(request: HttpRequest, pk: int, form: Any, call: Any, success: str) -> HttpResponse:
    matter = get_object_or_404_domain(selectors.get_matter, request.user, pk)
    submit_form(request, form, lambda d: call(matter, d), success)
    return redirect(_matter_page(pk))


@login_required
@require_POST
def matter_lawyer(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.user.organisation_id or 0
    return _matter_step(
        request,
        pk,
        LawyerForm(request.POST, organisation_id=org),
        lambda m, d: steps.assign_lawyer(request.user, m, lawyer=d["lawyer"]),
        _("Duty lawyer assigned; the notice is in the dossier."),
    )


@login_required
@require_POST
def matter_meeting(request: HttpRequest, pk: int) -> HttpResponse:
    return _matter_step(
        request,
        pk,
        MeetingForm(request.POST),
        lambda m, d: steps.record_lawyer_meeting(
            request.user, m, mode=d["mode"], started_at=d["started_at"], minutes=d["minutes"]
        ),
        _("Meeting recorded (when and how only: never what was said)."),
    )


@login_required
@require_POST
def matter_indict(request: HttpRequest, pk: int) -> HttpResponse:
    return _matter_step(
        request,
        pk,
        IndictForm(request.POST),
        lambda m, d: steps.indict(
            request.user, m, court=d["court"], charge=d["charge"], proposal=d["proposal"]
        ),
        _("Indicted: the indictment and the dossier were sent to the court."),
    )


@login_required
@require_POST
def matter_hearing(request: HttpRequest, pk: int) -> HttpResponse:
    return _matter_step(
        request,
        pk,
        HearingForm(request.POST),
        lambda m, d: steps.schedule_hearing(
            request.user, m, hearing_at=d["hearing_at"], place=d["place"]
        ),
        _("Hearing scheduled."),
    )


@login_required
@require_POST
def matter_judgment(request: HttpRequest, pk: int) -> HttpResponse:
    return _matter_step(
        request,
        pk,
        JudgmentForm(request.POST),
        lambda m, d: steps.record_judgment(
            request.user,
            m,
            verdict=d["verdict"],
            hearing_at=d["hearing_at"],
            judgment_at=d["judgment_at"],
        ),
        _("Judgment recorded and sent back to the procuratorate and the police."),
    )


@login_required
@require_POST
def matter_conclude(request: HttpRequest, pk: int) -> HttpResponse:
    return _matter_step(
        request,
        pk,
        OutcomeForm(request.POST),
        lambda m, d: services.conclude(request.user, m, outcome=d["outcome"]),
        _("Matter closed."),
    )
