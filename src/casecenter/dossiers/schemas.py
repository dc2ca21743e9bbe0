"""The dossier API's shapes: what goes in (bounded, with ``schema`` types) and what comes out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.urls import reverse
from ninja import Field, Schema

from casecenter.dossiers.models import Document, DocumentKind, Loan, Review, Version
from casecenter.dossiers.selectors import DossierView
from casecenter.dossiers.services import GENERATED
from casecenter.schema import Choice, Id, Text


class VersionOut(Schema):
    number: int
    sha256: str
    size: int
    content_type: str
    filename: str
    note: str
    uploaded_by_id: int
    uploaded_by: str
    uploaded_at: datetime
    url: str


class ReviewOut(Schema):
    version: int
    decision: str
    reasons: str
    reviewer_id: int
    reviewer: str
    at: datetime


class DocumentOut(Schema):
    id: int
    number: int
    kind: str
    kind_label: str
    title: str
    review_state: str
    review_state_label: str
    versions_count: int
    generated: bool
    source: str
    created_by: str
    created_at: datetime
    versions: list[VersionOut]
    reviews: list[ReviewOut]


class LoanOut(Schema):
    id: int
    borrower_id: int
    borrower: str
    purpose: str
    lent_by: str
    lent_at: datetime
    due_at: datetime
    returned_at: datetime | None
    received_by: str | None


class BlockerOut(Schema):
    zh: str
    en: str


class DossierOut(Schema):
    id: int | None
    case_id: int
    title: str
    paper: bool
    documents: list[DocumentOut]
    loans: list[LoanOut]
    #: step → what blocks it, each in both languages (empty: nothing)
    blocking: dict[str, list[BlockerOut]]
    may_write: bool
    may_review: bool
    may_lend: bool


class DocumentIn(Schema):
    """The form fields sent with a new document's file."""

    kind: Choice(DocumentKind, 30)
    title: Text(200) = ""
    note: Text(500) = ""


class VersionIn(Schema):
    """The form fields sent with a new version's file: ``expected_versions`` is the
    number of versions the sender saw (a newer one is a conflict)."""

    note: Text(500) = ""
    expected_versions: Annotated[int, Field(ge=0, le=10**6)]


class ReviewIn(Schema):
    decision: Literal["approved", "returned"]
    version: Annotated[int, Field(ge=1, le=10**6)]
    reasons: Text(2000) = ""


class GenerateIn(Schema):
    #: which of them a case can have depends on its kind (criminal, administrative)
    kind: Choice(GENERATED, 30)


class LoanIn(Schema):
    borrower_id: Id
    purpose: Text(200, 1)


# --- shaping -----------------------------------------------------------------------------


def version_out(version: Version) -> dict:
    url = reverse("api:dossier_file", args=[version.document_id])
    return {
        "number": version.number,
        "sha256": version.sha256,
        "size": version.size,
        "content_type": version.content_type,
        "filename": version.filename,
        "note": version.note,
        "uploaded_by_id": version.uploaded_by_id,
        "uploaded_by": str(version.uploaded_by),
        "uploaded_at": version.uploaded_at,
        "url": f"{url}?version={version.number}",
    }


def review_out(review: Review) -> dict:
    return {
        "version": review.version,
        "decision": review.decision,
        "reasons": review.reasons,
        "reviewer_id": review.reviewer_id,
        "reviewer": str(review.reviewer),
        "at": review.at,
    }


def document_out(
    document: Document,
    versions: list[Version] | None = None,
    reviews: list[Review] | None = None,
) -> dict:
    """A document with its versions and reviews (read here when not given)."""
    if versions is None:
        versions = list(document.versions.select_related("uploaded_by"))
    if reviews is None:
        reviews = list(document.reviews.select_related("reviewer"))
    return {
        "id": document.pk,
        "number": document.number,
        "kind": document.kind,
        "kind_label": document.get_kind_display(),
        "title": document.title,
        "review_state": document.review_state,
        "review_state_label": document.get_review_state_display(),
        "versions_count": document.versions_count,
        "generated": document.generated,
        "source": document.source,
        "created_by": str(document.created_by),
        "created_at": document.created_at,
        "versions": [version_out(v) for v in versions],
        "reviews": [review_out(r) for r in reviews],
    }


def loan_out(loan: Loan) -> dict:
    return {
        "id": loan.pk,
        "borrower_id": loan.borrower_id,
        "borrower": str(loan.borrower),
        "purpose": loan.purpose,
        "lent_by": str(loan.lent_by),
        "lent_at": loan.lent_at,
        "due_at": loan.due_at,
        "returned_at": loan.returned_at,
        "received_by": str(loan.received_by) if loan.received_by_id else None,
    }


def dossier_out(case_id: int, view: DossierView) -> dict:
    dossier = view.dossier
    return {
        "id": dossier.pk if dossier else None,
        "case_id": case_id,
        "title": dossier.title if dossier else "",
        "paper": dossier.paper if dossier else True,
        "documents": [
            document_out(d, view.versions.get(d.pk, []), view.reviews.get(d.pk, []))
            for d in view.documents
        ],
        "loans": [loan_out(loan) for loan in view.loans],
        "blocking": view.blocking,
        "may_write": view.may_write,
        "may_review": view.may_review,
        "may_lend": view.may_lend,
    }
