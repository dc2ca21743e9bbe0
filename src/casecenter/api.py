"""The JSON API root: one NinjaAPI, one router per app, every error as JSON.

Clients authenticate with a bearer token (``Authorization: Bearer cc_…``,
from ``POST /api/auth/token``) or with the browser's session (then unsafe
methods need the CSRF token, as in the UI). Errors always read
``{"code": …, "message": …}`` with a 4xx status; invalid input never gives 500.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from casecenter.accounts.services import user_for_token
from casecenter.errors import DomainError


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="casecenter API",
    version="1",
    description="Incidents, cases, people and the statutory clocks of a case-handling center.",
    auth=[BearerAuth(), SessionAuth()],
    urls_namespace="api",
)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    from casecenter.dossiers.uploads import refusal

    stopped = refusal(request)  # a file stopped while it streamed is "too large", not missing
    if stopped is not None:
        return _domain_error(request, stopped)
    problems = [
        {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
        for e in exc.errors
    ]
    text = "; ".join(f"{p['where']}: {p['problem']}" for p in problems)
    return api.create_response(
        request,
        {"code": "invalid_input", "message": f"Invalid input — {text}", "errors": problems},
        status=422,
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"code": "unauthenticated", "message": "Log in or send a valid bearer token."},
        status=401,
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"code": "not_found", "message": "Not found."}, status=404)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(
        request, {"code": f"http_{exc.status_code}", "message": str(exc)}, status=exc.status_code
    )


@api.get("/health", auth=None, tags=["system"])
def health(request: HttpRequest) -> dict[str, str]:
    """Liveness probe (and the trivial baseline endpoint of the benchmarks)."""
    return {"status": "ok"}


def _mount() -> None:
    from casecenter.accounts.api import router as accounts
    from casecenter.assistance.api import router as assistance
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


_mount()
