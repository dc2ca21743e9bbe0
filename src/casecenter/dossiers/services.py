"""Every write of a dossier: documents, versions, legal review, generated
documents, paper lending — one transaction each, with its audit entry.

Who writes what:
- a police case's dossier: its lead and assisting officers add documents and
  versions; the legal-affairs unit that supervises the case reviews them
  (法制审核) and may add documents too;
- another organisation's dossier (a matter opened from a hand-over package):
  that organisation's own users; those documents need no police review.

The case steps guarded by the dossier (``guard_step``, registered with the case
workflow): filing needs the registration form and filing decision reviewed
where the dossier has them; transfer for prosecution needs an approved
prosecution or fast-track opinion and every reviewable document of the dossier
approved (the whole dossier goes to the procuratorate); an administrative
decision needs its approved decision document and the evidence approved.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone, translation

from casecenter.accounts.models import POLICE_ROLES, Role, User
from casecenter.audit.services import record
from casecenter.cases import access
from casecenter.cases.models import Assignment, AssignmentRole, Case
from casecenter.dossiers import storage
from casecenter.dossiers.models import (
    Document,
    DocumentKind,
    Dossier,
    Loan,
    Review,
    ReviewState,
    Version,
)
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.moments import past_moment
from casecenter.outbox.services import emit
from casecenter.supervision import services as clocks

K = DocumentKind
#: documents of other organisations: reviewed there, not by the police's legal affairs
NOT_REVIEWED = frozenset(
    {K.LAWYER_ASSIGNMENT, K.INDICTMENT, K.JUDGMENT, K.LEGAL_AID_NOTICE, K.PROPERTY_LIST}
)
#: step → (kinds of which one approved is required, kinds that must be approved if present;
#: "*" = every reviewable document of the dossier)
STEP_DOCUMENTS: dict[str, tuple[frozenset[str], frozenset[str] | str]] = {
    "file": (frozenset(), frozenset({K.REGISTRATION_FORM, K.FILING_DECISION})),
    "transfer_for_prosecution": (frozenset({K.PROSECUTION_OPINION, K.FAST_TRACK_OPINION}), "*"),
    "decide": (
        frozenset({K.ADMIN_DECISION}),
        frozenset({K.EVIDENCE, K.APPRAISAL_OPINION, K.INQUIRY_RECORD, K.INTERROGATION_RECORD}),
    ),
}
#: documents casecenter renders from the case's data
GENERATED = {
    K.REGISTRATION_FORM: "dossiers/generated/registration_form.html",
    K.PROSECUTION_OPINION: "dossiers/generated/prosecution_opinion.html",
    K.FAST_TRACK_OPINION: "dossiers/generated/fast_track_opinion.html",
    K.ADMIN_DECISION: "dossiers/generated/admin_decision.html",
    K.LEGAL_AID_NOTICE: "dossiers/generated/legal_aid_notice.html",
}
LOAN_RULE = "dossier.return"
MAX_REASONS = 2000


# --- who may -------------------------------------------------------------------------


def may_read(user: User, dossier: Dossier) -> bool:
    if not user.is_authenticated:
        return False
    if dossier.case_id:
        return user.role in POLICE_ROLES and access.may_read_personal(user, dossier.case)
    return user.organisation_id == dossier.organisation_id


def may_write(user: User, dossier: Dossier) -> bool:
    if dossier.case_id:
        case = dossier.case
        if user.role == Role.LEGAL_AFFAIRS and access.is_supervising(user, case):
            return True
        return Assignment.objects.filter(
            case=case,
            user=user,
            ended_at__isnull=True,
            role__in=[AssignmentRole.LEAD, AssignmentRole.ASSISTING],
        ).exists()
    return user.organisation_id == dossier.organisation_id and user.role != Role.ADMIN


#: who lends the paper dossiers and takes them back
LENDING_ROLES = frozenset({Role.CASE_MANAGEMENT, Role.LEGAL_AFFAIRS})


def may_lend(user: User, dossier: Dossier) -> bool:
    """Whether ``user`` lends (and takes back) this case's paper dossier."""
    return user.role in LENDING_ROLES and may_read(user, dossier)


def may_review(user: User, dossier: Dossier) -> bool:
    """Legal affairs supervising the case, or assigned to it (a secret case is
    supervised only by those assigned)."""
    return bool(
        dossier.case_id
        and user.role == Role.LEGAL_AFFAIRS
        and (access.is_supervising(user, dossier.case) or access.is_assigned(user, dossier.case))
    )


def _require(allowed: bool, code: str, zh: str, en: str) -> None:
    if not allowed:
        raise PermissionDenied(code, zh, en)


def _when(at: datetime | None) -> datetime:
    return past_moment(at, code="dossier", what_zh="时间", what_en="time")


# --- dossiers and documents ----------------------------------------------------------


def dossier_of(case: Case) -> Dossier:
    """The case's dossier, made on first use (inside the caller's transaction)."""
    dossier = Dossier.objects.filter(case=case).first()
    if dossier is None:
        try:
            with transaction.atomic():  # two first writes at once: one makes it
                dossier = Dossier.objects.create(
                    organisation_id=case.organisation_id,
                    case=case,
                    # the number and a case title of up to 200 characters: cut to fit
                    title=f"{case.number} {case.title}"[
                        : Dossier._meta.get_field("title").max_length
                    ],
                )
        except IntegrityError:
            dossier = Dossier.objects.get(case=case)
    return dossier


def _title(kind: str, title: str) -> str:
    title = (title or "").strip()[:200]
    if kind not in K.values:
        raise InvalidInput(
            "document.kind", f"未知的文书类型：{kind}", f"Unknown document kind {kind!r}."
        )
    return title or str(K(kind).label)


@transaction.atomic
def add_case_document(actor: User, case: Case, **document: Any) -> Document:
    """``add_document`` on the case's dossier, made on first use in the same
    transaction (a refused upload leaves no empty dossier behind)."""
    return add_document(actor, dossier_of(case), **document)


def _initial_state(dossier: Dossier, kind: str, source: str) -> str:
    if not dossier.case_id or source or kind in NOT_REVIEWED:
        return ReviewState.NOT_REQUIRED
    return ReviewState.PENDING


def _filename(name: str, blob: storage.Blob) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:150]
    return name or f"{blob.sha256[:12]}.{blob.name.rsplit('.', 1)[-1]}"


@transaction.atomic
def add_document(
    actor: User,
    dossier: Dossier,
    *,
    kind: str,
    chunks: Iterable[bytes],
    filename: str = "",
    title: str = "",
    note: str = "",
    source: str = "",
    generated: bool = False,
    at: datetime | None = None,
) -> Document:
    """A new document with its first version."""
    _require(
        may_write(actor, dossier),
        "dossier.write",
        "您不能向该卷宗添加文书。",
        "You may not add documents to this dossier.",
    )
    title = _title(kind, title)
    at = _when(at)
    blob = storage.put(chunks, generated_html=generated)
    locked = Dossier.objects.select_for_update(of=("self",)).get(pk=dossier.pk)
    number = (locked.documents.aggregate(n=Max("number"))["n"] or 0) + 1
    document = Document.objects.create(
        dossier=locked,
        number=number,
        kind=kind,
        title=title,
        review_state=_initial_state(locked, kind, source),
        generated=generated,
        source=source,
        created_by=actor,
        created_at=at,
    )
    _new_version(actor, document, blob, filename, note, at)
    emit("dossier.document_added", dossier=locked.pk, document=document.pk, kind=kind)
    return document


def _new_version(
    actor: User, document: Document, blob: storage.Blob, filename: str, note: str, at: datetime
) -> Version:
    document.versions_count += 1
    version = Version.objects.create(
        document=document,
        number=document.versions_count,
        sha256=blob.sha256,
        size=blob.size,
        content_type=blob.content_type,
        filename=_filename(filename, blob),
        storage_name=blob.name,
        note=(note or "").strip()[:500],
        uploaded_by=actor,
        uploaded_at=at,
    )
    document.save(update_fields=["versions_count", "review_state"])
    record(
        actor,
        "dossier.version_added",
        document,
        data={
            "dossier": document.dossier_id,
            "case_id": document.dossier.case_id,
            "kind": document.kind,
            "version": version.number,
            "sha256": blob.sha256,
            "size": blob.size,
        },
    )
    return version


def attach_handed_over(
    actor: User,
    dossier: Dossier,
    files: Iterable[tuple[str, str, storage.Blob, str]],
    *,
    source: str,
    at: datetime,
) -> list[Document]:
    """File what a hand-over package brought into ``dossier``: each (kind, title,
    stored blob, file name) becomes a document whose one version is the file the
    sender signed (kept by its hash: no copy). Inside the exchange's transaction,
    after it checked the actor may receive the package; nothing is reviewed again
    (it was reviewed where it was made)."""
    locked = Dossier.objects.select_for_update(of=("self",)).get(pk=dossier.pk)
    number = locked.documents.aggregate(n=Max("number"))["n"] or 0
    documents = []
    for kind, title, blob, filename in files:
        number += 1
        document = Document.objects.create(
            dossier=locked,
            number=number,
            kind=kind if kind in K.values else K.OTHER,
            title=(title or "").strip()[:200] or str(K.OTHER.label),
            review_state=ReviewState.NOT_REQUIRED,
            generated=blob.content_type == storage.HTML[0],
            source=source,
            created_by=actor,
            created_at=at,
        )
        _new_version(actor, document, blob, filename, source, at)
        documents.append(document)
    emit("dossier.handed_over", dossier=locked.pk, source=source, documents=len(documents))
    return documents


@transaction.atomic
def add_version(
    actor: User,
    document: Document,
    *,
    chunks: Iterable[bytes],
    expected_versions: int,
    filename: str = "",
    note: str = "",
    at: datetime | None = None,
) -> Version:
    """A corrected or completed file for ``document``; the old ones stay. A
    reviewable document goes back to review."""
    document = _locked(document)
    _require(
        may_write(actor, document.dossier),
        "dossier.write",
        "您不能修改该卷宗的文书。",
        "You may not change this dossier's documents.",
    )
    _expect(document, expected_versions)
    if document.generated:
        raise InvalidInput(
            "document.generated",
            "系统生成的文书不能上传新版本，请重新生成。",
            "A generated document is not uploaded; generate it again.",
        )
    at = _when(at)
    blob = storage.put(chunks)
    if document.review_state != ReviewState.NOT_REQUIRED:
        document.review_state = ReviewState.PENDING
    version = _new_version(actor, document, blob, filename, note, at)
    emit("dossier.version_added", document=document.pk, version=version.number)
    return version


def _locked(document: Document) -> Document:
    return (
        Document.objects.select_for_update(of=("self",))
        .select_related("dossier__case")
        .get(pk=document.pk)
    )


def _expect(document: Document, expected_versions: int) -> None:
    if document.versions_count != expected_versions:
        raise Conflict(
            "document.stale",
            "文书已有新版本，请刷新后重试。",
            "The document has a newer version; reload it and try again.",
            current_versions=document.versions_count,
            your_versions=expected_versions,
        )


# --- legal review -------------------------------------------------------------------


@transaction.atomic
def review(
    actor: User,
    document: Document,
    *,
    decision: str,
    version: int,
    reasons: str = "",
    at: datetime | None = None,
) -> Review:
    """Approve the document's latest version, or return it with reasons. ``version``
    is the version the reviewer read: a newer one, or a decision already made on
    it, is a conflict (two reviewers at once: the second is refused)."""
    document = _locked(document)
    _require(
        may_review(actor, document.dossier),
        "dossier.review",
        "只有负责该案件的法制部门可以审核。",
        "Only the legal-affairs unit supervising the case reviews its documents.",
    )
    if decision not in Review.Decision.values:
        raise InvalidInput("review.decision", "审核结论须为通过或退回。", "Approve or return.")
    reasons = (reasons or "").strip()
    if decision == Review.Decision.RETURNED and not reasons:
        raise InvalidInput("review.reasons", "退回须说明理由。", "A return needs its reasons.")
    if len(reasons) > MAX_REASONS:
        raise InvalidInput(
            "review.reasons_long",
            f"理由不能超过{MAX_REASONS}字。",
            f"Reasons may be at most {MAX_REASONS} characters.",
        )
    if document.review_state == ReviewState.NOT_REQUIRED:
        raise InvalidInput(
            "review.not_required", "该文书无需审核。", "This document needs no review."
        )
    _expect(document, version)
    if document.review_state != ReviewState.PENDING:
        raise Conflict(
            "review.decided",
            "该版本已审核。",
            "This version has already been reviewed.",
            state=document.review_state,
        )
    at = _when(at)
    try:
        with transaction.atomic():
            decided = Review.objects.create(
                document=document,
                version=version,
                decision=decision,
                reasons=reasons,
                reviewer=actor,
                at=at,
            )
    except IntegrityError:  # the database's word when the row lock was not enough
        raise Conflict(
            "review.decided", "该版本已审核。", "This version has already been reviewed."
        ) from None
    document.review_state = (
        ReviewState.APPROVED if decision == Review.Decision.APPROVED else ReviewState.RETURNED
    )
    document.save(update_fields=["review_state"])
    record(
        actor,
        f"dossier.review_{decision}",
        document,
        reason=reasons,
        data={"case_id": document.dossier.case_id, "version": version, "kind": document.kind},
    )
    emit(
        "dossier.reviewed",
        document=document.pk,
        decision=decision,
        case=document.dossier.case_id,
    )
    return decided


def blocking(case: Case, step: str) -> list[dict[str, str]]:
    """What stops ``case`` from taking ``step``, each in both languages
    (``{"zh": …, "en": …}``; empty: nothing)."""
    required, must_be_approved = STEP_DOCUMENTS.get(step, (frozenset(), frozenset()))
    documents = list(Document.objects.filter(dossier__case=case))
    problems = []
    with translation.override("zh-hans"):
        if required and not any(
            d.kind in required and d.review_state == ReviewState.APPROVED for d in documents
        ):
            problems.append(
                {
                    "zh": f"缺少经审核的{'或'.join(str(K(k).label) for k in sorted(required))}",
                    "en": f"an approved {' or '.join(sorted(required))}",
                }
            )
        for d in documents:
            checked = d.review_state != ReviewState.NOT_REQUIRED and (
                must_be_approved == "*" or d.kind in must_be_approved or d.kind in required
            )
            if checked and d.review_state != ReviewState.APPROVED:
                problems.append(
                    {
                        "zh": f"{d.number:03d} {d.title}：{ReviewState(d.review_state).label}",
                        "en": f"document {d.number} {d.review_state}",
                    }
                )
    return problems


def guard_step(case: Case, step: str) -> None:
    """The case workflow's guard: refuse a step whose documents are not reviewed."""
    if step not in STEP_DOCUMENTS:
        return
    problems = blocking(case, step)
    if problems:
        raise Conflict(
            "dossier.unreviewed",
            "卷宗文书未经法制审核，不能进行此步骤：" + "；".join(p["zh"] for p in problems),
            "The dossier's documents are not all reviewed: " + "; ".join(p["en"] for p in problems),
            problems=problems,
        )


# --- generated documents --------------------------------------------------------------


#: generated kinds that belong to one kind of case only
GENERATED_FOR = {
    K.PROSECUTION_OPINION: "criminal",
    K.FAST_TRACK_OPINION: "criminal",
    K.LEGAL_AID_NOTICE: "criminal",
    K.ADMIN_DECISION: "administrative",
}


def generated_kinds(case: Case) -> list[str]:
    """The documents casecenter can render for ``case`` (by the case's kind)."""
    return [k for k in GENERATED if GENERATED_FOR.get(k, case.kind) == case.kind]


def render(case: Case, kind: str, **extra: Any) -> bytes:
    """The document of ``kind`` rendered from the case's data (Chinese, printable)."""
    if kind not in generated_kinds(case):
        raise InvalidInput(
            "document.not_generated",
            "该类文书不能由系统为此案件生成。",
            f"casecenter does not generate {kind} documents for this case.",
        )
    parties = list(case.parties.select_related("person").order_by("pk"))
    with translation.override("zh-hans"):
        html = render_to_string(
            GENERATED[kind],
            {
                "case": case,
                "parties": parties,
                "suspects": [p for p in parties if p.role == "suspect"],
                "organisation": case.organisation,
                "today": timezone.localdate(),
                **extra,
            },
        )
    return html.encode()


@transaction.atomic
def generate(
    actor: User, case: Case, kind: str, *, at: datetime | None = None, **extra: Any
) -> Document:
    """Render ``kind`` from the case's data into the dossier (a new document;
    generated again, a new version of the same one)."""
    dossier = dossier_of(case)
    _require(
        may_write(actor, dossier),
        "dossier.write",
        "您不能向该卷宗添加文书。",
        "You may not add documents to this dossier.",
    )
    data = render(case, kind, **extra)
    existing = dossier.documents.filter(kind=kind, generated=True).first()
    if existing is None:
        return add_document(actor, dossier, kind=kind, chunks=[data], generated=True, at=at)
    document = _locked(existing)
    blob = storage.put_bytes(data, generated_html=True)
    if document.review_state != ReviewState.NOT_REQUIRED:
        document.review_state = ReviewState.PENDING
    _new_version(actor, document, blob, "", "regenerated", _when(at))
    return document


# --- paper dossier lending (F5.3) -----------------------------------------------------


@transaction.atomic
def lend(
    actor: User,
    dossier: Dossier,
    *,
    borrower: User,
    purpose: str,
    at: datetime | None = None,
) -> Loan:
    """Lend the paper dossier; due back under ``dossier.return``."""
    dossier = Dossier.objects.select_for_update(of=("self",)).get(pk=dossier.pk)
    _require(
        may_lend(actor, dossier),
        "dossier.lend",
        "只有案管或法制部门可以借出纸质卷宗。",
        "Only the case-management group or legal affairs lend paper dossiers.",
    )
    purpose = (purpose or "").strip()[:200]
    if not purpose:
        raise InvalidInput(
            "loan.purpose", "请填写借阅用途。", "Say what the dossier is borrowed for."
        )
    if not dossier.paper or not dossier.case_id:
        raise InvalidInput("loan.no_paper", "该卷宗没有纸质卷。", "This dossier has no paper file.")
    if not (borrower.is_active and may_read(borrower, dossier)):
        raise InvalidInput(
            "loan.borrower",
            "借阅人无权查阅该案卷宗。",
            "The borrower may not read this case's dossier.",
        )
    if dossier.loans.filter(returned_at__isnull=True).exists():
        raise Conflict(
            "loan.open", "纸质卷宗已借出，尚未归还。", "The paper dossier is already out."
        )
    at = _when(at)
    loan = Loan.objects.create(
        dossier=dossier,
        borrower=borrower,
        purpose=purpose,
        lent_by=actor,
        lent_at=at,
        due_at=at,  # replaced by the clock's due moment below
    )
    deadline = clocks.open_deadline(
        actor, LOAN_RULE, dossier.case, trigger_at=at, subject=f"loan:{loan.pk}"
    )
    loan.due_at = deadline.due_at if deadline else at + timedelta(days=7)
    loan.save(update_fields=["due_at"])
    record(
        actor,
        "dossier.lent",
        dossier,
        reason=purpose,
        data={
            "case_id": dossier.case_id,
            "borrower": borrower.pk,
            "due_at": loan.due_at.isoformat(),
        },
    )
    return loan


@transaction.atomic
def lend_case_dossier(actor: User, case: Case, **loan: Any) -> Loan:
    """``lend`` the case's paper dossier (the dossier made on first use, as above)."""
    return lend(actor, dossier_of(case), **loan)


@transaction.atomic
def return_loan(actor: User, loan: Loan, *, at: datetime | None = None) -> Loan:
    loan = (
        Loan.objects.select_for_update(of=("self",)).select_related("dossier__case").get(pk=loan.pk)
    )
    _require(
        may_lend(actor, loan.dossier),
        "dossier.lend",
        "只有案管或法制部门可以收回纸质卷宗。",
        "Only the case-management group or legal affairs take paper dossiers back.",
    )
    if loan.returned_at is not None:
        raise Conflict("loan.returned", "该卷宗已归还。", "This loan was already returned.")
    loan.returned_at = max(_when(at), loan.lent_at)
    loan.received_by = actor
    loan.save(update_fields=["returned_at", "received_by"])
    clocks.meet_deadlines(
        actor, loan.dossier.case, [LOAN_RULE], at=loan.returned_at, subject=f"loan:{loan.pk}"
    )
    record(actor, "dossier.returned", loan.dossier, data={"case_id": loan.dossier.case_id})
    return loan
