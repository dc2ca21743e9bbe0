"""The OpenAPI document is the contract: names, documented errors, JSON errors everywhere.

Every other test's /api/ answers are checked against the document too
(tests/conftest.py ``api_answers_checked``); these tests check the document
itself and the answers no other test would provoke.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from casecenter.accounts.services import issue_api_token
from casecenter.apicontract import ContractViolation, ResponseChecker, SchemaNameClash

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(client):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    return r.json()


@pytest.fixture
def bearer(officers):
    _, secret = issue_api_token(officers["lead"], name="contract")
    return Client(headers={"Authorization": f"Bearer {secret}"})


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method.upper(), operation


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on the first problem


def test_schema_names_are_namespaced_by_app(document):
    names = set(document["components"]["schemas"])
    assert {
        "cases.EventOut",
        "custody.StayOut",
        "property.EventOut",
        "assistance.EventOut",
    } <= names
    assert "EventOut" not in names  # the clash the issue found: one name, three schemas
    shared = {"Error", "ErrorWhere", "HealthOut"}
    assert all("." in name or name in shared for name in names), sorted(names - shared)


def test_titles_and_operation_ids_are_unique_names_a_generator_can_use(document):
    schemas = document["components"]["schemas"]
    assert all(schema["title"] == name for name, schema in schemas.items())
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    assert "cases_add_party" in ids and "incidents_close" in ids  # <app>_<view>


def test_every_reference_resolves(document):
    text = json.dumps(document)
    names = document["components"]["schemas"]
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in names, ref


def test_every_operation_documents_its_errors_with_the_shared_body(document):
    for path, method, operation in operations(document):
        responses = operation["responses"]
        errors = {int(s) for s in responses if int(s) >= 400}
        takes = operation.get("security") or operation["parameters"] or "requestBody" in operation
        assert errors or not takes, f"{method} {path} documents no error"
        for status in errors:
            schema = responses[str(status)]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
        if operation.get("security"):
            assert {401, 403, 404} <= errors, (method, path)
            assert "WWW-Authenticate" in responses["401"]["headers"]
        if "requestBody" in operation:
            assert {400, 413, 422} <= errors, (method, path)
        if "{" in path:
            assert 404 in errors, (method, path)
        if method in {"POST", "PUT", "PATCH", "DELETE"}:
            assert 409 in errors, (method, path)
    token = document["paths"]["/api/auth/token"]["post"]["responses"]
    assert "Retry-After" in token["429"]["headers"]


def test_the_error_schema_has_both_languages(document):
    error = document["components"]["schemas"]["Error"]
    assert {"code", "message", "message_zh", "message_en"} <= set(error["required"])


def error_of(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] and body["message_zh"] and body["message_en"]
    return body


def test_a_bad_bearer_token_on_a_write_is_401_not_a_csrf_refusal(db):
    client = Client(enforce_csrf_checks=True, headers={"Authorization": "Bearer cc_not-a-token"})
    r = client.post("/api/incidents", "{}", content_type="application/json")
    body = error_of(r, 401)
    assert body["code"] == "unauthenticated"
    assert r["WWW-Authenticate"] == 'Bearer realm="casecenter", error="invalid_token"'


def test_no_credentials_at_all_is_401_with_a_challenge(db):
    r = Client(enforce_csrf_checks=True).post("/api/cases", "{}", content_type="application/json")
    error_of(r, 401)
    assert r["WWW-Authenticate"] == 'Bearer realm="casecenter"'


def test_a_logged_in_browser_without_its_csrf_token_is_still_refused(officers):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(officers["lead"])
    r = browser.post("/api/cases", "{}", content_type="application/json")
    assert error_of(r, 403)["code"] == "forbidden"


def test_a_json_body_sent_as_text_is_415(bearer):
    r = bearer.post("/api/cases", json.dumps({"title": "x"}), content_type="text/plain")
    assert error_of(r, 415)["code"] == "unsupported_media_type"
    r = bearer.post("/api/cases", "title=x", content_type="application/x-www-form-urlencoded")
    error_of(r, 415)


def test_json_with_a_suffix_type_is_json(bearer):
    r = bearer.post("/api/cases", "{}", content_type="application/merge-patch+json")
    assert error_of(r, 422)["code"] == "invalid_input"  # parsed: the fields are missing


def test_a_body_that_is_not_an_object_is_refused(bearer, officers):
    r = bearer.post("/api/alerts/1/acknowledge", "[null, null]", content_type="application/json")
    assert error_of(r, 422)["code"] == "invalid_input"
    r = bearer.post("/api/cases", "{not json", content_type="application/json")
    assert error_of(r, 400)["code"] == "bad_request"


def test_an_oversized_body_is_a_json_413(bearer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    r = bearer.post(
        "/api/cases", json.dumps({"title": "x" * 2000}), content_type="application/json"
    )
    assert error_of(r, 413)["code"] == "too_large"


def test_an_oversized_form_found_by_a_middleware_is_a_json_413(officers, settings):
    """The CSRF middleware reads a form body before any view: Django's 400 page, unless…"""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    browser = Client()
    browser.force_login(officers["lead"])
    r = browser.post("/api/cases", {"title": "x" * 2000})
    error_of(r, 413)


def test_an_unknown_path_and_a_wrong_method_are_json(bearer):
    assert error_of(bearer.get("/api/no-such-thing"), 404)["code"] == "not_found"
    r = bearer.delete("/api/health")
    assert error_of(r, 405)["code"] == "method_not_allowed"
    assert "GET" in r["Allow"]


def test_a_validation_error_lists_each_problem(bearer):
    r = bearer.post("/api/cases", json.dumps({"kind": "criminal"}), content_type="application/json")
    body = error_of(r, 422)
    assert {e["where"] for e in body["errors"]} >= {"body.payload.title", "body.payload.category"}


# --- the checker that every other test runs under ---------------------------


def test_the_checker_refuses_an_undocumented_status(document, rf):
    from django.http import JsonResponse
    from django.urls import resolve

    request = rf.get("/api/cases/1")
    request.resolver_match = resolve("/api/cases/1")
    checker = ResponseChecker(document)
    assert checker.problem(request, JsonResponse({"code": "x"}, status=418)) == (
        "GET /api/cases/{case_id} answered 418, which it does not document"
    )


def test_the_checker_refuses_a_body_its_schema_does_not_describe(document, rf):
    from django.http import JsonResponse
    from django.urls import resolve

    request = rf.get("/api/cases/1")
    request.resolver_match = resolve("/api/cases/1")
    problem = ResponseChecker(document).problem(request, JsonResponse({"id": "one"}))
    assert problem.startswith("GET /api/cases/{case_id} 200: ")
    error = ResponseChecker(document).problem(request, JsonResponse({"code": 1}, status=404))
    assert "message" in error


def test_the_checker_is_on_in_the_test_suite(officers, monkeypatch):
    """An answer the document does not describe fails the test that caused it."""
    from casecenter.cases import selectors
    from casecenter.errors import DomainError

    class Gone(DomainError):
        status = 410  # documented nowhere

    def case_list(*args, **kwargs):
        raise Gone("case.gone", "已删除。", "Gone.")

    monkeypatch.setattr(selectors, "case_list", case_list)
    browser = Client()
    browser.force_login(officers["lead"])
    with pytest.raises(ContractViolation, match="answered 410, which it does not document"):
        browser.get("/api/cases")


def test_two_schemas_under_one_name_stop_the_document():
    from ninja import Router, Schema

    from casecenter.api import ContractAPI

    class Twin(Schema):
        a: int

    first = Twin

    class Twin(Schema):  # noqa: F811 - the clash is the point
        b: str

    api = ContractAPI(urls_namespace="clash-test")
    router = Router()

    @router.get("/one", response=first)
    def one(request):
        return {"a": 1}

    @router.get("/two", response=Twin)
    def two(request):
        return {"b": "x"}

    api.add_router("/", router)
    with pytest.raises(SchemaNameClash, match="Twin"):
        api.get_openapi_schema(path_prefix="/")


def test_the_error_body_validates_against_the_error_schema(document, bearer):
    r = bearer.get("/api/cases/999999")
    schema = {"$ref": "#/components/schemas/Error", "components": document["components"]}
    Draft202012Validator(schema).validate(error_of(r, 404))


def test_a_case_patch_changes_what_it_sends_and_refuses_null_for_what_cannot_be_empty(
    bearer, make_case
):
    """Found by schemathesis: ``{"place": null}`` reached the database as NULL (a 500)."""
    case = make_case(place="知春路")

    def patch(body):
        return bearer.patch(
            f"/api/cases/{case.pk}", json.dumps(body), content_type="application/json"
        )

    r = patch({"version": case.version, "place": None})
    assert error_of(r, 422)["errors"][0]["where"] == "body.payload.place"
    r = patch({"version": case.version, "occurred_at": None, "title": "电动车被盗案（更正）"})
    assert r.status_code == 200, r.content
    assert r.json()["place"] == "知春路" and r.json()["title"] == "电动车被盗案（更正）"
