"""Dossiers: content-addressed versions, legal review, the steps it guards, lending."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casecenter import law
from casecenter.cases import services as cases
from casecenter.dossiers import selectors, services, storage
from casecenter.dossiers.models import Document, Review, ReviewState, Version
from casecenter.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from casecenter.supervision.models import Deadline
from tests.dossiers.conftest import pdf

pytestmark = pytest.mark.django_db


def test_a_document_keeps_its_file_under_its_hash_and_the_same_file_once(add):
    first = add("interrogation_record", "same")
    second = add("inquiry_record", "same")
    v1, v2 = first.versions.get(), second.versions.get()
    digest = hashlib.sha256(pdf("same")).hexdigest()
    assert v1.sha256 == v2.sha256 == digest and v1.storage_name == v2.storage_name
    assert v1.storage_name == f"{digest[:2]}/{digest}.pdf" and v1.content_type == "application/pdf"
    assert storage.check(v1.storage_name, digest)
    assert (first.number, second.number) == (1, 2)
    assert first.review_state == ReviewState.PENDING


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"<html>not a pdf</html>", "document.file_type"), (b"", "document.empty")],
)
def test_bad_files_are_refused_and_nothing_is_written(officers, dossier, data, code):
    with pytest.raises(InvalidInput) as refused:
        services.add_document(officers["lead"], dossier, kind="evidence", chunks=[data])
    assert refused.value.code == code
    assert not Document.objects.exists() and not Version.objects.exists()


def test_a_file_over_the_limit_is_refused(officers, dossier, settings):
    settings.CASECENTER_DOSSIER_MAX_MB = 1
    chunks = [pdf()] + [b"\0" * 65536] * 17
    with pytest.raises(InvalidInput) as refused:
        services.add_document(officers["lead"], dossier, kind="evidence", chunks=chunks)
    assert refused.value.code == "document.too_large" and not Document.objects.exists()


def test_only_the_cases_officers_write_and_other_organisations_never_read(officers, dossier, add):
    for who in ("bystander", "stranger", "judge"):
        with pytest.raises(PermissionDenied):
            add(actor=officers[who])
    document = add()
    assert services.may_read(officers["legal"], dossier)
    for who in ("judge", "stranger", "bystander"):
        assert not services.may_read(officers[who], dossier)
        with pytest.raises(NotFound):
            selectors.get_document(officers[who], document.pk)


def test_a_new_version_keeps_the_old_and_goes_back_to_review(officers, add):
    document = add("evidence", "v1")
    services.review(officers["legal"], document, decision="approved", version=1)
    services.add_version(
        officers["lead"], document, chunks=[pdf("v2")], expected_versions=1, note="补充页"
    )
    document.refresh_from_db()
    assert document.versions_count == 2 and document.review_state == ReviewState.PENDING
    assert [v.sha256 for v in document.versions.order_by("number")] == [
        hashlib.sha256(pdf("v1")).hexdigest(),
        hashlib.sha256(pdf("v2")).hexdigest(),
    ]
    with pytest.raises(Conflict):  # someone read version 1 only
        services.add_version(officers["lead"], document, chunks=[pdf("v3")], expected_versions=1)
    assert document.versions.count() == 2


def test_review_approves_or_returns_with_reasons_once_per_version(officers, add):
    document = add()
    with pytest.raises(PermissionDenied):
        services.review(officers["lead"], document, decision="approved", version=1)
    with pytest.raises(InvalidInput):
        services.review(officers["legal"], document, decision="returned", version=1)
    services.review(officers["legal"], document, decision="returned", version=1, reasons="缺少签名")
    document.refresh_from_db()
    assert document.review_state == ReviewState.RETURNED
    with pytest.raises(Conflict):
        services.review(officers["legal"], document, decision="approved", version=1)
    assert Review.objects.get().reasons == "缺少签名"


def test_filing_waits_for_the_registration_forms_review(officers, case, add):
    add("registration_form")
    with pytest.raises(Conflict) as refused:
        cases.transition_case(officers["lead"], case, "file", expected_version=case.version)
    assert refused.value.code == "dossier.unreviewed" and "受案登记表" in refused.value.message_zh
    case.refresh_from_db()
    assert case.state == "accepted"
    services.review(officers["legal"], Document.objects.get(), decision="approved", version=1)
    cases.transition_case(officers["lead"], case, "file", expected_version=case.version)
    case.refresh_from_db()
    assert case.state == "filed"


def test_a_refused_step_names_a_document_whose_title_has_a_slash_in_full(officers, case, add):
    add("registration_form", title="受案登记表 / 补正")
    with pytest.raises(Conflict) as refused:
        cases.transition_case(officers["lead"], case, "file", expected_version=case.version)
    assert "001 受案登记表 / 补正" in refused.value.message_zh
    assert refused.value.message_en.endswith("reviewed: document 1 pending")


def _investigating(officers, case):
    cases.transition_case(officers["lead"], case, "file", expected_version=case.version)
    case.refresh_from_db()
    cases.transition_case(
        officers["lead"],
        case,
        "start_investigation",
        expected_version=case.version,
        officers=[officers["lead"], officers["partner"]],
    )
    case.refresh_from_db()
    return case


def test_transfer_needs_an_approved_opinion_and_the_whole_dossier_reviewed(officers, case, add):
    case = _investigating(officers, case)

    def transfer():
        case.refresh_from_db()
        cases.transition_case(
            officers["legal"], case, "transfer_for_prosecution", expected_version=case.version
        )

    with pytest.raises(Conflict, match="approved"):
        transfer()
    evidence = add("evidence")
    opinion = services.generate(officers["lead"], case, "prosecution_opinion")
    services.review(officers["legal"], opinion, decision="approved", version=1)
    with pytest.raises(Conflict) as refused:
        transfer()
    assert f"{evidence.number:03d}" in refused.value.message_zh
    services.review(officers["legal"], evidence, decision="approved", version=1)
    transfer()
    case.refresh_from_db()
    assert case.state == "transferred"


def test_a_generated_document_is_rendered_from_the_case_and_regenerated_as_a_version(
    officers, case
):
    cases.add_party(officers["lead"], case, role="suspect", name="王某某")
    document = services.generate(officers["lead"], case, "registration_form")
    version = document.versions.get()
    html = b"".join(storage.read_chunks(version.storage_name)).decode()
    assert case.number in html and "王某某" in html and "受案登记表" in html
    assert version.content_type == "text/html" and document.generated
    case.summary = "案情已补充"
    case.save()
    again = services.generate(officers["lead"], case, "registration_form")
    assert again.pk == document.pk and again.versions.count() == 2
    with pytest.raises(InvalidInput):
        services.add_version(officers["lead"], again, chunks=[pdf()], expected_versions=2)


def test_a_paper_dossier_is_lent_once_and_its_return_is_clocked(officers, dossier):
    with pytest.raises(PermissionDenied):
        services.lend(officers["lead"], dossier, borrower=officers["lead"], purpose="阅卷")
    with pytest.raises(InvalidInput):  # may not read the case
        services.lend(officers["manager"], dossier, borrower=officers["stranger"], purpose="阅卷")
    at = timezone.now() - timedelta(days=1)
    loan = services.lend(
        officers["manager"], dossier, borrower=officers["lead"], purpose="补充侦查", at=at
    )
    clock = Deadline.objects.get(rule_id="dossier.return")
    assert clock.subject == f"loan:{loan.pk}" and clock.due_at == loan.due_at
    # seven days, counted as CPL Art. 105 counts days (from the next day, to its end)
    assert loan.due_at == law.due("dossier.return", at).ends_at > at + timedelta(days=7)
    with pytest.raises(Conflict):
        services.lend(officers["manager"], dossier, borrower=officers["partner"], purpose="阅卷")
    services.return_loan(officers["manager"], loan)
    clock.refresh_from_db()
    assert clock.state == "met"
    with pytest.raises(Conflict):
        services.return_loan(officers["manager"], loan)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=3000), cuts=st.lists(st.integers(0, 3000), max_size=6))
def test_any_chunking_of_a_file_stores_the_same_hash(body, cuts):
    data = pdf() + body
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    chunks = [data[a:b] for a, b in zip(points, points[1:], strict=False)]
    blob = storage.put(chunks)
    assert blob.sha256 == hashlib.sha256(data).hexdigest() and blob.size == len(data)
    assert b"".join(storage.read_chunks(blob.name)) == data


@settings(max_examples=60)
@given(head=st.binary(min_size=1, max_size=64))
def test_only_known_file_headers_are_taken(head):
    known = any(head.startswith(magic) for magic, _, _ in storage.SIGNATURES)
    try:
        storage.sniff(head)
    except InvalidInput:
        assert not known
    else:
        assert known


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_deciding_at_once_do_not_both_apply(make_case, officers, make_user):
    from casecenter.accounts.models import Role

    second = make_user("legal2", Role.LEGAL_AFFAIRS, org="legal")
    case = make_case()
    document = services.add_document(
        officers["lead"], services_dossier(case), kind="evidence", chunks=[pdf("c")]
    )
    barrier = threading.Barrier(2)
    results: list[str] = []

    def decide(reviewer, decision):
        try:
            barrier.wait(5)
            services.review(reviewer, document, decision=decision, version=1, reasons="理由")
            results.append(decision)
        except Conflict:
            results.append("conflict")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(officers["legal"], "approved")),
        threading.Thread(target=decide, args=(second, "returned")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results, key=lambda r: r == "conflict")[1] == "conflict", results
    assert Review.objects.filter(document=document).count() == 1
    document.refresh_from_db()
    assert document.review_state == Review.objects.get().decision


def services_dossier(case):
    from django.db import transaction

    with transaction.atomic():
        return services.dossier_of(case)


def test_a_secret_cases_documents_are_reviewed_only_by_legal_affairs_assigned_to_it(
    officers, make_case, make_user
):
    from casecenter.accounts.models import Role

    case = make_case(secret=True)
    document = services.add_case_document(
        officers["lead"], case, kind="evidence", chunks=[pdf("secret")]
    )
    with pytest.raises(PermissionDenied):
        services.review(officers["legal"], document, decision="approved", version=1)
    cases.assign_officer(officers["lead"], case, officers["legal"], "supervisor")
    services.review(officers["legal"], document, decision="approved", version=1)
    other = make_user("legal-other", Role.LEGAL_AFFAIRS, org="legal")
    assert not services.may_review(other, document.dossier)


def test_only_the_documents_of_the_cases_kind_are_generated(officers, make_case):
    criminal, administrative = make_case(), make_case(kind="administrative", category="assault")
    assert "admin_decision" not in services.generated_kinds(criminal)
    assert "prosecution_opinion" not in services.generated_kinds(administrative)
    with pytest.raises(InvalidInput):
        services.generate(officers["lead"], criminal, "admin_decision")
    assert services.generate(officers["lead"], administrative, "admin_decision").generated


@pytest.mark.django_db
def test_a_case_with_the_longest_title_gets_a_dossier_titled_to_fit(case):
    """Found by schemathesis on PostgreSQL: number + 200-character title overflowed."""
    from django.db import transaction

    from casecenter.cases.models import Case

    Case.objects.filter(pk=case.pk).update(title="案" * 200)
    case.refresh_from_db()
    with transaction.atomic():
        made = services.dossier_of(case)
    made.refresh_from_db()
    assert len(made.title) == 200
    assert made.title.startswith(f"{case.number} 案")
