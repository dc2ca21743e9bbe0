"""The dossier pages through Django's test client: the dossier page and its forms,
uploads, review, generated documents, paper loans, the file download and the
case page's card."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casecenter.audit.models import AuditEntry
from casecenter.dossiers import services
from casecenter.dossiers.models import Document, Dossier, Loan, ReviewState, Version
from casecenter.supervision.models import Deadline
from tests.dossiers.conftest import pdf

pytestmark = pytest.mark.django_db


def messages_of(page: str) -> str:
    found = re.search(r'<ul class="messages">(.*?)</ul>', page, re.S)
    return found.group(1) if found else ""


def upload(name: str, data: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def page_of(case) -> str:
    return f"/cases/{case.pk}/dossier/"


# --- who sees the page, and with which forms -------------------------------------------------


def test_the_lead_sees_the_dossier_with_the_forms_of_a_writer(browser_of, officers, case, add):
    document = add("interrogation_record", title="第一次讯问笔录")
    r = browser_of(officers["lead"]).get(page_of(case))
    assert r.status_code == 200
    page = r.content.decode()
    assert "第一次讯问笔录" in page and "讯问笔录" in page and 'data-document="1"' in page
    assert 'data-testid="add-document"' in page and 'enctype="multipart/form-data"' in page
    assert 'data-testid="add-version"' in page
    assert f'name="expected_versions" value="{document.versions_count}"' in page
    assert 'data-kind="registration_form"' in page and 'data-kind="prosecution_opinion"' in page
    assert "data-review=" not in page  # the lead does not review
    assert 'data-testid="lend"' not in page  # nor lend the paper dossier
    assert f'href="/dossiers/documents/{document.pk}/file/?v=1"' in page
    entry = AuditEntry.objects.filter(action="dossier.read", actor_id=officers["lead"].pk).get()
    assert entry.data["case_id"] == case.pk


def test_legal_affairs_gets_the_review_forms_with_the_version_it_saw(
    browser_of, officers, case, add
):
    document = add("evidence")
    services.add_version(officers["lead"], document, chunks=[pdf("v2")], expected_versions=1)
    page = browser_of(officers["legal"]).get(page_of(case)).content.decode()
    assert 'data-review="approved"' in page and 'data-review="returned"' in page
    assert f'action="/dossiers/documents/{document.pk}/review/"' in page
    assert 'name="version" value="2"' in page and 'name="reasons"' in page
    assert 'data-testid="lend"' in page  # legal affairs lends the paper dossier too


@pytest.mark.parametrize("who", ["judge", "stranger", "bystander"])
def test_the_dossier_and_its_files_are_not_found_without_need_to_know(
    browser_of, officers, case, add, who
):
    document = add()
    client = browser_of(officers[who])
    assert client.get(page_of(case)).status_code == 404
    assert client.get(f"/dossiers/documents/{document.pk}/file/").status_code == 404
    r = client.post(f"/cases/{case.pk}/dossier/documents/", {"kind": "evidence"})
    assert r.status_code == 404
    r = client.post(f"/dossiers/documents/{document.pk}/review/", {"version": 1})
    assert r.status_code == 404
    assert not AuditEntry.objects.filter(actor_id=officers[who].pk, action__startswith="dossier")


def test_a_case_without_a_dossier_shows_an_empty_one_and_makes_none(browser_of, officers, case):
    page = browser_of(officers["lead"]).get(page_of(case)).content.decode()
    assert "卷宗中还没有文书" in page and 'data-testid="add-document"' in page
    assert not Dossier.objects.exists()


# --- writing through the page ----------------------------------------------------------------


def test_a_document_uploaded_through_the_page_is_kept_under_its_hash(browser_of, officers, case):
    data = pdf("受案登记表扫描件")
    r = browser_of(officers["lead"]).post(
        f"/cases/{case.pk}/dossier/documents/",
        {
            "kind": "registration_form",
            "title": "受案登记表",
            "note": "原件扫描",
            "file": upload("登记表.pdf", data),
        },
    )
    assert r.status_code == 302 and r.url == f"{page_of(case)}#documents"
    document = Document.objects.get()
    version = document.versions.get()
    assert (document.dossier.case, document.kind, document.title) == (
        case,
        "registration_form",
        "受案登记表",
    )
    assert document.review_state == ReviewState.PENDING and document.created_by == officers["lead"]
    assert version.sha256 == hashlib.sha256(data).hexdigest() and version.size == len(data)
    assert (version.filename, version.note) == ("登记表.pdf", "原件扫描")


def test_a_file_that_is_not_a_pdf_shows_the_error_and_writes_nothing(browser_of, officers, case):
    r = browser_of(officers["lead"]).post(
        f"/cases/{case.pk}/dossier/documents/",
        {"kind": "evidence", "file": upload("x.pdf", b"<html><script>alert(1)</script>")},
        follow=True,
    )
    assert r.status_code == 200
    assert "卷宗文件须为 PDF、OFD 或图片" in messages_of(r.content.decode())
    assert not Document.objects.exists() and not Version.objects.exists()
    assert not Dossier.objects.exists()  # not even the dossier it would have gone into


@pytest.mark.parametrize(
    "form",
    [
        {"kind": "spaceship"},
        {"kind": "evidence", "title": "x" * 201},
        {"kind": "evidence", "note": "\x00"},
        {},
    ],
)
def test_odd_upload_forms_are_refused_on_the_page(browser_of, officers, case, form):
    r = browser_of(officers["lead"]).post(
        f"/cases/{case.pk}/dossier/documents/",
        {**form, "file": upload("a.pdf", pdf())},
        follow=True,
    )
    assert r.status_code == 200 and "请更正" in messages_of(r.content.decode())
    assert not Document.objects.exists() and not Dossier.objects.exists()


def test_a_new_version_through_the_page_and_a_stale_one_refused(browser_of, officers, case, add):
    document = add("evidence", "v1")
    lead = browser_of(officers["lead"])
    url = f"/dossiers/documents/{document.pk}/versions/"
    r = lead.post(url, {"file": upload("v2.pdf", pdf("v2")), "expected_versions": 1})
    assert r.status_code == 302 and r.url == f"{page_of(case)}#document-{document.pk}"
    r = lead.post(url, {"file": upload("v2b.pdf", pdf("v2b")), "expected_versions": 1}, follow=True)
    assert "文书已有新版本" in messages_of(r.content.decode())
    assert [v.filename for v in document.versions.order_by("number")] == ["evidence.pdf", "v2.pdf"]


def test_review_through_the_page_approves_or_returns_with_reasons(browser_of, officers, case, add):
    approved, returned = add("evidence", "a"), add("inquiry_record", "b")
    legal = browser_of(officers["legal"])
    review = "/dossiers/documents/{}/review/"
    r = legal.post(review.format(returned.pk), {"decision": "returned", "version": 1}, follow=True)
    assert "退回须说明理由" in messages_of(r.content.decode())
    legal.post(
        review.format(returned.pk),
        {"decision": "returned", "version": 1, "reasons": "缺少被询问人签名"},
    )
    legal.post(review.format(approved.pk), {"decision": "approved", "version": 1})
    approved.refresh_from_db()
    returned.refresh_from_db()
    assert (approved.review_state, returned.review_state) == ("approved", "returned")
    r = legal.post(
        review.format(approved.pk),
        {"decision": "returned", "version": 1, "reasons": "再议"},
        follow=True,
    )
    assert "该版本已审核" in messages_of(r.content.decode())
    approved.refresh_from_db()
    assert approved.review_state == "approved" and approved.reviews.count() == 1
    page = legal.get(page_of(case)).content.decode()
    assert "缺少被询问人签名" in page and "退回修改" in page
    # the lead cannot review, whatever is posted
    r = browser_of(officers["lead"]).post(
        review.format(returned.pk), {"decision": "approved", "version": 1}, follow=True
    )
    assert "只有负责该案件的法制部门可以审核" in messages_of(r.content.decode())


def test_a_document_generated_on_the_page_is_an_html_page_of_the_case(browser_of, officers, case):
    lead = browser_of(officers["lead"])
    r = lead.post(f"/cases/{case.pk}/dossier/generate/", {"kind": "registration_form"})
    assert r.status_code == 302
    document = Document.objects.get()
    assert document.generated and document.versions.get().content_type == "text/html"
    page = lead.get(page_of(case)).content.decode()
    assert 'data-testid="add-version"' not in page  # generated again, not uploaded
    r = lead.post(f"/cases/{case.pk}/dossier/generate/", {"kind": "judgment"}, follow=True)
    assert "请更正" in messages_of(r.content.decode()) and Document.objects.count() == 1


def test_the_paper_dossier_is_lent_to_an_officer_of_the_case_and_taken_back(
    browser_of, officers, case
):
    manager = browser_of(officers["manager"])
    page = manager.get(page_of(case)).content.decode()
    assert 'data-testid="lend"' in page and "partner" in page
    r = manager.post(
        f"/cases/{case.pk}/dossier/loans/",
        {"borrower": officers["stranger"].pk, "purpose": "阅卷"},
        follow=True,
    )
    assert "请更正" in messages_of(r.content.decode()) and not Loan.objects.exists()
    r = manager.post(
        f"/cases/{case.pk}/dossier/loans/", {"borrower": officers["partner"].pk, "purpose": "阅卷"}
    )
    assert r.status_code == 302 and r.url == f"{page_of(case)}#loans"
    loan = Loan.objects.get()
    assert loan.borrower == officers["partner"] and loan.returned_at is None
    page = manager.get(page_of(case)).content.decode()
    assert 'data-testid="open-loan"' in page and "阅卷" in page and 'data-testid="lend"' not in page
    # the lead sees the loan but neither lends nor takes back
    lead = browser_of(officers["lead"])
    assert 'data-testid="return-loan"' not in lead.get(page_of(case)).content.decode()
    r = lead.post(f"/dossiers/loans/{loan.pk}/return/", follow=True)
    assert "只有案管或法制部门可以收回" in messages_of(r.content.decode())
    manager.post(f"/dossiers/loans/{loan.pk}/return/")
    loan.refresh_from_db()
    assert loan.returned_at is not None and loan.received_by == officers["manager"]
    assert Deadline.objects.get(rule_id="dossier.return").state == "met"
    r = manager.post(f"/dossiers/loans/{loan.pk}/return/", follow=True)
    assert "该卷宗已归还" in messages_of(r.content.decode())
    assert (
        browser_of(officers["stranger"]).post(f"/dossiers/loans/{loan.pk}/return/").status_code
        == 404
    )


# --- the file ---------------------------------------------------------------------------------


def test_the_download_serves_the_exact_bytes_as_an_attachment_and_is_audited(
    browser_of, officers, add
):
    document = add("evidence", "第一版")
    services.add_version(
        officers["lead"],
        document,
        chunks=[pdf("第二版")],
        expected_versions=1,
        filename="现场照片 说明.pdf",
    )
    legal = browser_of(officers["legal"])
    r = legal.get(f"/dossiers/documents/{document.pk}/file/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == pdf("第二版")
    assert r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"] == (
        'attachment; filename="document.pdf"; '
        "filename*=UTF-8''%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87%20%E8%AF%B4%E6%98%8E.pdf"
    )
    assert r["X-Content-Type-Options"] == "nosniff" and r["Content-Security-Policy"] == "sandbox"
    assert "no-store" in r["Cache-Control"]
    first = legal.get(f"/dossiers/documents/{document.pk}/file/?v=1")
    assert b"".join(first.streaming_content) == pdf("第一版")
    reads = AuditEntry.objects.filter(action="dossier.file_read", actor_id=officers["legal"].pk)
    assert sorted(e.data["version"] for e in reads) == [1, 2]
    for odd in ("3", "0", "abc", "99999999999999999999", "-1"):
        assert legal.get(f"/dossiers/documents/{document.pk}/file/?v={odd}").status_code == 404
    assert reads.count() == 2


def test_a_generated_document_is_served_in_a_sandbox(browser_of, officers, case):
    document = services.generate(officers["lead"], case, "registration_form")
    r = browser_of(officers["lead"]).get(f"/dossiers/documents/{document.pk}/file/")
    assert r.status_code == 200 and r["Content-Type"] == "text/html"
    assert r["Content-Security-Policy"] == "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    assert case.number in b"".join(r.streaming_content).decode()


# --- the case page's card ---------------------------------------------------------------------


def test_the_case_page_card_counts_documents_and_says_what_blocks_filing(
    browser_of, officers, case, add
):
    lead = browser_of(officers["lead"])
    card = lead.get(f"/cases/{case.pk}/").content.decode()
    assert f'href="/cases/{case.pk}/dossier/"' in card and ">卷宗<" in card
    assert 'data-step="file"' in card and "卷宗中没有阻碍" in card
    add("registration_form")
    returned = add("evidence")
    services.review(officers["legal"], returned, decision="returned", version=1, reasons="模糊")
    reads = AuditEntry.objects.filter(action__startswith="dossier.read").count()
    card = lead.get(f"/cases/{case.pk}/").content.decode()
    assert re.search(r'data-testid="dossier-documents"><b>2</b>', card)
    assert re.search(r'data-testid="dossier-pending"><b>1</b>', card)
    assert re.search(r'data-testid="dossier-returned"><b>1</b>', card)
    assert "001 受案登记表：待法制审核" in card
    assert AuditEntry.objects.filter(action__startswith="dossier.read").count() == reads


def test_what_blocks_a_step_is_said_in_the_pages_language(browser_of, officers, case, add):
    add("registration_form", title="登记表")
    english = browser_of(officers["lead"])
    english.cookies["django_language"] = "en"
    page = english.get(page_of(case)).content.decode()
    assert "<li>document 1 pending</li>" in page and "登记表：" not in page
    chinese = browser_of(officers["lead"]).get(page_of(case)).content.decode()
    assert "<li>001 登记表：待法制审核</li>" in chinese and "document 1 pending" not in chinese


form_values = st.one_of(
    st.text(max_size=30),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["approved", "returned", "evidence", "registration_form", "\x00", "0", "1"]),
)


@pytest.fixture
def fuzz_target(browser_of, officers, case, add):
    document = add()
    return browser_of(officers["legal"]), {"case": case.pk, "document": document.pk}


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(
        [
            "/cases/{case}/dossier/documents/",
            "/cases/{case}/dossier/generate/",
            "/cases/{case}/dossier/loans/",
            "/dossiers/documents/{document}/versions/",
            "/dossiers/documents/{document}/review/",
        ]
    ),
    form=st.dictionaries(
        st.sampled_from(
            [
                "kind",
                "title",
                "note",
                "expected_versions",
                "decision",
                "version",
                "reasons",
                "borrower",
                "purpose",
            ]
        ),
        form_values,
        max_size=6,
    ),
    with_file=st.booleans(),
)
def test_no_form_input_makes_a_dossier_page_answer_500(fuzz_target, path, form, with_file):
    client, ids = fuzz_target
    if with_file:
        form = {**form, "file": upload("x.pdf", pdf("fuzz"))}
    r = client.post(path.format(**ids), form)
    assert r.status_code == 302, (path, form)
