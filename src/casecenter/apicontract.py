"""The API's contract: the OpenAPI document describes every answer the API gives.

Three things make ``/api/openapi.json`` true (docs/api.md):

* **Namespaced schema names.** A schema class of an app is published as
  ``<app>.<Class>`` (``cases.EventOut``, ``custody.EventOut``), so two apps'
  classes of the same name can no longer overwrite each other in
  ``components.schemas``; and two *different* schemas under one name (inside an
  app, or one class whose input and output forms differ) stop the document
  from being built at all (:class:`SchemaNameClash`), so a clash fails the
  test suite instead of reaching a client.
* **Every error documented.** Each operation lists the 4xx statuses it can
  answer, all with the shared :class:`Error` body — see :func:`error_statuses`
  for the rule that decides which, from what the operation takes.
* **Every error is that body.** :func:`error_body` is the one place it is
  built; the API's exception handlers, the JSON parser (415 for a body that is
  not JSON) and the ``/api/`` error handlers of the URL map use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, JsonResponse
from ninja import Schema
from ninja.openapi import schema as ninja_openapi
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation
from ninja.parser import Parser
from ninja.schema import NinjaGenerateJsonSchema
from pydantic import Field
from pydantic.json_schema import CoreModeRef, DefsRef

from casecenter.errors import DomainError, InvalidInput

# --- the shared error body ---------------------------------------------------


class ErrorWhere(Schema):
    where: str = Field(description="the input that is wrong, as a dotted path (body.title)")
    problem: str


class Error(Schema):
    """Every 4xx and 5xx answer under /api/ has this body."""

    code: str = Field(description="stable, machine-readable (cases.version_conflict)")
    message: str = Field(description="in the request's language (Accept-Language)")
    message_zh: str
    message_en: str
    facts: dict[str, Any] | None = Field(
        default=None, description="what the client may need to act on the error"
    )
    errors: list[ErrorWhere] | None = Field(
        default=None, description="422 only: each invalid input with its problem"
    )


#: The Chinese and English text of errors that carry no message of their own.
_STANDARD: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "请求无法解析。", "The request could not be parsed."),
    401: ("unauthenticated", "请登录或提供有效的令牌。", "Log in or send a valid bearer token."),
    403: ("forbidden", "无权执行此操作。", "You may not do this."),
    404: ("not_found", "未找到。", "Not found."),
    405: ("method_not_allowed", "不支持此请求方法。", "This method is not allowed here."),
    409: ("conflict", "数据已被他人修改。", "The data changed since you read it."),
    413: ("too_large", "请求内容过大。", "The request body is too large."),
    415: (
        "unsupported_media_type",
        "请求内容须为 JSON（Content-Type: application/json）。",
        "Send the body as JSON (Content-Type: application/json).",
    ),
    422: ("invalid_input", "输入无效。", "Invalid input."),
    429: ("too_many_requests", "请求过于频繁，请稍后再试。", "Too many requests: try again later."),
    500: ("server_error", "服务器内部错误。", "Something went wrong on the server."),
}


def standard_error(status: int, code: str | None = None, detail: str = "") -> DomainError:
    """The :class:`DomainError` of a bare HTTP status, in both languages."""
    default_code, zh, en = _STANDARD.get(status, (f"http_{status}", "请求失败。", "Failed."))
    error = DomainError(code or default_code, zh, f"{en} {detail}".strip() if detail else en)
    error.status = status
    return error


def error_body(error: DomainError) -> dict[str, Any]:
    return error.as_dict()


def error_response(request: HttpRequest | None, error: DomainError) -> JsonResponse:
    """The JSON answer of an error outside the API's own views (URL map handlers)."""
    response = JsonResponse(error_body(error), status=error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = www_authenticate(request)
    return response


def www_authenticate(request: HttpRequest | None) -> str:
    """RFC 6750 §3: a token was sent and refused → ``error="invalid_token"``."""
    header = request.headers.get("Authorization", "") if request is not None else ""
    if header.lower().startswith("bearer "):
        return 'Bearer realm="casecenter", error="invalid_token"'
    return 'Bearer realm="casecenter"'


# --- bodies are JSON ---------------------------------------------------------


class UnsupportedMediaType(DomainError):
    status = 415


class JsonParser(Parser):
    """Refuses a body that does not say it is JSON (``application/json`` or ``+json``).

    django-ninja turns any parser exception into "400 Cannot parse request
    body" with the original as its cause; ``casecenter.api`` answers with the
    cause when it is a :class:`DomainError`, so this one keeps its 415.
    """

    def parse_body(self, request: HttpRequest) -> Any:
        kind = (request.content_type or "").lower()
        if kind != "application/json" and not kind.endswith("+json"):
            raise UnsupportedMediaType(*_STANDARD[415])
        body = super().parse_body(request)
        if not isinstance(body, dict):  # a Schema would read a list's attributes: none
            raise InvalidInput(
                "invalid_input", "请求内容须为 JSON 对象。", "The body must be a JSON object."
            )
        return body


# --- names ------------------------------------------------------------------

_OURS = re.compile(r"casecenter\.(?P<app>\w+)\.(?P<module>[\w.]+)\.(?P<name>\w+):(?P<id>\d+)")


class NamespacedJsonSchema(NinjaGenerateJsonSchema):
    """``casecenter.cases.api.EventOut`` is published as ``cases.EventOut``.

    Works through pydantic's two documented hooks: the reference a model gets
    (:meth:`get_defs_ref`, here with the app as a ``~``-separated prefix) and
    how a reference becomes a name (:meth:`normalize_name`, ``~`` → ``.``).
    Shared schemas at the package's top level (``casecenter.apicontract.Error``)
    keep their plain names.
    """

    def get_defs_ref(self, core_mode_ref: CoreModeRef) -> DefsRef:
        core_ref, mode = core_mode_ref
        ours = _OURS.fullmatch(core_ref)
        if ours:
            core_ref = (
                f"casecenter.{ours['app']}.{ours['module']}."
                f"{ours['app']}~{ours['name']}:{ours['id']}"
            )
        return super().get_defs_ref((core_ref, mode))  # type: ignore[arg-type]

    def normalize_name(self, name: str) -> str:
        return re.sub(r"[^a-zA-Z0-9.\-_~]", "_", name).replace(".", "__").replace("~", ".")


# django-ninja builds each operation's schemas with the generator its OpenAPI
# module names; this is the one line that makes it ours (tests/api/test_contract
# checks that every casecenter schema came out namespaced, so an upgrade that
# stops honouring it fails there).
ninja_openapi.NinjaGenerateJsonSchema = NamespacedJsonSchema  # type: ignore[misc]


class SchemaNameClash(ImproperlyConfigured):
    """Two schemas, or two operations, under one name."""


def operation_id(operation: Operation) -> str:
    """``<app>_<view>`` (``cases_add_party``): what a generated client names its function."""
    module = operation.view_func.__module__.split(".")
    app = module[1] if len(module) > 2 and module[0] == "casecenter" else module[-1]
    return f"{app}_{operation.view_func.__name__}"


# --- which errors an operation documents -------------------------------------

_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_View = TypeVar("_View", bound=Callable[..., Any])


def _sources(operation: Operation) -> set[str]:
    return {m.__ninja_param_source__ for m in operation.models}


def error_statuses(operation: Operation) -> list[int]:
    """The 4xx statuses an operation can answer, by what it takes.

    * 401, 403 and 404: it needs authentication (a role, CSRF; what the caller
      may not see is "not found", wherever the request names it);
    * 404: it names something in its path;
    * 400, 413 and 415: it takes a body (unparseable, too large, not JSON);
    * 409: it writes (a state or a version that changed meanwhile);
    * 422: it takes any input;
    * and what its view declares with :func:`also_answers` (429 where it is
      rate-limited, 403 where it refuses without authentication).
    """
    sources = _sources(operation)
    statuses: set[int] = set()
    if operation.auth_callbacks:
        statuses |= {401, 403, 404}
    if "path" in sources:
        statuses.add(404)
    if sources & {"body", "form", "file"}:
        statuses |= {400, 413}
    if "body" in sources:
        statuses.add(415)
    if set(operation.methods) & _WRITES:
        statuses.add(409)
    if sources:
        statuses.add(422)
    statuses |= set(getattr(operation.view_func, "api_errors", ()))
    return sorted(statuses)


def also_answers(*statuses: int) -> Callable[[_View], _View]:
    """Declares error statuses the rule of :func:`error_statuses` cannot see.

    Goes *below* the router's decorator (it marks the view function)::

        @router.post("/auth/token", auth=None, response={201: TokenOut})
        @also_answers(403, 429)
        def create_token(request, payload): ...
    """
    unknown = set(statuses) - set(_STANDARD)
    if unknown:
        raise ValueError(f"no standard error for status {sorted(unknown)}")

    def mark(view: _View) -> _View:
        view.api_errors = statuses  # type: ignore[attr-defined]
        return view

    return mark


class ContractSchema(OpenAPISchema):
    """django-ninja's document, with the error responses and the name check."""

    def responses(self, operation: Operation) -> dict[int, Any]:
        result = super().responses(operation)
        self._add_error_schema()
        for status in error_statuses(operation):
            if status in result:
                continue
            result[status] = {
                "description": _STANDARD[status][2],
                "content": {"application/json": {"schema": {"$ref": _ERROR_REF}}},
            }
            if status == 401:
                result[status]["headers"] = {
                    "WWW-Authenticate": {
                        "description": 'Bearer realm="casecenter" (RFC 6750)',
                        "schema": {"type": "string"},
                    }
                }
            if status == 429:
                result[status]["headers"] = {
                    "Retry-After": {
                        "description": "seconds to wait",
                        "schema": {"type": "string"},
                    }
                }
        return dict(sorted(result.items()))

    def _add_error_schema(self) -> None:
        if "Error" in self.schemas:
            return
        schema = Error.model_json_schema(
            ref_template=ninja_openapi.REF_TEMPLATE,
            schema_generator=NamespacedJsonSchema,
            mode="serialization",
        )
        self.add_schema_definitions(schema.pop("$defs", {}))
        self.schemas["Error"] = schema

    def operation_details(self, operation: Operation) -> dict[str, Any]:
        name = operation.operation_id or self.api.get_openapi_operation_id(operation)
        if name in self.all_operation_ids:  # django-ninja only prints a warning
            raise SchemaNameClash(f"two operations have the id {name!r}: rename one view")
        return super().operation_details(operation)

    def add_schema_definitions(self, definitions: dict) -> None:
        for name, definition in definitions.items():
            # the title is what generators name a class by: it must be unique too
            definition["title"] = name
            known = self.schemas.get(name)
            if known is not None and known != definition:
                raise SchemaNameClash(
                    f"two different schemas are named {name!r} in the OpenAPI document: "
                    "rename one (names are unique per app), or give a class whose input "
                    "and output forms differ two classes"
                )
        self.schemas.update(definitions)


_ERROR_REF = "#/components/schemas/Error"


# --- errors outside the API's views ------------------------------------------


class ApiErrorsAreJsonMiddleware:
    """Outermost: under ``/api/`` every error answer carries the :class:`Error` body.

    The API's own views already answer so; this catches the rest — an unknown
    path (404), a method the path does not take (django-ninja's bare 405), a
    body too large for ``DATA_UPLOAD_MAX_MEMORY_SIZE`` found by a middleware
    (413, see :func:`casecenter.web.views.error_400`) and a server error (500).
    """

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        response = self.get_response(request)
        if response.status_code < 400 or not request.path.startswith("/api/"):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        answer = error_response(request, standard_error(response.status_code))
        for header, value in response.items():  # Allow, Retry-After, the security headers
            if header.lower() not in ("content-type", "content-length", "www-authenticate"):
                answer[header] = value
        return answer


# --- every answer checked against the document (tests, and on demand) ----------


class ContractViolation(AssertionError):
    """An answer the document does not describe (raised only when checking is on)."""


_ROUTE_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


class ResponseChecker:
    """Checks an ``/api/`` answer against the operation's declared response.

    The status must be documented, and a JSON body must be valid against the
    schema declared for that status (JSON Schema 2020-12, as OpenAPI 3.1 says).
    Built once from the live document; one compiled validator per answer kind.
    """

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._validators: dict[tuple[str, str, str], Any] = {}

    def problem(self, request: HttpRequest, response: Any) -> str | None:
        match = getattr(request, "resolver_match", None)
        if match is None or not match.route.startswith("api/"):
            return None  # an unknown path: ApiErrorsAreJsonMiddleware's JSON 404
        path = "/" + _ROUTE_PARAM.sub(r"{\1}", match.route)
        operations = self.document["paths"].get(path)
        if operations is None:
            return None  # the document itself, the docs page
        operation = operations.get(request.method.lower())
        if operation is None:
            return None if response.status_code == 405 else f"{request.method} {path} undocumented"
        status = str(response.status_code)
        declared = operation["responses"].get(status)
        if declared is None:
            return f"{request.method} {path} answered {status}, which it does not document"
        content = declared.get("content")
        body = b"" if response.streaming else response.content
        if content is None:
            return f"{request.method} {path} {status}: an undocumented body" if body else None
        sent_json = response.get("Content-Type", "").startswith("application/json")
        if "application/json" not in content or not sent_json:
            return None  # a file download: its media type is the contract
        import json

        errors = sorted(
            self._validator(path, request.method, status, content).iter_errors(json.loads(body)),
            key=lambda e: list(e.absolute_path),
        )
        if not errors:
            return None
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(body)"
        return f"{request.method} {path} {status}: {where}: {first.message}"

    def _validator(self, path: str, method: str, status: str, content: dict[str, Any]) -> Any:
        key = (path, method, status)
        if key not in self._validators:
            from jsonschema import Draft202012Validator

            schema = {
                **content["application/json"]["schema"],
                "components": self.document["components"],
            }
            self._validators[key] = Draft202012Validator(schema)
        return self._validators[key]


_checker: ResponseChecker | None = None


def checker() -> ResponseChecker:
    global _checker
    if _checker is None:
        import json

        from ninja.responses import NinjaJSONEncoder

        from casecenter.api import api

        document = json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))
        _checker = ResponseChecker(document)
    return _checker


class ApiContractCheckMiddleware:
    """With ``CASECENTER_API_CHECK_RESPONSES`` on (the test suite), a wrong answer raises.

    Every test that calls the API then also tests the document: an undocumented
    status or a body its schema does not describe fails the test that caused it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        response = self.get_response(request)
        from django.conf import settings

        if settings.CASECENTER_API_CHECK_RESPONSES and request.path.startswith("/api/"):
            problem = checker().problem(request, response)
            if problem is not None:
                raise ContractViolation(problem)
        return response
