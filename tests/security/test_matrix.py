"""The role × endpoint matrix (issue 14): every route of the API and every page with
an object in its path, driven by every role on the demo's records.

The routes are enumerated, not hand-picked: the API's from its OpenAPI document,
the pages' from the URL resolver walked whole. A route without a rule below, or
a rule for a route that no longer exists, fails
``test_every_route_has_a_rule`` with the route's name — a new route is written
down here with who may call it before it ships.

A read (GET) is driven by every role (``world.ROLES``) on the world's object of
its kind (a case of the 中关村 station with its lead officer, the item, the stay,
the package, a legal-aid matter …): the roles the rule allows get 2xx/3xx, every
other role 401/403/404 (a page: or the redirect to the login page), and where the
rule says the read shows personal data, each allowed read wrote an audit entry.
The same reads of a *secret* case are refused to everyone but its own officer.

A write (POST, PATCH, DELETE) is driven without a body by every role the rule
does not allow: it must be refused (4xx) and write nothing (no audit entry — every
write of the project writes one). Whether the allowed roles succeed with a valid
body is each app's own tests' business.

A cell the matrix found wrong, in a part another helper of issue 14 owns, is a
``GAPS`` entry naming that part: the route's test is then an expected failure
until the part is fixed — and fails as soon as the cell is right, so the gap is
taken off the list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.security import drive
from tests.security.world import ROLES

ALL = frozenset(ROLES) - {"anonymous"}
PUBLIC = frozenset(ROLES)
NOBODY: frozenset[str] = frozenset()
ON = frozenset({"officer_on_case"})
SUPERVISORS = frozenset({"case_management", "legal_affairs"})
#: who reads a case's personal data: its officer and its supervisors (cases.access)
CASE = ON | SUPERVISORS
#: the police of the case's station who may know the case exists
STATION = CASE | {"officer_off_case"}
#: the center's own staff
CENTER = frozenset({"custody_staff", "medical", "commander"})


@dataclass(frozen=True)
class Rule:
    """Who may call a route. ``audited``: an allowed read shows personal data and
    writes an audit entry. ``query``: the GET's query string. ``objects``: which
    world object fills a path argument, where not the default."""

    allowed: frozenset[str]
    audited: bool = False
    query: dict = field(default_factory=dict)
    objects: dict = field(default_factory=dict)
    write: bool = False


def read(allowed: frozenset[str], *, audited: bool = False, **extra) -> Rule:
    return Rule(allowed, audited, **extra)


#: a write driven without a body: nobody may change anything with it (see the docstring)
WRITE = Rule(NOBODY, write=True)


def write(allowed: frozenset[str]) -> Rule:
    """A write some roles may make with an empty body (no input needed)."""
    return Rule(allowed, write=True)


API_RULES: dict[str, Rule] = {
    # --- system, accounts, directory
    "GET /api/health": read(PUBLIC),
    "GET /api/me": read(ALL),
    "GET /api/officers": read(ALL),
    "GET /api/organisations": read(ALL),
    "GET /api/auth/tokens": read(ALL),
    "POST /api/auth/token": WRITE,
    # the token is the lead's own; an administrator revokes anyone's
    "DELETE /api/auth/token/{token_id}": write(ON | {"admin"}),
    "GET /api/law/period": read(
        ALL, query={"start": "2026-01-05T10:00:00+08:00", "length": 3, "unit": "day"}
    ),
    "POST /api/law/id-number": WRITE,
    # --- the audit log: proofs and checkpoints for its auditors (every read audited)
    "GET /api/audit/entries/{seq}/proof": read(frozenset({"admin"}), audited=True),
    "GET /api/audit/checkpoint": read(frozenset({"admin"}), audited=True),
    "GET /api/audit/keys": read(frozenset({"admin"}), audited=True),
    # --- incidents and cases
    "GET /api/incidents": read(ALL),
    "GET /api/incidents/{incident_id}": read(STATION, audited=True),
    "POST /api/incidents": WRITE,
    "POST /api/incidents/{incident_id}/close": WRITE,
    "POST /api/incidents/{incident_id}/convert": WRITE,
    "POST /api/incidents/{incident_id}/reporter/reveal-phone": WRITE,
    "GET /api/cases": read(ALL),
    "POST /api/cases": WRITE,
    "GET /api/cases/{case_id}": read(CASE, audited=True),
    "PATCH /api/cases/{case_id}": WRITE,
    "GET /api/cases/{case_id}/timeline": read(CASE, audited=True),
    "POST /api/cases/{case_id}/transitions": WRITE,
    "POST /api/cases/{case_id}/parties": WRITE,
    "POST /api/cases/{case_id}/parties/{party_id}/reveal-id": WRITE,
    "POST /api/cases/{case_id}/assignments": WRITE,
    "DELETE /api/cases/{case_id}/assignments/{user_id}": write(ON | {"case_management"}),
    "POST /api/cases/{case_id}/break-glass": WRITE,
    "PUT /api/cases/{case_id}/parties/{party_id}/contact": write(CASE),
    # the break-glass grants to review: the world's grant is on a case of the 中关村 station
    "GET /api/cases/break-glass": read(SUPERVISORS),
    "POST /api/cases/break-glass/{grant_id}/review": write(SUPERVISORS),
    # --- measures, alerts, clocks, rules
    "GET /api/cases/{case_id}/measures": read(CASE, audited=True),
    "POST /api/cases/{case_id}/measures": WRITE,
    "POST /api/measures/{measure_id}/moments": WRITE,
    "POST /api/measures/{measure_id}/end": WRITE,
    "GET /api/alerts": read(ALL),
    "POST /api/alerts/acknowledge": WRITE,
    "GET /api/alerts/{alert_id}": read(ON | {"case_management"}),
    "POST /api/alerts/{alert_id}/acknowledge": write(ON | {"case_management"}),
    "POST /api/alerts/{alert_id}/resolve": WRITE,
    "GET /api/deadlines": read(ALL, audited=True),
    "POST /api/deadlines/{deadline_id}/extend": WRITE,
    "GET /api/rules": read(ALL),
    "GET /api/rules/{code}": read(ALL),
    "PATCH /api/rules/{code}": write(frozenset({"admin"})),
    # --- property
    "GET /api/property/items": read(ALL),
    "GET /api/property/items/{item_id}": read(STATION | {"custody_staff"}, audited=True),
    "POST /api/property/cases/{case_id}/items": WRITE,
    "POST /api/property/items/{item_id}/hand-over": WRITE,
    "POST /api/property/items/{item_id}/store": WRITE,
    "POST /api/property/items/{item_id}/move": WRITE,
    "POST /api/property/items/{item_id}/check-out": WRITE,
    "POST /api/property/items/{item_id}/return": WRITE,
    "POST /api/property/items/{item_id}/transfer": WRITE,
    "POST /api/property/items/{item_id}/dispose": WRITE,
    "POST /api/property/items/{item_id}/appraisals": WRITE,
    "POST /api/property/appraisals/{appraisal_id}/result": WRITE,
    "POST /api/property/items/{item_id}/photos": WRITE,
    "GET /api/property/scan": read(STATION | {"custody_staff"}, query={"code": "item"}),
    "GET /api/property/rooms": read(ALL),
    "GET /api/property/rooms/{room_id}": read(frozenset({"custody_staff"})),
    "GET /api/property/locations/{location_id}": read(frozenset({"custody_staff"})),
    "GET /api/property/rooms/{room_id}/stock-takes": read(frozenset({"custody_staff"})),
    "POST /api/property/rooms/{room_id}/stock-takes": write(frozenset({"custody_staff"})),
    "GET /api/property/stock-takes/{count_id}": read(frozenset({"custody_staff"})),
    "POST /api/property/stock-takes/{count_id}/scans": WRITE,
    "POST /api/property/stock-takes/{count_id}/sign-off": WRITE,
    # --- the public portal's staff side
    "POST /api/portal/cases/{case_id}/receipts": WRITE,
    "GET /api/portal/cases/{case_id}/public": read(STATION),
    "GET /api/portal/cases/{case_id}/feedback": read(CASE, audited=True),
    "GET /api/portal/feedback": read(ALL, audited=True),
    "POST /api/portal/cases/{case_id}/messages/{message_id}/answer": WRITE,
    # --- devices (a device's key, not a user)
    "POST /api/devices/events": WRITE,
    "GET /api/devices/commands": read(NOBODY),
    # --- custody
    "GET /api/custody/centers/{code}/map": read(
        STATION | CENTER | {"specialist", "admin"}, audited=True
    ),
    "POST /api/custody/stays": WRITE,
    "GET /api/custody/stays/{stay_id}": read(CASE | CENTER, audited=True),
    "POST /api/custody/stays/{stay_id}/exit": WRITE,
    "POST /api/custody/stays/{stay_id}/sessions": WRITE,
    "POST /api/custody/stays/{stay_id}/sessions/{session_id}/close": write(
        CASE | {"custody_staff", "commander"}
    ),
    # --- dossiers
    "GET /api/dossiers/cases/{case_id}": read(CASE, audited=True),
    "POST /api/dossiers/cases/{case_id}/documents": WRITE,
    "POST /api/dossiers/documents/{document_id}/versions": WRITE,
    "POST /api/dossiers/documents/{document_id}/review": WRITE,
    "POST /api/dossiers/cases/{case_id}/generate": WRITE,
    "GET /api/dossiers/documents/{document_id}/file": read(CASE, audited=True),
    "POST /api/dossiers/cases/{case_id}/loans": WRITE,
    "POST /api/dossiers/loans/{loan_id}/return": write(SUPERVISORS),
    # --- exchange (the world's package went to legal aid; its matter is legal aid's)
    "GET /api/exchange/organisations": read(ALL),
    "GET /api/exchange/inbox": read(ALL),
    "GET /api/exchange/outbox": read(ALL),
    "GET /api/exchange/packages/{package_id}": read(CASE | {"duty_lawyer"}, audited=True),
    "POST /api/exchange/packages/{package_id}/people/{index}/reveal": WRITE,
    "POST /api/exchange/packages/{package_id}/receive": WRITE,
    "POST /api/exchange/packages/{package_id}/accept": WRITE,
    "POST /api/exchange/packages/{package_id}/return": WRITE,
    "POST /api/exchange/packages/{package_id}/verify": write(CASE | {"duty_lawyer"}),
    "GET /api/exchange/packages/{package_id}/zip": read(CASE | {"duty_lawyer"}, audited=True),
    "POST /api/exchange/packages/{package_id}/resend": WRITE,
    "POST /api/exchange/cases/{case_id}/packages": WRITE,
    "POST /api/exchange/verify": WRITE,
    "GET /api/exchange/matters": read(ALL),
    "GET /api/exchange/matters/{matter_id}": read(frozenset({"duty_lawyer"}), audited=True),
    "POST /api/exchange/matters/{matter_id}/people/{index}/reveal": WRITE,
    "POST /api/exchange/matters/{matter_id}/packages": WRITE,
    "POST /api/exchange/matters/{matter_id}/lawyer": WRITE,
    "POST /api/exchange/matters/{matter_id}/meetings": WRITE,
    "POST /api/exchange/matters/{matter_id}/indict": WRITE,
    "POST /api/exchange/matters/{matter_id}/hearing": WRITE,
    "POST /api/exchange/matters/{matter_id}/judgment": WRITE,
    "POST /api/exchange/matters/{matter_id}/conclude": WRITE,
    # --- fast track (the world's track has matters at the procuratorate, the court, legal aid)
    "GET /api/fast-track/": read(ALL, audited=True),
    "GET /api/fast-track/{track_id}": read(
        CASE | {"prosecutor", "judge", "duty_lawyer"}, audited=True
    ),
    "POST /api/fast-track/cases/{case_id}": WRITE,
    "POST /api/fast-track/{track_id}/legal-aid": WRITE,
    "POST /api/fast-track/{track_id}/submit": WRITE,
    "POST /api/fast-track/{track_id}/abandon": WRITE,
    # --- remote lawyer meetings (the detention centre's)
    "GET /api/meetings/lawyer": read(frozenset({"duty_lawyer", "defence_lawyer"})),
    "POST /api/meetings/lawyer": WRITE,
    "GET /api/meetings/lawyers": read(frozenset({"detention_staff", "admin"})),
    "POST /api/meetings/lawyers/{lawyer_id}/verify": WRITE,
    "POST /api/meetings/lawyers/{lawyer_id}/refuse": WRITE,
    "GET /api/meetings/centres": read(ALL),
    "GET /api/meetings/rooms": read(ALL),
    "GET /api/meetings/detainees": read(frozenset({"detention_staff"})),
    "POST /api/meetings/detainees": WRITE,
    "GET /api/meetings/detainees/{detainee_id}": read(frozenset({"detention_staff"}), audited=True),
    "POST /api/meetings/detainees/{detainee_id}/release": write(frozenset({"detention_staff"})),
    "GET /api/meetings/bookings": read(ALL),
    "POST /api/meetings/bookings": WRITE,
    "GET /api/meetings/bookings/{booking_id}": read(
        frozenset({"defence_lawyer", "detention_staff"}), audited=True
    ),
    "POST /api/meetings/bookings/{booking_id}/confirm": WRITE,
    "POST /api/meetings/bookings/{booking_id}/refuse": WRITE,
    "POST /api/meetings/bookings/{booking_id}/cancel": WRITE,
    "POST /api/meetings/bookings/{booking_id}/start": WRITE,
    "POST /api/meetings/bookings/{booking_id}/end": WRITE,
    "POST /api/meetings/bookings/{booking_id}/missed": WRITE,
    # --- three-level response
    "GET /api/assistance": read(ALL),
    "POST /api/assistance": WRITE,
    "GET /api/assistance/board": read(frozenset({"commander"})),
    "GET /api/assistance/levels": read(ALL),
    "GET /api/assistance/cases/{case_id}/units": read(ON),
    "GET /api/assistance/{request_id}": read(ON | {"legal_affairs"}, audited=True),
    "POST /api/assistance/{request_id}/answer": WRITE,
    "POST /api/assistance/{request_id}/follow-up": WRITE,
    "POST /api/assistance/{request_id}/escalate": WRITE,
    "POST /api/assistance/{request_id}/close": WRITE,
    "POST /api/assistance/{request_id}/withdraw": WRITE,
}

#: pages with an object in their path, by URL name (``admin:<pattern>``: the admin site)
PAGE_RULES: dict[str, Rule] = {
    "account-token-revoke": write(ON | {"admin"}),
    "incident-detail": read(STATION, audited=True),
    "incident-convert": WRITE,
    "incident-close": WRITE,
    "incident-reveal-phone": WRITE,
    "break-glass-detail": read(SUPERVISORS),
    "case-party-contact": write(CASE),
    "case-detail": read(CASE, audited=True),
    "case-transition": WRITE,
    "case-add-party": WRITE,
    "case-assign": WRITE,
    "case-break-glass": WRITE,
    "portal-token": read(NOBODY),  # a wrong token: nobody, the public included
    "portal-rate": WRITE,
    "portal-message": WRITE,
    "portal-issue": write(ON),  # a receipt for the party: no input needed
    "portal-answer": WRITE,
    "measure-start": WRITE,
    "measure-moment": WRITE,
    "measure-end": WRITE,
    "alert-detail": read(ON | {"case_management"}),
    "alert-acknowledge": write(ON | {"case_management"}),
    "alert-resolve": WRITE,
    "deadline-extend": WRITE,
    "rule-edit": read(frozenset({"admin"})),
    "property-item": read(STATION | {"custody_staff"}, audited=True),
    "property-label": read(STATION | {"custody_staff"}),
    "property-move": WRITE,
    "property-appraisal-result": WRITE,
    "property-photo": read(STATION | {"custody_staff"}),
    "property-register": WRITE,
    "property-room": read(frozenset({"custody_staff"})),
    "property-shelf-labels": read(frozenset({"custody_staff"})),
    "property-counts": read(frozenset({"custody_staff"})),
    "property-location": read(frozenset({"custody_staff"})),
    "property-count": read(frozenset({"custody_staff"})),
    "property-count-scan": WRITE,
    "property-count-sign": WRITE,
    "custody-enter": read(CASE),
    "custody-stay": read(CASE | CENTER, audited=True),
    "custody-exit": WRITE,
    "custody-belonging-photo": WRITE,
    # the world's belonging has no photo: not found for everyone
    "custody-belonging-photo-file": read(NOBODY),
    "custody-session-open": WRITE,
    "custody-session-close": write(CASE | {"custody_staff", "commander"}),
    "case-dossier": read(CASE, audited=True),
    "dossier-add-document": WRITE,
    "dossier-generate": WRITE,
    "dossier-lend": WRITE,
    "dossier-file": read(CASE, audited=True),
    "dossier-add-version": WRITE,
    "dossier-review": WRITE,
    "dossier-return": write(SUPERVISORS),
    "package-detail": read(CASE | {"duty_lawyer"}, audited=True),
    "package-zip": read(CASE | {"duty_lawyer"}, audited=True),
    "package-reveal": WRITE,
    "package-receive": WRITE,
    "package-accept": WRITE,
    "package-return": WRITE,
    "package-verify": write(CASE | {"duty_lawyer"}),
    "package-resend": WRITE,
    "package-send": WRITE,
    "matter-detail": read(frozenset({"duty_lawyer"}), audited=True),
    "matter-reveal": WRITE,
    "matter-lawyer": WRITE,
    "matter-meeting": WRITE,
    "matter-indict": WRITE,
    "matter-hearing": WRITE,
    "matter-judgment": WRITE,
    "matter-conclude": WRITE,
    "fasttrack-detail": read(CASE | {"prosecutor", "judge", "duty_lawyer"}, audited=True),
    "fasttrack-stage": read(ALL),  # a redirect to the track's page, which decides
    "fasttrack-start": WRITE,
    "fasttrack-legal-aid": WRITE,
    "fasttrack-submit": WRITE,
    "fasttrack-abandon": WRITE,
    "meeting-detail": read(frozenset({"defence_lawyer", "detention_staff"}), audited=True),
    "meeting-confirm": WRITE,
    "meeting-refuse": WRITE,
    "meeting-cancel": WRITE,
    "meeting-start": WRITE,
    "meeting-end": WRITE,
    "meeting-missed": WRITE,
    "meeting-lawyer-verify": WRITE,
    "meeting-lawyer-refuse": WRITE,
    "meeting-detainee-release": WRITE,
    "assistance-detail": read(ON | {"legal_affairs"}, audited=True),
    "assistance-answer": WRITE,
    "assistance-follow-up": WRITE,
    "assistance-escalate": WRITE,
    "assistance-close": WRITE,
    "assistance-withdraw": WRITE,
}

#: cells found wrong in parts other helpers of issue 14 own: (route, role) → why
GAPS: dict[tuple[str, str], str] = {}


def test_every_route_has_a_rule():
    routes = set(drive.api_routes())
    pages = {k for k in drive.page_routes() if not k.startswith("admin:")}
    problems = [
        f"API route without a rule in API_RULES: {r}" for r in sorted(routes - API_RULES.keys())
    ]
    problems += [
        f"page without a rule in PAGE_RULES: {p}" for p in sorted(pages - PAGE_RULES.keys())
    ]
    problems += [
        f"rule for an API route that no longer exists: {r}"
        for r in sorted(API_RULES.keys() - routes)
    ]
    problems += [
        f"rule for a page that no longer exists: {p}" for p in sorted(PAGE_RULES.keys() - pages)
    ]
    assert not problems, "\n".join(problems)


def _check(route: str, outcomes: dict[str, drive.Outcome], rule: Rule, *, write: bool) -> None:
    """Assert every cell of a route; the known gaps last, as an expected failure."""
    wrong, gaps = [], []
    for role, o in outcomes.items():
        if write and route.startswith(("POST ", "PATCH ", "DELETE ", "PUT ")):
            ok = role in rule.allowed or (not o.changed and not 200 <= o.status < 300)
            expected = "refused, nothing changed"
        elif write:  # a page's form answers a refusal with its page again, or a redirect
            ok = role in rule.allowed or not o.changed
            expected = "nothing changed"
        elif role in rule.allowed:
            ok = o.allowed and (not rule.audited or o.audited > 0)
            expected = "allowed" + (" and audited" if rule.audited else "")
        else:
            ok = o.refused
            expected = "refused"
        if (route, role) in GAPS:
            (gaps if not ok else wrong).append(
                f"{role}: {GAPS[route, role]}" if not ok else f"{role}: fixed — take it off GAPS"
            )
        elif not ok:
            wrong.append(f"{role}: {expected}, got {o.status} (audited: {o.actions})")
    assert not wrong, f"{route}\n" + "\n".join(wrong)
    if gaps:
        pytest.xfail("; ".join(gaps))


@pytest.mark.parametrize("route", sorted(API_RULES))
def test_api_route(world, db, route):
    rule = API_RULES[route]
    method, url, subject = drive.fill_api(world, route, rule.objects)
    write = method != "GET"
    query = {k: (world.objects[v].number if v == "item" else v) for k, v in rule.query.items()}
    outcomes = {}
    for role in ROLES:
        if write and role in rule.allowed:
            continue
        client = world.client(world.user(role, subject))
        outcomes[role] = drive.request(world, client, method, url, api=True, data=query)
    _check(route, outcomes, rule, write=write)


@pytest.mark.parametrize("name", sorted(PAGE_RULES))
def test_page(world, db, name):
    rule = PAGE_RULES[name]
    url, subject = drive.fill_page(world, name, {**drive.page_objects(name), **rule.objects})
    write = rule.write
    outcomes = {}
    for role in ROLES:
        if write and role in rule.allowed:
            continue
        client = world.client(world.user(role, subject))
        method = "POST" if write else "GET"
        outcomes[role] = drive.request(world, client, method, url, api=False)
    _check(name, outcomes, rule, write=write)


def _secret_routes() -> list[str]:
    api = [r for r, rule in API_RULES.items() if r.startswith("GET ") and "{case_id}" in r]
    pages = [
        p
        for p, rule in PAGE_RULES.items()
        if drive.page_objects(p) == {"pk": "case"} and not rule.write
    ]
    return sorted(api + pages)


#: a secret case has no public page (no receipt is issued for it)
NO_SECRET_READ = frozenset({"GET /api/portal/cases/{case_id}/public"})


@pytest.mark.parametrize("route", _secret_routes())
def test_a_secret_case_is_read_by_its_own_officers_only(world, db, route):
    """The reads of a case, on a secret case: those assigned to it whom the route's
    rule allows read it (the demo assigns its branch's legal-affairs officer as
    its supervisor); everyone else — the station's case-management group
    included — is refused."""
    from casecenter.cases.models import Assignment

    case = world.objects["secret_case"]
    on_it = set(
        Assignment.objects.filter(case=case, ended_at__isnull=True).values_list(
            "user_id", flat=True
        )
    )
    if route.startswith("GET "):
        _, url, _ = drive.fill_api(world, route, {"case_id": "secret_case"})
        is_api = True
    else:
        url, _ = drive.fill_page(world, route, {"pk": "secret_case"})
        is_api = False
    for role in ROLES:
        o = drive.request(world, world.client(world.user(role, case)), "GET", url, api=is_api)
        user = world.user(role, case)
        rule = API_RULES.get(route) or PAGE_RULES[route]
        may = role in rule.allowed and user is not None and user.pk in on_it
        if may and route not in NO_SECRET_READ:
            assert o.allowed, f"{route}: {role}, assigned to the secret case, got {o.status}"
        else:
            assert o.refused, f"{route}: {role} got {o.status} on a secret case"


def test_the_admin_site_is_the_administrators_only(world, db):
    """Every admin page with an object in its path, on one object of its model:
    no role but the administrator reaches it (the admin site is the ``mfa``
    helper's: MFA, audit of every change, its address)."""
    from django.apps import apps

    wrong = []
    for key, pattern in drive.page_routes().items():
        parts = pattern.split("/")
        if not key.startswith("admin:") or "<path:object_id>" not in pattern or parts[1] == "r":
            continue
        model = apps.get_model(parts[1], parts[2])
        obj = model.objects.order_by("pk").first()
        if obj is None:
            continue
        url = "/" + pattern.replace("<path:object_id>", str(obj.pk))
        for role in ROLES:
            o = drive.request(world, world.client(world.user(role)), "GET", url, api=False)
            if role == "admin":  # reaches it (or is told no change is allowed: the audit log)
                ok = o.allowed or o.status in (403, 405)
            else:
                ok = o.refused or (o.status == 302 and "/login" in o.location)
            if not ok:
                wrong.append(f"{url} {role}: {o.status} {o.location}")
    assert not wrong, "\n".join(wrong)
