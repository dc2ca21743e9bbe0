"""How the matrix drives a route: every route of the API (the OpenAPI document)
and every page URL pattern with an object in its path (the URL resolver, walked
whole), the path filled from the world, one request per role, and what came
back: the status, whether it was a refusal, how many audit entries it wrote."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from casecenter.audit.models import AuditEntry
from tests.security.world import World

#: an API path parameter → the world's object that fills it
API_PARAMS = {
    "case_id": "case",
    "measure_id": "measure",
    "alert_id": "alert",
    "deadline_id": "deadline",
    "code": "rule",
    "item_id": "item",
    "appraisal_id": "appraisal",
    "room_id": "room",
    "location_id": "location",
    "count_id": "count",
    "message_id": "message",
    "stay_id": "stay",
    "session_id": "session",
    "document_id": "document",
    "loan_id": "loan",
    "package_id": "package",
    "matter_id": "matter",
    "track_id": "track",
    "lawyer_id": "lawyer",
    "detainee_id": "detainee",
    "booking_id": "booking",
    "request_id": "assistance",
    "incident_id": "incident",
    "party_id": "party",
    "token_id": "api_token",
    "user_id": "assignee",
    "grant_id": "grant",
}

#: a page's URL name → the world's object of each path argument (``index``: 0)
PAGE_PREFIXES = [
    ("account-token-", {"pk": "api_token"}),
    ("incident-", {"pk": "incident"}),
    ("break-glass-", {"pk": "grant"}),
    ("case-party-", {"pk": "case", "party_id": "party"}),
    ("case-", {"pk": "case"}),
    ("portal-token", {"token": "token"}),
    ("portal-issue", {"case_id": "case", "party_id": "party"}),
    ("portal-answer", {"case_id": "case", "message_id": "message"}),
    ("portal-", {"receipt_id": "receipt"}),
    ("measure-start", {"pk": "case"}),
    ("measure-", {"pk": "measure"}),
    ("alert-", {"pk": "alert"}),
    ("deadline-", {"pk": "deadline"}),
    ("rule-edit", {"code": "rule"}),
    ("property-move", {"pk": "item", "move": "store"}),
    ("property-appraisal-result", {"pk": "appraisal"}),
    ("property-photo", {"pk": "photo"}),
    ("property-register", {"pk": "case"}),
    ("property-room", {"pk": "room"}),
    ("property-shelf-labels", {"pk": "room"}),
    ("property-counts", {"pk": "room"}),
    ("property-location", {"pk": "location"}),
    ("property-count", {"pk": "count"}),
    ("property-", {"pk": "item"}),
    ("custody-enter", {"party_id": "party"}),
    ("custody-belonging", {"pk": "stay", "belonging_id": "belonging"}),
    ("custody-session-close", {"pk": "stay", "session_id": "session"}),
    ("custody-", {"pk": "stay"}),
    ("case-dossier", {"pk": "case"}),
    ("dossier-add-document", {"pk": "case"}),
    ("dossier-generate", {"pk": "case"}),
    ("dossier-lend", {"pk": "case"}),
    ("dossier-return", {"pk": "loan"}),
    ("dossier-", {"pk": "document"}),
    ("package-send", {"case_id": "case"}),
    ("package-reveal", {"pk": "package", "index": 0}),
    ("package-", {"pk": "package"}),
    ("matter-reveal", {"pk": "matter", "index": 0}),
    ("matter-", {"pk": "matter"}),
    ("fasttrack-stage", {"pk": "stage"}),
    ("fasttrack-start", {"case_id": "case"}),
    ("fasttrack-", {"pk": "track"}),
    ("meeting-lawyer-", {"pk": "lawyer"}),
    ("meeting-detainee-", {"pk": "detainee"}),
    ("meeting-", {"pk": "booking"}),
    ("assistance-", {"pk": "assistance"}),
]


def api_routes() -> list[str]:
    """Every operation of the API as ``"METHOD /api/path"``, from its OpenAPI document."""
    from casecenter.api import api

    paths = api.get_openapi_schema()["paths"]
    return sorted(f"{method.upper()} {path}" for path, ops in paths.items() for method in ops)


def _walk(resolver: URLResolver, prefix: str = ""):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def page_routes() -> dict[str, str]:
    """Every page URL pattern with an argument in its path, outside the API:
    ``{key: pattern}``, the key being the URL's name, or ``admin:<pattern>`` for
    the admin site's patterns (its unnamed ones included)."""
    found = {}
    for pattern, p in _walk(get_resolver()):
        if pattern.startswith("api/") or not ("<" in pattern or "(?P" in pattern):
            continue
        admin = pattern.startswith("admin/") or pattern.startswith(_admin_prefix())
        key = f"admin:{pattern}" if admin or not p.name else p.name
        found[key] = pattern
    return found


def _admin_prefix() -> str:
    from django.conf import settings

    return getattr(settings, "CASECENTER_ADMIN_PATH", "admin/")


def page_objects(name: str) -> dict[str, str | int]:
    for prefix, args in PAGE_PREFIXES:
        if name.startswith(prefix):
            return args
    raise KeyError(name)


#: an audit action that records a read, not a change
READ_ACTION = re.compile(r"\.(read|read_\w+|\w+_read|\w+_viewed|\w+_listed|\w+_exported)$")


@dataclass
class Outcome:
    status: int
    actions: list[str]  # the audit entries the request wrote
    location: str = ""

    @property
    def audited(self) -> int:
        return len(self.actions)

    @property
    def changed(self) -> list[str]:
        """The audit entries of changes (not of reads) the request wrote."""
        return [a for a in self.actions if not READ_ACTION.search(a)]

    @property
    def refused(self) -> bool:
        """401, 403 or 404 — or, for a page, a redirect to the login page."""
        if self.status in (401, 403, 404):
            return True
        return self.status in (301, 302) and "login" in self.location

    @property
    def allowed(self) -> bool:
        return 200 <= self.status < 400 and not self.refused


def request(
    world: World, client: Client, method: str, url: str, *, api: bool, data: Any = None
) -> Outcome:
    """One request, its changes rolled back after (the world stays as built)."""
    with transaction.atomic():
        before = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
        before = -1 if before is None else before
        if method == "GET":
            r = client.get(url, data or {})
        elif api:
            r = client.generic(method, url, "{}", content_type="application/json")
        else:
            r = client.post(url, data or {})
        actions = list(
            AuditEntry.objects.filter(id__gt=before).order_by("id").values_list("action", flat=True)
        )
        outcome = Outcome(r.status_code, actions, r.get("Location", ""))
        transaction.set_rollback(True)
    return outcome


def fill_api(world: World, route: str, objects: dict[str, str]) -> tuple[str, str, Any]:
    """The method, the URL and the object of an API route."""
    method, path = route.split(" ", 1)
    subject = None

    def value(match: re.Match) -> str:
        nonlocal subject
        name = match.group(1)
        if name in ("index", "seq"):  # seq: the audit log's first entry
            return "0"
        if name == "code" and "/centers/" in path:
            return str(world.objects["center"])
        obj = world.objects[objects.get(name, API_PARAMS[name])]
        if subject is None and not isinstance(obj, str | int):
            subject = obj
        return str(getattr(obj, "pk", obj))

    return method, re.sub(r"\{(\w+)\}", value, path), subject


def fill_page(world: World, name: str, objects: dict[str, str | int]) -> tuple[str, Any]:
    from django.urls import reverse

    kwargs: dict[str, Any] = {}
    subject = None
    for arg, key in objects.items():
        if isinstance(key, int) or arg == "move":
            kwargs[arg] = key
            continue
        obj = world.objects[key]
        kwargs[arg] = getattr(obj, "pk", obj)
        if subject is None and not isinstance(obj, str | int):
            subject = obj
    return reverse(name, kwargs=kwargs), subject
