"""UI of a case's dossier (卷宗): its documents and their versions, legal review,
generated documents, paper lending, and the download of a file.

Views parse, call a service or selector, render. What a viewer may do is
decided by the services (the page offers it after ``may_write``/``may_review``);
a stale or forged post gets their error as a message, never a half-done change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casecenter.accounts.models import User
from casecenter.cases import selectors as cases
from casecenter.cases.models import Case
from casecenter.cases.workflow import TRANSITIONS
from casecenter.dossiers import selectors, services, storage, uploads
from casecenter.dossiers.forms import (
    DocumentForm,
    GenerateForm,
    LendForm,
    ReviewForm,
    VersionForm,
)
from casecenter.dossiers.models import Document, DocumentKind, Review, ReviewState, Version
from casecenter.web.forms import get_object_or_404_domain, run_service, submit_form

#: how a generated (HTML) document is shown: no script, no request, its own styles only
SANDBOX = "sandbox; default-src 'none'; style-src 'unsafe-inline'"


@dataclass
class Row:
    """One document of the page with its history and the forms its viewer gets."""

    document: Document
    versions: list[Version]
    reviews: list[Review]
    version_form: VersionForm | None
    approve_form: ReviewForm | None
    return_form: ReviewForm | None

    @property
    def latest(self) -> Version | None:
        return self.versions[-1] if self.versions else None


def _page(case: Case) -> str:
    return reverse("case-dossier", args=[case.pk])


def _case_document(request: HttpRequest, pk: int) -> Document:
    """A document of a case's dossier the viewer may read (this page's documents)."""
    document = get_object_or_404_domain(selectors.get_document, request.user, pk)
    if document.dossier.case_id is None:
        raise Http404
    return document


def _row(view: selectors.DossierView, d: Document) -> Row:
    """A document of the page with the forms this viewer gets for it."""
    reviewable = view.may_review and d.review_state == ReviewState.PENDING

    def review_form(decision: str) -> ReviewForm | None:
        if not reviewable:
            return None
        initial = {"version": d.versions_count, "decision": decision}
        return ReviewForm(initial=initial, auto_id=f"id_d{d.pk}_{decision}_%s")

    version_form = None
    if view.may_write and not d.generated:  # a generated one is generated again
        initial = {"expected_versions": d.versions_count}
        version_form = VersionForm(initial=initial, auto_id=f"id_d{d.pk}_%s")
    return Row(
        document=d,
        versions=view.versions.get(d.pk, []),
        reviews=view.reviews.get(d.pk, []),
        version_form=version_form,
        approve_form=review_form(Review.Decision.APPROVED),
        return_form=review_form(Review.Decision.RETURNED),
    )


@login_required
def dossier_page(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404_domain(cases.get_case, request.user, pk)
    view = get_object_or_404_domain(selectors.case_dossier, request.user, case)
    loans = view.loans
    open_loan = next((loan for loan in loans if loan.returned_at is None), None)
    return render(
        request,
        "dossiers/dossier.html",
        {
            "case": case,
            "view": view,
            "rows": [_row(view, d) for d in view.documents],
            "steps": [
                (TRANSITIONS[step], problems)
                for step, problems in view.blocking.items()
                if case.kind in TRANSITIONS[step].kinds
            ],
            "document_form": DocumentForm(auto_id="id_new_%s") if view.may_write else None,
            "generated_kinds": (
                [(k, DocumentKind(k).label) for k in services.generated_kinds(case)]
                if view.may_write
                else []
            ),
            "open_loan": open_loan,
            "past_loans": [loan for loan in loans if loan.returned_at is not None],
            "may_lend": view.may_lend,
            "lend_form": LendForm(case=case) if view.may_lend and open_loan is None else None,
            "now": timezone.now(),
        },
    )


def _upload_refused(request: HttpRequest) -> bool:
    """Whether the upload was stopped while it streamed (too large): said as a message."""
    request.FILES  # noqa: B018 - parse the body now: the cap marks the request while it does
    refused = uploads.refusal(request)
    if refused is not None:
        messages.error(request, refused.message)
    return refused is not None


@login_required
@require_POST
def add_document(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404_domain(selectors.case_for_dossier, request.user, pk)
    if _upload_refused(request):
        return redirect(_page(case) + "#documents")
    submit_form(
        request,
        DocumentForm(request.POST, request.FILES),
        lambda d: services.add_case_document(
            request.user,
            case,
            kind=d["kind"],
            title=d["title"],
            chunks=d["file"].chunks(),
            filename=d["file"].name,
            note=d["note"],
        ),
        _("Document added to the dossier."),
    )
    return redirect(_page(case) + "#documents")


@login_required
@require_POST
def add_version(request: HttpRequest, pk: int) -> HttpResponse:
    document = _case_document(request, pk)
    if _upload_refused(request):
        return redirect(_page(document.dossier.case) + f"#document-{document.pk}")
    submit_form(
        request,
        VersionForm(request.POST, request.FILES),
        lambda d: services.add_version(
            request.user,
            document,
            chunks=d["file"].chunks(),
            filename=d["file"].name,
            note=d["note"],
            expected_versions=d["expected_versions"],
        ),
        _("New version uploaded."),
    )
    return redirect(_page(document.dossier.case) + f"#document-{document.pk}")


@login_required
@require_POST
def review(request: HttpRequest, pk: int) -> HttpResponse:
    document = _case_document(request, pk)
    submit_form(
        request,
        ReviewForm(request.POST),
        lambda d: services.review(
            request.user,
            document,
            decision=d["decision"],
            version=d["version"],
            reasons=d["reasons"],
        ),
        _("Review recorded."),
    )
    return redirect(_page(document.dossier.case) + f"#document-{document.pk}")


@login_required
@require_POST
def generate(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404_domain(selectors.case_for_dossier, request.user, pk)
    submit_form(
        request,
        GenerateForm(request.POST),
        lambda d: services.generate(request.user, case, d["kind"]),
        _("Document generated from the case's data."),
    )
    return redirect(_page(case) + "#documents")


@login_required
@require_POST
def lend(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404_domain(selectors.case_for_dossier, request.user, pk)
    submit_form(
        request,
        LendForm(request.POST, case=case),
        lambda d: services.lend_case_dossier(
            request.user, case, borrower=User.objects.get(pk=d["borrower"]), purpose=d["purpose"]
        ),
        _("Paper dossier lent; its return clock is running."),
    )
    return redirect(_page(case) + "#loans")


@login_required
@require_POST
def return_loan(request: HttpRequest, pk: int) -> HttpResponse:
    loan = get_object_or_404_domain(selectors.get_loan, request.user, pk)
    run_service(
        request,
        lambda: services.return_loan(request.user, loan),
        _("Paper dossier returned."),
    )
    return redirect(_page(loan.dossier.case) + "#loans")


def _version_number(value: str | None) -> int | None:
    """``?v=N``: absent is the latest version; anything but 1 to 9 digits is none."""
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 9 and int(value) > 0):
        raise Http404
    return int(value)


@login_required
def document_file(request: HttpRequest, pk: int) -> HttpResponse:
    """A version's file, to the document's readers only (each read audited)."""
    number = _version_number(request.GET.get("v"))
    try:
        version, handle = get_object_or_404_domain(selectors.open_version, request.user, pk, number)
    except OSError:  # the file is gone from the storage: nothing to serve
        raise Http404 from None
    return serve(version, handle)


#: how an image is shown in the browser: a document of its own that may run
#: nothing, load nothing and reach nothing of the site (the same for a forged one)
IMAGE_SANDBOX = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
SUFFIX = {content_type: suffix for _, content_type, suffix in storage.SIGNATURES}
SUFFIX[storage.HTML[0]] = storage.HTML[1]


def safe_filename(version: Version) -> tuple[str, str]:
    """(UTF-8 name, ASCII fallback) for Content-Disposition: no path, no control
    characters, and always the suffix of the type the file was checked to be — a
    PDF saved as ``x.html`` would open as a web page from the disk."""
    suffix = SUFFIX.get(version.content_type, "bin")
    name = version.filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '"<>:|?*;').strip(" .")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem[:120] or f"document-{version.document_id}-v{version.number}"
    ascii_stem = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in stem)
    return f"{stem}.{suffix}", f"{ascii_stem.strip('_') or 'document'}.{suffix}"


def serve(version: Version, handle: IO[bytes]) -> FileResponse:
    """A version's stored file as the type it was checked to be, never sniffed,
    never cached (every read is audited). An image is shown inline in a sandbox,
    a generated HTML document inline in its own sandbox (no script, no outside
    request), anything else (PDF, OFD) is a download (``attachment``)."""
    response = FileResponse(handle, content_type=version.content_type)
    name, fallback = safe_filename(version)
    inline = version.content_type.startswith("image/") or version.content_type == "text/html"
    response["Content-Disposition"] = (
        f'{"inline" if inline else "attachment"}; filename="{fallback}"; '
        f"filename*=UTF-8''{quote(name)}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    if version.content_type == "text/html":
        response["Content-Security-Policy"] = SANDBOX
    else:
        response["Content-Security-Policy"] = IMAGE_SANDBOX if inline else "sandbox"
    return response
