"""The JSON API root: one NinjaAPI, one router per app, every error as JSON.

Clients authenticate with a bearer token (``Authorization: Bearer cc_…``,
from ``POST /api/auth/token``) or with the browser's session (then unsafe
methods need the CSRF token, as in the UI). Errors always read
``{"code": …, "message": …}`` with a 4xx status; invalid input never gives 500.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation
from ninja.security import HttpBearer, SessionAuth

from casecenter.accounts.services import user_for_token
from casecenter.apicontract import (
    ContractSchema,
    JsonParser,
    error_body,
    operation_id,
    standard_error,
    www_authenticate,
)
from casecenter.errors import DomainError, InvalidInput


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class BrowserSessionAuth(SessionAuth):
    """The browser's session, CSRF-checked — but only when there is one.

    A client that sends ``Authorization`` speaks for a token, not a session: a
    bad token then gets 401 (not django-ninja's "403 CSRF check Failed", which
    it would get from the session check that runs next), and so does a request
    with neither a token nor a logged-in session.
    """

    def __call__(self, request: HttpRequest) -> Any:
        if "Authorization" in request.headers or not request.user.is_authenticated:
            return None
        return super().__call__(request)


class LocalSwagger(Swagger):
    """The Swagger UI at /api/docs from ninja's own template and static files, no CDN.

    ninja renders its local page only when "ninja" is an installed app, and its
    CDN page otherwise. casecenter does not install it (settings.NINJA_DIR: that
    would import ninja and pydantic at every start-up), so the page is rendered
    here, as ninja renders it, from the template found by path.
    """

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {
            "swagger_settings": json.dumps(self.settings, indent=1),
            "api": api,
            # the browser's session is CSRF-checked: the page sends the token
            "add_csrf": any(getattr(auth, "csrf", False) for auth in api.auth or ()),
        }
        return render(request, self.template, context)


class ContractAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return ContractSchema(self, path_prefix)

    def get_openapi_operation_id(self, operation: Operation) -> str:
        return operation_id(operation)


api = ContractAPI(
    title="casecenter API",
    version="1",
    description=(
        "Incidents, cases, people and the statutory clocks of a case-handling center. "
        "Authentication, errors, paging and the versioning policy: docs/api.md."
    ),
    auth=[BearerAuth(), BrowserSessionAuth()],
    urls_namespace="api",
    parser=JsonParser(),
    docs=LocalSwagger(),
)


def _error(request: HttpRequest, error: DomainError) -> HttpResponse:
    response = api.create_response(request, error_body(error), status=error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = www_authenticate(request)
    return response


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    from casecenter.dossiers.uploads import refusal

    stopped = refusal(request)  # a file stopped while it streamed is "too large", not missing
    if stopped is not None:
        return _error(request, stopped)
    problems = [
        {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
        for e in exc.errors
    ]
    text = "; ".join(f"{p['where']}: {p['problem']}" for p in problems)
    error = InvalidInput("invalid_input", f"输入无效：{text}", f"Invalid input — {text}")
    return api.create_response(request, {**error_body(error), "errors": problems}, status=422)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, standard_error(401))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, standard_error(404))


@api.exception_handler(RequestDataTooBig)
def _too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, standard_error(413))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, DomainError):  # the parser's 415 (apicontract.JsonParser)
        return _error(request, exc.__cause__)
    if isinstance(exc.__cause__, RequestDataTooBig):
        return _error(request, standard_error(413))
    return _error(request, standard_error(exc.status_code, detail=str(exc)))


class HealthOut(Schema):
    status: Literal["ok"]


@api.get("/health", auth=None, response=HealthOut, tags=["system"])
def health(request: HttpRequest) -> dict[str, str]:
    """Liveness probe (and the trivial baseline endpoint of the benchmarks)."""
    return {"status": "ok"}


def _mount() -> None:
    from casecenter.accounts.api import router as accounts
    from casecenter.assistance.api import router as assistance
    from casecenter.audit.api import router as audit
    from casecenter.calendars.api import router as law
    from casecenter.cases.api import router as cases
    from casecenter.custody.api import router as custody
    from casecenter.devices.api import router as devices
    from casecenter.dossiers.api import router as dossiers
    from casecenter.exchange.api import router as exchange
    from casecenter.fasttrack.api import router as fasttrack
    from casecenter.incidents.api import router as incidents
    from casecenter.measures.api import router as measures
    from casecenter.meetings.api import router as meetings
    from casecenter.portal.api import router as portal
    from casecenter.property.api import router as property_
    from casecenter.supervision.api import router as supervision

    api.add_router("/", accounts)
    api.add_router("/incidents", incidents)
    api.add_router("/cases", cases)
    api.add_router("/law", law)
    api.add_router("/", measures)
    api.add_router("/", supervision)
    api.add_router("/property", property_)
    api.add_router("/portal", portal)
    api.add_router("/devices", devices)
    api.add_router("/custody", custody)
    api.add_router("/dossiers", dossiers)
    api.add_router("/exchange", exchange)
    api.add_router("/fast-track", fasttrack)
    api.add_router("/meetings", meetings)
    api.add_router("/assistance", assistance)
    api.add_router("/audit", audit)


_mount()
