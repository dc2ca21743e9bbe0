"""API: a case's dossier — documents and their versions, legal review, generated
documents, paper loans — and a version's file (F5). Every read of a dossier or
a file is audited; a case you may not know is 404."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import File, Form, Router, Status, UploadedFile

from casecenter.accounts.models import User
from casecenter.cases import selectors as cases
from casecenter.dossiers import selectors, services
from casecenter.dossiers.schemas import (
    DocumentIn,
    DocumentOut,
    DossierOut,
    GenerateIn,
    LoanIn,
    LoanOut,
    ReviewIn,
    VersionIn,
    document_out,
    dossier_out,
    loan_out,
)
from casecenter.dossiers.views import serve
from casecenter.errors import NotFound
from casecenter.schema import Id

router = Router(tags=["dossiers"])


@router.get("/cases/{case_id}", response=DossierOut)
def read_dossier(request: HttpRequest, case_id: Id):
    """The case's dossier: documents with every version and review, loans, and what
    blocks each step the dossier guards. Audited."""
    case = cases.get_case(request.auth, case_id)
    return dossier_out(case.pk, selectors.case_dossier(request.auth, case))


@router.post("/cases/{case_id}/documents", response={201: DocumentOut})
def add_document(
    request: HttpRequest, case_id: Id, payload: Form[DocumentIn], file: File[UploadedFile]
):
    """Add a document with its first file (multipart: ``kind``, ``title``, ``note``,
    ``file``: a PDF, OFD or image). A reviewable kind waits for legal review."""
    case = selectors.case_for_dossier(request.auth, case_id)
    document = services.add_case_document(
        request.auth,
        case,
        kind=payload.kind,
        title=payload.title,
        note=payload.note,
        chunks=file.chunks(),
        filename=file.name or "",
    )
    return Status(201, document_out(document))


@router.post("/documents/{document_id}/versions", response={201: DocumentOut})
def add_version(
    request: HttpRequest, document_id: Id, payload: Form[VersionIn], file: File[UploadedFile]
):
    """Upload a new version (multipart: ``file``, ``note``, ``expected_versions`` =
    the versions you saw; 409 when there is a newer one). It goes back to review."""
    document = selectors.get_document(request.auth, document_id)
    services.add_version(
        request.auth,
        document,
        chunks=file.chunks(),
        filename=file.name or "",
        note=payload.note,
        expected_versions=payload.expected_versions,
    )
    return Status(201, document_out(selectors.get_document(request.auth, document_id)))


@router.post("/documents/{document_id}/review", response=DocumentOut)
def review(request: HttpRequest, document_id: Id, payload: ReviewIn):
    """Approve or return (with reasons) the latest version, ``version`` being the one
    you read: a newer version, or a decision already made, is 409."""
    document = selectors.get_document(request.auth, document_id)
    services.review(
        request.auth,
        document,
        decision=payload.decision,
        version=payload.version,
        reasons=payload.reasons,
    )
    return document_out(selectors.get_document(request.auth, document_id))


@router.post("/cases/{case_id}/generate", response={201: DocumentOut})
def generate(request: HttpRequest, case_id: Id, payload: GenerateIn):
    """Render a document of ``kind`` from the case's data (generated again: a new
    version of the same document)."""
    case = selectors.case_for_dossier(request.auth, case_id)
    return Status(201, document_out(services.generate(request.auth, case, payload.kind)))


@router.get("/documents/{document_id}/file", url_name="dossier_file")
def read_file(request: HttpRequest, document_id: Id, version: Id | None = None):
    """A version's file (the latest by default), as the type it was checked to be.
    Audited."""
    try:
        found, handle = selectors.open_version(request.auth, document_id, version)
    except OSError:
        raise NotFound("version.missing", "文件不存在。", "The file is missing.") from None
    return serve(found, handle)


@router.post("/cases/{case_id}/loans", response={201: LoanOut})
def lend(request: HttpRequest, case_id: Id, payload: LoanIn):
    """Lend the paper dossier to an officer who may read the case; its return
    clock (``dossier.return``) starts."""
    case = selectors.case_for_dossier(request.auth, case_id)
    borrower = User.objects.filter(pk=payload.borrower_id).first()
    if borrower is None:
        raise NotFound("loan.borrower", "借阅人不存在。", "No such borrower.")
    loan = services.lend_case_dossier(
        request.auth, case, borrower=borrower, purpose=payload.purpose
    )
    return Status(201, loan_out(loan))


@router.post("/loans/{loan_id}/return", response=LoanOut)
def return_loan(request: HttpRequest, loan_id: Id):
    """The paper dossier is back; its return clock is met."""
    loan = selectors.get_loan(request.auth, loan_id)
    return loan_out(services.return_loan(request.auth, loan))
