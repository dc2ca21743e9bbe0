"""The exchange at the receiver: a package signed for (verified), accepted or
returned; a matter opened, closed — and the routes and rules of who works where
that the senders (``sending``) and the partners' steps (``steps``) share. One
transaction each, with its audit entry, its outbox event and its clocks.

A package's way::

    sent ──receive──> received ──accept──> accepted (the receiver's matter opens)
      │                  └──return_package──> returned (reasons; the sender may send again)
      └──receive, verification fails──> refused (the problems, for the sender)

Clocks (LAW.md): ``exchange.receive`` runs from sending to signature (policy,
the receiver's); the request's own period runs from receipt, on the matter the
acceptance opens — ``prosecution.review`` (CPL Art. 172), ``fast_track.review``
(Art. 172), ``legal_aid.assign`` (LAL Art. 36), ``fast_track.trial`` (Art. 225).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from casecenter import law
from casecenter.accounts.models import Organisation, OrganisationKind, Role, User
from casecenter.accounts.services import next_serial
from casecenter.audit.services import record
from casecenter.cases import access
from casecenter.cases.models import CaseEvent
from casecenter.cases.services import log_event
from casecenter.dossiers import services as dossiers
from casecenter.dossiers.models import Dossier
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.exchange import packaging
from casecenter.exchange.hooks import ON_ACCEPT
from casecenter.exchange.models import (
    Matter,
    MatterKind,
    Package,
    PackageKind,
    PackageState,
)
from casecenter.moments import past_moment
from casecenter.outbox.services import emit
from casecenter.supervision import services as clocks

OK = OrganisationKind
POLICE_KINDS = frozenset({OK.POLICE_STATION, OK.CASE_CENTER})
#: who works a partner organisation's inbox and matters, by its kind
PARTNER_WORKERS = {
    OK.PROCURATORATE: Role.PROSECUTOR,
    OK.COURT: Role.JUDGE,
    OK.LEGAL_AID: Role.DUTY_LAWYER,
    OK.DETENTION_CENTRE: Role.DETENTION_STAFF,
}
RECEIVE_RULE = "exchange.receive"
MAX_REASONS = 2000


@dataclass(frozen=True)
class Route:
    """Who sends a kind of package to whom, what the receiver opens, its clock."""

    senders: frozenset[str]
    receivers: frozenset[str]
    matter: str | None  # None: the receiver files it on its own case (a hand-back)
    clock: str | None


ROUTES = {
    PackageKind.PROSECUTION_REVIEW: Route(
        POLICE_KINDS,
        frozenset({OK.PROCURATORATE}),
        MatterKind.PROSECUTION_REVIEW,
        "prosecution.review",
    ),
    PackageKind.FAST_TRACK: Route(
        POLICE_KINDS,
        frozenset({OK.PROCURATORATE}),
        MatterKind.FAST_TRACK_REVIEW,
        "fast_track.review",
    ),
    PackageKind.LEGAL_AID: Route(
        POLICE_KINDS | {OK.PROCURATORATE, OK.COURT},
        frozenset({OK.LEGAL_AID}),
        MatterKind.LEGAL_AID,
        "legal_aid.assign",
    ),
    PackageKind.INDICTMENT: Route(
        frozenset({OK.PROCURATORATE}), frozenset({OK.COURT}), MatterKind.TRIAL, None
    ),
    PackageKind.JUDGMENT: Route(
        frozenset({OK.COURT}), POLICE_KINDS | {OK.PROCURATORATE}, None, None
    ),
}
#: a fast track's packages open the fast-track matter and clock instead
FAST_TRACK_MATTER = {MatterKind.TRIAL: MatterKind.FAST_TRACK_TRIAL}
FAST_TRACK_CLOCK = {MatterKind.FAST_TRACK_TRIAL: "fast_track.trial"}
DEFAULT_REQUEST = {
    PackageKind.PROSECUTION_REVIEW: "移送审查起诉，请依法审查。",
    PackageKind.FAST_TRACK: "犯罪嫌疑人认罪认罚，建议适用速裁程序，移送审查起诉。",
    PackageKind.LEGAL_AID: "犯罪嫌疑人没有委托辩护人，请指派值班律师提供法律帮助。",
    PackageKind.INDICTMENT: "提起公诉，建议适用速裁程序审理。",
    PackageKind.JUDGMENT: "送达判决书。",
}


def require(allowed: bool, code: str, zh: str, en: str) -> None:
    """Refuse (403) what ``allowed`` says the actor may not do."""
    if not allowed:
        raise PermissionDenied(code, zh, en)


def moment(at: datetime | None) -> datetime:
    """A moment a user states for a step of the exchange (default now)."""
    return past_moment(at, code="exchange", what_zh="时间", what_en="time")


def _reasons(reasons: str, code: str) -> str:
    reasons = (reasons or "").strip()
    if not reasons:
        raise InvalidInput(code, "须说明理由。", "Give the reasons.")
    if len(reasons) > MAX_REASONS:
        raise InvalidInput(
            code,
            f"理由不能超过{MAX_REASONS}字。",
            f"Reasons may be at most {MAX_REASONS} characters.",
        )
    return reasons


# --- who may --------------------------------------------------------------------------


def is_partner_worker(user: User, organisation_id: int) -> bool:
    """A partner organisation's own working role (prosecutor, judge, duty lawyer,
    detention staff) at that organisation."""
    org = Organisation.objects.filter(pk=organisation_id).only("kind").first()
    return bool(
        org and user.organisation_id == org.pk and PARTNER_WORKERS.get(org.kind) == user.role
    )


def may_receive(user: User, package: Package) -> bool:
    """The receiver's people: a partner organisation's working role; for a package
    to the police, those who may read its case (its officers and supervisors)."""
    if not user.is_authenticated:
        return False
    if package.receiver.kind in POLICE_KINDS:
        return bool(
            package.case_id
            and user.is_police
            and package.receiver_id == package.case.organisation_id
            and access.may_read_personal(user, package.case)
        )
    return is_partner_worker(user, package.receiver_id)


def may_work(user: User, matter: Matter) -> bool:
    return matter.state == Matter.State.OPEN and is_partner_worker(user, matter.organisation_id)


# --- routes ----------------------------------------------------------------------------


def route(kind: str, sender: Organisation, receiver: Organisation) -> Route:
    """The route of a kind of package between two organisations (422 if there is none)."""
    found = ROUTES.get(kind)  # type: ignore[call-overload]
    if found is None:
        raise InvalidInput(
            "package.kind", f"未知的移交类型：{kind}", f"Unknown kind of package: {kind}"
        )
    if sender.kind not in found.senders or receiver.kind not in found.receivers:
        raise InvalidInput(
            "package.route",
            f"{sender.name}不能向{receiver.name}移交“{PackageKind(kind).label}”。",
            f"{sender.name_en or sender.code} cannot send a {kind} package to "
            f"{receiver.name_en or receiver.code}.",
        )
    return found


def _locked(package: Package) -> Package:
    return (
        Package.objects.select_for_update(of=("self",))
        .select_related("receiver", "sender", "case")
        .get(pk=package.pk)
    )


def _expect(package: Package, *states: str) -> None:
    if package.state not in states:
        raise Conflict(
            "package.state",
            f"移交材料当前状态为“{PackageState(package.state).label}”，不能进行此操作。",
            f"The package is {package.state}; this step does not apply.",
            state=package.state,
        )


def receive(actor: User, package: Package, *, at: datetime | None = None) -> Package:
    """Sign for a package (签收): verify it against the sender's keys and the stored
    files. Verified, it is received and its request's period starts; not, it is
    refused with every problem found, for the sender to see.

    The files are hashed before the transaction, so a large dossier holds no lock
    (on SQLite, the whole database's) while it is read; under the row lock the
    package must still be unsigned and its manifest the one verified."""
    seen = Package.objects.select_related("receiver", "sender", "case").get(pk=package.pk)
    require(
        may_receive(actor, seen),
        "package.receive",
        "您不能签收该移交材料。",
        "You may not sign for this package.",
    )
    _expect(seen, PackageState.SENT)
    verdict = packaging.verify(seen)
    with transaction.atomic():
        package = _locked(seen)
        _expect(package, PackageState.SENT)
        if (package.manifest, package.signature) != (seen.manifest, seen.signature):
            verdict = packaging.verify(package)  # changed meanwhile: judge what is there now
        return _signed_for(actor, package, verdict, max(moment(at), package.sent_at))


def _signed_for(
    actor: User, package: Package, verdict: packaging.manifest.Verdict, at: datetime
) -> Package:
    package.verification = {
        "ok": verdict.ok,
        "signer": verdict.signer,
        "signer_checked": verdict.signer_checked,
        "problems": [p.__dict__ for p in verdict.problems],
        "checked_at": timezone.now().isoformat(),
    }
    package.state = PackageState.RECEIVED if verdict.ok else PackageState.REFUSED
    package.received_by, package.received_at = actor, at
    package.save(update_fields=["verification", "state", "received_by", "received_at"])
    clocks.meet_deadlines(actor, None, [RECEIVE_RULE], at=at, subject=f"package:{package.pk}")
    record(
        actor,
        "exchange.package_received" if verdict.ok else "exchange.package_refused",
        package,
        data={
            "number": package.number,
            "ok": verdict.ok,
            "problems": [f"{p.code} {p.path}".strip() for p in verdict.problems],
        },
    )
    emit(
        "exchange.package_received",
        package=package.pk,
        ok=verdict.ok,
        sender=package.sender_id,
    )
    return package


def reverify(actor: User, package: Package) -> packaging.manifest.Verdict:
    """Verify a package again now (either side may): any change since it was
    signed — a file, the manifest, the signature — is found. Audited."""
    verdict = packaging.verify(package)
    with transaction.atomic():
        record(
            actor,
            "exchange.package_verified",
            package,
            data={"ok": verdict.ok, "problems": [p.code for p in verdict.problems]},
        )
    return verdict


def _matter_number(org: Organisation, at: datetime) -> str:
    year = timezone.localdate(at).year
    return f"{org.code.upper()}-SL-{year}-{next_serial(org.pk, 'matter', year):04d}"


def _documents_of(package: Package) -> list[tuple[str, str, Any, str]]:
    return [
        (
            f.kind,
            f.title,
            packaging.storage.Blob(f.sha256, f.size, f.storage_name, f.content_type),
            f.path.rsplit("/", 1)[-1],
        )
        for f in package.files.all()
    ]


def _open_matter(actor: User, package: Package, way: Route, at: datetime) -> Matter:
    kind = way.matter
    if package.fast_track_id:
        kind = FAST_TRACK_MATTER.get(kind, kind)  # type: ignore[arg-type]
    number = _matter_number(package.receiver, at)
    data = packaging.manifest_of(package)
    dossier = Dossier.objects.create(
        organisation=package.receiver,
        title=f"{number} {package.title}"[:200],
        paper=False,
    )
    matter = Matter.objects.create(
        organisation=package.receiver,
        number=number,
        kind=kind,
        title=package.title,
        case_number=package.case_number,
        handler=actor,
        opened_at=at,
        received_at=package.received_at,
        people=json.dumps(data.get("extra", {}).get("people", []), ensure_ascii=False),
        dossier=dossier,
        fast_track_id=package.fast_track_id,
    )
    dossiers.attach_handed_over(
        actor, dossier, _documents_of(package), source=f"package:{package.number}", at=at
    )
    rule = FAST_TRACK_CLOCK.get(kind, way.clock) if package.fast_track_id else way.clock
    if rule:
        variant = "default"
        if rule in ("fast_track.review", "fast_track.trial") and package.fast_track_id:
            months = package.fast_track.expected_sentence_months
            variant = law.fasttrack.review_variant(months)
        clocks.open_deadline(
            actor,
            rule,
            None,
            trigger_at=package.received_at,
            organisation=package.receiver,
            subject=f"matter:{matter.pk}",
            reference=number,
            variant=variant,
        )
    record(
        actor,
        "exchange.matter_opened",
        matter,
        data={"number": number, "kind": kind, "package": package.number},
    )
    return matter


@transaction.atomic
def accept(actor: User, package: Package, *, at: datetime | None = None) -> Package:
    """Accept a verified package: a partner organisation opens its own matter (its
    own number and dossier holding the package's documents, the request's
    clock); the police file a hand-back (a judgment) into the case's dossier."""
    package = _locked(package)
    require(
        may_receive(actor, package),
        "package.receive",
        "您不能受理该移交材料。",
        "You may not accept this package.",
    )
    _expect(package, PackageState.RECEIVED)
    way = route(package.kind, package.sender, package.receiver)
    at = max(moment(at), package.received_at)
    matter = None
    if way.matter is not None:
        matter = _open_matter(actor, package, way, at)
    elif package.receiver.kind in POLICE_KINDS:  # a hand-back, filed into the case's dossier
        dossier = dossiers.dossier_of(package.case)
        dossiers.attach_handed_over(
            actor, dossier, _documents_of(package), source=f"package:{package.number}", at=at
        )
        log_event(
            actor, package.case, CaseEvent.Kind.HANDOVER, package=package.number, accepted=True
        )
    else:  # a hand-back to a partner: filed into its own latest record of the case
        matter = (
            Matter.objects.filter(organisation=package.receiver, case_number=package.case_number)
            .order_by("-opened_at", "-id")
            .first()
        )
        if matter is None:
            raise Conflict(
                "package.no_matter",
                "本单位没有该案件的受理记录，不能归档。",
                "Your organisation has no record of this case to file it in.",
            )
        dossiers.attach_handed_over(
            actor, matter.dossier, _documents_of(package), source=f"package:{package.number}", at=at
        )
    package.state, package.decided_by, package.decided_at = PackageState.ACCEPTED, actor, at
    package.matter = matter
    package.save(update_fields=["state", "decided_by", "decided_at", "matter"])
    for hook in ON_ACCEPT:
        hook(actor, package, matter)
    record(
        actor,
        "exchange.package_accepted",
        package,
        data={"number": package.number, "matter": matter.number if matter else None},
    )
    emit("exchange.package_accepted", package=package.pk, matter=matter.pk if matter else None)
    return package


@transaction.atomic
def return_package(
    actor: User, package: Package, *, reasons: str, at: datetime | None = None
) -> Package:
    """Return a received package with reasons (退回): the sender corrects its
    dossier and sends again (``supersedes``)."""
    package = _locked(package)
    require(
        may_receive(actor, package),
        "package.receive",
        "您不能退回该移交材料。",
        "You may not return this package.",
    )
    reasons = _reasons(reasons, "package.reasons")
    _expect(package, PackageState.RECEIVED)
    at = max(moment(at), package.received_at)
    package.state, package.decided_by, package.decided_at = PackageState.RETURNED, actor, at
    package.reasons = reasons
    package.save(update_fields=["state", "decided_by", "decided_at", "reasons"])
    if package.case_id and package.sender.kind in POLICE_KINDS:
        log_event(
            actor,
            package.case,
            CaseEvent.Kind.HANDOVER,
            reason=reasons,
            package=package.number,
            returned=True,
        )
    record(
        actor, "exchange.package_returned", package, reason=reasons, data={"number": package.number}
    )
    emit("exchange.package_returned", package=package.pk, sender=package.sender_id)
    return package


# --- matters -------------------------------------------------------------------------


def locked_matter(actor: User, matter: Matter) -> Matter:
    """The matter, row-locked, for a step of its organisation's working role."""
    matter = Matter.objects.select_for_update(of=("self",)).get(pk=matter.pk)
    require(
        is_partner_worker(actor, matter.organisation_id),
        "matter.work",
        "您不能办理该案件。",
        "You may not work on this matter.",
    )
    if matter.state != Matter.State.OPEN:
        raise Conflict("matter.closed", "该案件已办结。", "This matter is closed.")
    return matter


def close_matter(
    actor: User, matter: Matter, *, outcome: str, at: datetime, rules: Iterable[str] = ()
) -> Matter:
    """Close a matter (inside the caller's transaction): its clocks are met."""
    matter.state, matter.closed_at, matter.outcome = Matter.State.CLOSED, at, outcome[:2000]
    matter.save(update_fields=["state", "closed_at", "outcome"])
    codes = list(rules) or [r.clock for r in ROUTES.values() if r.clock] + list(
        FAST_TRACK_CLOCK.values()
    )
    clocks.meet_deadlines(actor, None, codes, at=at, subject=f"matter:{matter.pk}")
    record(actor, "exchange.matter_closed", matter, reason=outcome, data={"number": matter.number})
    emit("exchange.matter_closed", matter=matter.pk)
    return matter


@transaction.atomic
def conclude(actor: User, matter: Matter, *, outcome: str, at: datetime | None = None) -> Matter:
    """Close a matter with its outcome in words (e.g. a decision not to prosecute)."""
    matter = locked_matter(actor, matter)
    outcome = _reasons(outcome, "matter.outcome")
    return close_matter(actor, matter, outcome=outcome, at=max(moment(at), matter.opened_at))
