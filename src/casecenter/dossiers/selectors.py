"""Reads of dossiers: the dossier with its documents and review state, a
document's file. Each read is audited (a dossier is personal data)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q

from casecenter.accounts.models import User
from casecenter.audit.services import record
from casecenter.cases import selectors as cases
from casecenter.cases.models import Case
from casecenter.cases.workflow import Transition, transitions_from
from casecenter.dossiers import services, storage
from casecenter.dossiers.models import Document, Dossier, Loan, Review, ReviewState, Version
from casecenter.errors import NotFound


@dataclass
class DossierView:
    dossier: Dossier | None
    documents: list[Document]
    versions: dict[int, list[Version]]
    reviews: dict[int, list[Review]]
    loans: list[Loan]
    may_write: bool
    may_review: bool
    may_lend: bool
    #: step → what blocks it (only the steps the dossier guards)
    blocking: dict[str, list[dict[str, str]]]


def case_dossier(user: User, case: Case, *, audit: bool = True) -> DossierView:
    """The case's dossier as ``user`` may see it (NotFound without need-to-know)."""
    dossier = Dossier.objects.filter(case=case).select_related("case").first()
    probe = dossier or Dossier(case=case, organisation_id=case.organisation_id)
    if not services.may_read(user, probe):
        raise NotFound("dossier.not_found", "卷宗不存在。", "No such dossier.")
    documents, versions, reviews, loans = [], {}, {}, []
    if dossier is not None:
        documents = list(dossier.documents.select_related("created_by"))
        for v in Version.objects.filter(document__dossier=dossier).select_related("uploaded_by"):
            versions.setdefault(v.document_id, []).append(v)
        for r in Review.objects.filter(document__dossier=dossier).select_related("reviewer"):
            reviews.setdefault(r.document_id, []).append(r)
        loans = list(dossier.loans.select_related("borrower", "lent_by", "received_by"))
    if audit:
        with transaction.atomic():
            record(user, "dossier.read", dossier or case, data={"case_id": case.pk})
    return DossierView(
        dossier=dossier,
        documents=documents,
        versions=versions,
        reviews=reviews,
        loans=loans,
        may_write=services.may_write(user, probe),
        may_review=services.may_review(user, probe),
        # a dossier not made yet has its paper file in the archive
        may_lend=services.may_lend(user, probe) and probe.paper,
        blocking={step: services.blocking(case, step) for step in services.STEP_DOCUMENTS},
    )


def case_for_dossier(user: User, pk: int) -> Case:
    """A case whose dossier ``user`` may read; NotFound otherwise, as for a case
    they may not know. Not audited: it leads to a write, which audits itself."""
    case = cases.get_case(user, pk)
    probe = Dossier.objects.filter(case=case).first() or Dossier(
        case=case, organisation_id=case.organisation_id
    )
    if not services.may_read(user, probe):
        raise NotFound("dossier.not_found", "卷宗不存在。", "No such dossier.")
    return case


def open_version(user: User, document_id: int, number: int | None = None) -> tuple[Version, object]:
    """A document's version (the latest by default) and its open file; audited."""
    document = get_document(user, document_id)
    versions = document.versions.all()
    version = versions.filter(number=number).first() if number is not None else versions.last()
    if version is None:
        raise NotFound("version.not_found", "文书版本不存在。", "No such version.")
    with transaction.atomic():  # the read is recorded before a byte leaves
        record(
            user,
            "dossier.file_read",
            document,
            data={"case_id": document.dossier.case_id, "version": version.number},
        )
    return version, storage.open_blob(version.storage_name)


@dataclass(frozen=True)
class Summary:
    """The case page's glance at the dossier: counts, the open loan, and what
    stops the steps the case can take next."""

    documents: int
    pending: int
    returned: int
    loan: Loan | None
    #: (the step's transition, what blocks it) for the case's next guarded steps
    next_steps: list[tuple[Transition, list[str]]]


def summary(case: Case) -> Summary:
    """No audit of its own: shown inside the case file, whose read is checked and
    audited already (titles and review states only, no file)."""
    counts = Document.objects.filter(dossier__case=case).aggregate(
        documents=Count("pk"),
        pending=Count("pk", filter=Q(review_state=ReviewState.PENDING)),
        returned=Count("pk", filter=Q(review_state=ReviewState.RETURNED)),
    )
    loan = (
        Loan.objects.filter(dossier__case=case, returned_at__isnull=True)
        .select_related("borrower")
        .first()
    )
    steps = [
        (t, services.blocking(case, t.name))
        for t in transitions_from(case.kind, case.state)
        if t.name in services.STEP_DOCUMENTS
    ]
    return Summary(**counts, loan=loan, next_steps=steps)


def get_document(user: User, pk: int) -> Document:
    document = Document.objects.select_related("dossier__case").filter(pk=pk).first()
    if document is None or not services.may_read(user, document.dossier):
        raise NotFound("document.not_found", "文书不存在。", "No such document.")
    return document


def get_loan(user: User, pk: int) -> Loan:
    loan = Loan.objects.select_related("dossier__case").filter(pk=pk).first()
    if loan is None or not services.may_read(user, loan.dossier):
        raise NotFound("loan.not_found", "借阅记录不存在。", "No such loan.")
    return loan
