"""The dossier through the JSON API: documents, versions, review, generated
documents, loans and files; conflicts as 409, bad input as JSON 422, a dossier
one may not know as 404."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casecenter.audit.models import AuditEntry
from casecenter.dossiers.models import Document, Dossier, Loan, Review, Version
from tests.dossiers.conftest import pdf
from tests.supervision.conftest import post

pytestmark = pytest.mark.django_db


def upload(data: bytes, name: str = "scan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def test_the_whole_walk_of_a_document_through_the_api(api, officers, case):
    lead, legal, manager = api("lead"), api("legal"), api("manager")
    r = lead.post(
        f"/api/dossiers/cases/{case.pk}/documents",
        {"kind": "evidence", "title": "现场照片", "note": "第一批", "file": upload(pdf("v1"))},
    )
    assert r.status_code == 201, r.content
    document = r.json()
    assert (document["number"], document["kind"], document["title"]) == (1, "evidence", "现场照片")
    assert document["review_state"] == "pending" and document["versions_count"] == 1
    [v1] = document["versions"]
    assert v1["sha256"] == hashlib.sha256(pdf("v1")).hexdigest() and v1["size"] == len(pdf("v1"))
    assert (v1["content_type"], v1["filename"], v1["note"]) == (
        "application/pdf",
        "scan.pdf",
        "第一批",
    )
    assert v1["uploaded_by_id"] == officers["lead"].pk

    versions = f"/api/dossiers/documents/{document['id']}/versions"
    r = lead.post(versions, {"file": upload(pdf("v2"), "v2.pdf"), "expected_versions": 1})
    assert r.status_code == 201, r.content
    assert [v["number"] for v in r.json()["versions"]] == [1, 2]
    r = lead.post(versions, {"file": upload(pdf("v3")), "expected_versions": 1})
    assert r.status_code == 409 and r.json()["code"] == "document.stale"
    assert r.json()["facts"] == {"current_versions": 2, "your_versions": 1}
    assert Version.objects.count() == 2

    review = f"/api/dossiers/documents/{document['id']}/review"
    r = post(legal, review, {"decision": "approved", "version": 1})
    assert r.status_code == 409 and r.json()["code"] == "document.stale"  # read only version 1
    r = post(legal, review, {"decision": "approved", "version": 2})
    assert r.status_code == 200, r.content
    assert r.json()["review_state"] == "approved"
    assert [(x["version"], x["decision"]) for x in r.json()["reviews"]] == [(2, "approved")]
    r = post(legal, review, {"decision": "returned", "version": 2, "reasons": "再看"})
    assert r.status_code == 409 and r.json()["code"] == "review.decided"
    assert Review.objects.count() == 1

    r = post(lead, f"/api/dossiers/cases/{case.pk}/generate", {"kind": "prosecution_opinion"})
    assert r.status_code == 201, r.content
    generated = r.json()
    assert generated["generated"] and generated["versions"][0]["content_type"] == "text/html"

    file = lead.get(f"/api/dossiers/documents/{document['id']}/file?version=1")
    assert file.status_code == 200 and b"".join(file.streaming_content) == pdf("v1")
    assert file["X-Content-Type-Options"] == "nosniff"
    latest = lead.get(v1["url"].replace("version=1", "version=2"))
    assert b"".join(latest.streaming_content) == pdf("v2")
    assert AuditEntry.objects.filter(action="dossier.file_read").count() == 2

    r = post(
        manager,
        f"/api/dossiers/cases/{case.pk}/loans",
        {"borrower_id": officers["partner"].pk, "purpose": "补充侦查"},
    )
    assert r.status_code == 201, r.content
    loan = r.json()
    assert loan["borrower_id"] == officers["partner"].pk and loan["returned_at"] is None
    r = post(
        manager,
        f"/api/dossiers/cases/{case.pk}/loans",
        {"borrower_id": officers["lead"].pk, "purpose": "阅卷"},
    )
    assert r.status_code == 409 and r.json()["code"] == "loan.open"
    r = post(manager, f"/api/dossiers/loans/{loan['id']}/return", {})
    assert r.status_code == 200 and r.json()["returned_at"] is not None
    assert post(manager, f"/api/dossiers/loans/{loan['id']}/return", {}).status_code == 409

    r = legal.get(f"/api/dossiers/cases/{case.pk}")
    assert r.status_code == 200
    dossier = r.json()
    assert [d["number"] for d in dossier["documents"]] == [1, 2]
    assert dossier["documents"][0]["review_state"] == "approved"
    assert dossier["may_review"] and dossier["may_write"] and dossier["may_lend"]
    assert [x["purpose"] for x in dossier["loans"]] == ["补充侦查"]
    assert set(dossier["blocking"]) == {"file", "transfer_for_prosecution", "decide"}
    assert any("002" in p["zh"] for p in dossier["blocking"]["transfer_for_prosecution"])
    assert AuditEntry.objects.filter(action="dossier.read", actor_id=officers["legal"].pk).exists()


@pytest.mark.parametrize("who", ["judge", "stranger", "bystander"])
def test_a_dossier_one_may_not_know_is_404(api, officers, case, add, who):
    document = add()
    client = api(who)
    assert client.get(f"/api/dossiers/cases/{case.pk}").status_code == 404
    assert client.get(f"/api/dossiers/documents/{document.pk}/file").status_code == 404
    r = client.post(
        f"/api/dossiers/cases/{case.pk}/documents", {"kind": "evidence", "file": upload(pdf())}
    )
    assert r.status_code == 404 and r.json()["code"] in ("case.not_found", "dossier.not_found")
    r = post(
        client,
        f"/api/dossiers/documents/{document.pk}/review",
        {"decision": "approved", "version": 1},
    )
    assert r.status_code == 404
    assert Document.objects.count() == 1
    assert not AuditEntry.objects.filter(actor_id=officers[who].pk, action__startswith="dossier")


def test_the_dossier_of_a_case_without_documents_is_empty_and_not_made(api, case):
    r = api("lead").get(f"/api/dossiers/cases/{case.pk}")
    assert r.status_code == 200
    assert (r.json()["id"], r.json()["documents"], r.json()["may_write"]) == (None, [], True)
    assert not Dossier.objects.exists()


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"kind": "spaceship", "file": "pdf"}, "document.kind"),
        ({"kind": "evidence", "file": "html"}, "document.file_type"),
        ({"kind": "evidence", "file": "empty"}, "document.empty"),
        ({"kind": "evidence"}, "invalid_input"),
        ({"file": "pdf"}, "invalid_input"),
        ({"kind": "evidence", "title": "x" * 201, "file": "pdf"}, "invalid_input"),
        ({"kind": "evidence", "note": "备注\x00", "file": "pdf"}, "invalid_input"),
    ],
)
def test_bad_uploads_are_json_422_and_write_nothing(api, case, form, code):
    files = {"pdf": pdf(), "html": b"<html></html>", "empty": b""}
    data = {k: (upload(files[v]) if k == "file" else v) for k, v in form.items()}
    r = api("lead").post(f"/api/dossiers/cases/{case.pk}/documents", data)
    assert r.status_code == 422, r.content
    assert r.json()["code"] == code
    assert not Document.objects.exists() and not Version.objects.exists()
    assert not Dossier.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"decision": "maybe", "version": 1},
        {"decision": "approved", "version": 0},
        {"decision": "approved", "version": 2**70},
        {"decision": "approved"},
        {"decision": "returned", "version": 1},
        {"decision": "returned", "version": 1, "reasons": "x" * 2001},
        {"decision": "returned", "version": 1, "reasons": "\x00"},
    ],
)
def test_bad_reviews_are_json_422_and_decide_nothing(api, add, payload):
    document = add()
    r = post(api("legal"), f"/api/dossiers/documents/{document.pk}/review", payload)
    assert r.status_code == 422, r.content
    assert "code" in r.json() and not Review.objects.exists()
    document.refresh_from_db()
    assert document.review_state == "pending"


def test_bad_versions_generates_loans_and_files_are_json_4xx(api, officers, case, add):
    document = add()
    lead, manager = api("lead"), api("manager")
    versions = f"/api/dossiers/documents/{document.pk}/versions"
    for form in (
        {"file": upload(pdf("v2")), "expected_versions": -1},
        {"file": upload(pdf("v2")), "expected_versions": "eins"},
        {"file": upload(pdf("v2"))},
        {"expected_versions": 1},
    ):
        r = lead.post(versions, form)
        assert r.status_code == 422 and r.json()["code"] == "invalid_input", form
    assert Version.objects.count() == 1
    r = post(lead, f"/api/dossiers/cases/{case.pk}/generate", {"kind": "judgment"})
    assert r.status_code == 422 and r.json()["code"] == "document.not_generated"
    assert post(lead, f"/api/dossiers/cases/{case.pk}/generate", {}).status_code == 422
    loans = f"/api/dossiers/cases/{case.pk}/loans"
    partner = officers["partner"].pk
    assert post(manager, loans, {"borrower_id": partner, "purpose": "  "}).status_code == 422
    assert post(manager, loans, {"borrower_id": 2**60, "purpose": "阅卷"}).status_code == 422
    r = post(manager, loans, {"borrower_id": 999999, "purpose": "阅卷"})
    assert r.status_code == 404 and r.json()["code"] == "loan.borrower"
    r = post(manager, loans, {"borrower_id": officers["judge"].pk, "purpose": "阅卷"})
    assert r.status_code == 422 and r.json()["code"] == "loan.borrower"
    r = post(lead, loans, {"borrower_id": partner, "purpose": "阅卷"})
    assert r.status_code == 403 and r.json()["code"] == "dossier.lend"
    assert not Loan.objects.exists()
    files = f"/api/dossiers/documents/{document.pk}/file"
    assert lead.get(f"{files}?version=0").status_code == 422
    assert lead.get(f"{files}?version=7").status_code == 404
    assert post(manager, "/api/dossiers/loans/999999/return", {}).status_code == 404


def test_a_generated_file_from_the_api_is_sandboxed(api, case):
    lead = api("lead")
    r = post(lead, f"/api/dossiers/cases/{case.pk}/generate", {"kind": "registration_form"})
    file = lead.get(r.json()["versions"][0]["url"])
    assert file.status_code == 200 and file["Content-Type"] == "text/html"
    assert file["Content-Security-Policy"] == (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    )
    assert file["Content-Disposition"].startswith('inline; filename="')
    assert ".html\"; filename*=UTF-8''" in file["Content-Disposition"]


def test_the_openapi_document_lists_the_dossier_routes(db):
    from django.test import Client

    paths = set(Client().get("/api/openapi.json").json()["paths"])
    assert {
        "/api/dossiers/cases/{case_id}",
        "/api/dossiers/cases/{case_id}/documents",
        "/api/dossiers/documents/{document_id}/versions",
        "/api/dossiers/documents/{document_id}/review",
        "/api/dossiers/documents/{document_id}/file",
        "/api/dossiers/cases/{case_id}/loans",
        "/api/dossiers/loans/{loan_id}/return",
    } <= paths


json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.text(max_size=30),
    st.sampled_from(["approved", "returned", "registration_form", "evidence", "\x00", "0"]),
    st.lists(st.integers(), max_size=3),
)


@pytest.fixture
def fuzz_target(api, officers, case, add):
    document = add()
    return api("legal"), {
        "case": case.pk,
        "document": document.pk,
        "partner": officers["partner"].pk,
    }


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    endpoint=st.sampled_from(
        [
            "/api/dossiers/documents/{document}/review",
            "/api/dossiers/cases/{case}/generate",
            "/api/dossiers/cases/{case}/loans",
        ]
    ),
    body=st.dictionaries(
        st.sampled_from(["decision", "version", "reasons", "kind", "borrower_id", "purpose"]),
        json_values,
        max_size=4,
    ),
)
def test_no_json_input_makes_the_dossier_api_answer_500(fuzz_target, endpoint, body):
    client, ids = fuzz_target
    r = post(client, endpoint.format(**ids), body)
    assert r.status_code < 500, (endpoint, body, r.content)
    assert r["Content-Type"].startswith("application/json")
