"""Every write of the exchange: a package sent, signed for (verified), accepted or
returned; a matter opened, given documents, closed. One transaction each, with
its audit entry, its outbox event and its clocks.

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
from collections.abc import Callable, Iterable
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
from casecenter.cases.models import Case, CaseEvent, PartyRole
from casecenter.cases.services import log_event
from casecenter.dossiers import services as dossiers
from casecenter.dossiers.models import Dossier
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.exchange import packaging
from casecenter.exchange.models import (
    Matter,
    MatterKind,
    Package,
    PackageFile,
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

#: what other apps do when a package is accepted, in the same transaction:
#: ``hook(actor, package, matter_or_None)`` (the fast track reaches its stages)
ON_ACCEPT: list[Callable[[User, Package, Matter | None], None]] = []


def _require(allowed: bool, code: str, zh: str, en: str) -> None:
    if not allowed:
        raise PermissionDenied(code, zh, en)


def _when(at: datetime | None) -> datetime:
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


def may_send_from_case(user: User, case: Case, kind: str) -> bool:
    """Transfers for prosecution are the legal-affairs unit's (as the case's
    transfer step); a legal-aid notice any of the case's own officers'."""
    if kind in (PackageKind.PROSECUTION_REVIEW, PackageKind.FAST_TRACK):
        return user.role == Role.LEGAL_AFFAIRS and (
            access.is_supervising(user, case) or access.is_assigned(user, case)
        )
    if kind == PackageKind.LEGAL_AID:
        return dossiers.may_write(user, Dossier(case=case, organisation_id=case.organisation_id))
    return False


def may_work(user: User, matter: Matter) -> bool:
    return matter.state == Matter.State.OPEN and is_partner_worker(user, matter.organisation_id)


# --- sending -------------------------------------------------------------------------


def _route(kind: str, sender: Organisation, receiver: Organisation) -> Route:
    route = ROUTES.get(kind)  # type: ignore[call-overload]
    if route is None:
        raise InvalidInput(
            "package.kind", f"未知的移交类型：{kind}", f"Unknown kind of package: {kind}"
        )
    if sender.kind not in route.senders or receiver.kind not in route.receivers:
        raise InvalidInput(
            "package.route",
            f"{sender.name}不能向{receiver.name}移交“{PackageKind(kind).label}”。",
            f"{sender.name_en or sender.code} cannot send a {kind} package to "
            f"{receiver.name_en or receiver.code}.",
        )
    return route


def _people_of_case(case: Case) -> list[dict[str, Any]]:
    """The case's people as a package names them for the receiver (the suspects
    first): the receiver must know whom the case is about."""
    people = []
    parties = case.parties.select_related("person").order_by("pk")
    for party in sorted(parties, key=lambda p: p.role != PartyRole.SUSPECT):
        person = party.person
        people.append(
            {
                "role": party.role,
                "name": person.name,
                "id_number": person.id_number or "",
                "sex": person.sex,
                "birth_date": person.birth_date.isoformat() if person.birth_date else "",
                "minor_at_act": party.minor_at_act,
            }
        )
    return people


def _case_json(case_number: str, title: str, kind: str, category: str) -> dict[str, str]:
    return {"number": case_number, "title": title, "kind": kind, "category": category}


def _send(
    actor: User,
    *,
    kind: str,
    sender: Organisation,
    receiver: Organisation,
    request: str,
    files: list[packaging.File],
    case_info: dict[str, str],
    people: list[dict[str, Any]],
    case: Case | None = None,
    source_matter: Matter | None = None,
    fast_track: Any = None,
    supersedes: Package | None = None,
    extra: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Package:
    _route(kind, sender, receiver)
    request = (request or "").strip()[:500] or DEFAULT_REQUEST[kind]  # type: ignore[index]
    if not files:
        raise InvalidInput(
            "package.empty",
            "卷宗中没有可移交的材料。",
            "The dossier has nothing to hand over.",
        )
    now = _when(at)
    serial = next_serial(sender.pk, "package", timezone.localdate(now).year)
    number = f"{sender.code.upper()}-YJ-{timezone.localdate(now).year}-{serial:04d}"
    manifest_extra: dict[str, Any] = {"kind": kind, "people": people, **(extra or {})}
    if supersedes is not None:
        manifest_extra["supersedes"] = supersedes.number
    text, signature, key = packaging.sign(
        number=number,
        sender=sender,
        receiver=receiver,
        case=case_info,
        request=request,
        files=files,
        extra=manifest_extra,
    )
    package = Package.objects.create(
        number=number,
        kind=kind,
        sender=sender,
        receiver=receiver,
        request=request,
        case=case,
        source_matter=source_matter,
        fast_track=fast_track,
        supersedes=supersedes,
        case_number=case_info["number"],
        title=case_info.get("title", "")[:200],
        manifest=text,
        signature=signature,
        signer=key.key_id,
        files_count=len(files),
        total_bytes=sum(f.blob.size for f in files),
        sent_by=actor,
        sent_at=now,
    )
    PackageFile.objects.bulk_create(
        [
            PackageFile(
                package=package,
                path=f.path,
                sha256=f.blob.sha256,
                size=f.blob.size,
                kind=f.kind,
                title=f.title[:200],
                content_type=f.blob.content_type,
                storage_name=f.blob.name,
            )
            for f in files
        ]
    )
    clocks.open_deadline(
        actor,
        RECEIVE_RULE,
        None,
        trigger_at=now,
        organisation=receiver,
        subject=f"package:{package.pk}",
        reference=number,
    )
    if case is not None:
        log_event(
            actor,
            case,
            CaseEvent.Kind.HANDOVER,
            package=number,
            package_kind=kind,
            receiver=receiver.name,
            files=len(files),
        )
    record(
        actor,
        "exchange.package_sent",
        package,
        data={
            "number": number,
            "kind": kind,
            "sender": sender.code,
            "receiver": receiver.code,
            "files": len(files),
            "signer": key.key_id,
            "case_id": case.pk if case else None,
        },
    )
    emit("exchange.package_sent", package=package.pk, receiver=receiver.pk, kind=kind)
    return package


def _live_package(
    case: Case | None, matter: Matter | None, kind: str, receiver: Organisation
) -> Package | None:
    live = [PackageState.SENT, PackageState.RECEIVED, PackageState.ACCEPTED]
    rows = Package.objects.filter(kind=kind, state__in=live, receiver=receiver)
    if case is not None:
        return rows.filter(case=case, source_matter__isnull=True).first()
    return rows.filter(source_matter=matter).first()


def _superseded(previous: Package | None, sender_id: int, kind: str) -> Package | None:
    if previous is None:
        return None
    previous = Package.objects.select_for_update(of=("self",)).get(pk=previous.pk)
    if previous.sender_id != sender_id or previous.kind != kind:
        raise InvalidInput(
            "package.supersedes", "只能重新移交本单位的同类材料。", "Resend your own package."
        )
    if previous.state not in (PackageState.RETURNED, PackageState.REFUSED):
        raise Conflict(
            "package.not_returned",
            "原移交材料未被退回，不能重新移交。",
            "Only a returned or refused package is sent again.",
        )
    if hasattr(previous, "superseded_by"):
        raise Conflict(
            "package.resent", "该材料已重新移交。", "This package was already sent again."
        )
    return previous


@transaction.atomic
def send_from_case(
    actor: User,
    case: Case,
    *,
    kind: str,
    receiver: Organisation,
    request: str = "",
    fast_track: Any = None,
    supersedes: Package | None = None,
    extra: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Package:
    """Hand a police case over: its dossier as it stands (each document's current
    version), its property list and the request, signed by the station."""
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    _require(
        may_send_from_case(actor, case, kind),
        "package.send",
        "您不能移交该案件的材料。",
        "You may not hand this case over.",
    )
    supersedes = _superseded(supersedes, case.organisation_id, kind)
    if supersedes is None and _live_package(case, None, kind, receiver):
        raise Conflict(
            "package.live",
            "该案件已有同类移交材料在途或已被接收。",
            "A package of this kind for this case is on its way or accepted already.",
        )
    files = packaging.dossier_files(Dossier.objects.filter(case=case).first(), kind)
    if kind in (PackageKind.PROSECUTION_REVIEW, PackageKind.FAST_TRACK):
        listed = packaging.property_list_file(case)
        if listed is not None:
            files.append(listed)
    return _send(
        actor,
        kind=kind,
        sender=case.organisation,
        receiver=receiver,
        request=request,
        files=files,
        case_info=_case_json(case.number, case.title, case.kind, case.category),
        people=_people_of_case(case),
        case=case,
        fast_track=fast_track,
        supersedes=supersedes,
        extra=extra,
        at=at,
    )


@transaction.atomic
def send_from_matter(
    actor: User,
    matter: Matter,
    *,
    kind: str,
    receiver: Organisation,
    request: str = "",
    supersedes: Package | None = None,
    extra: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Package:
    """A partner organisation sends on what it holds: its matter's dossier (what it
    received and what it added), e.g. the indictment to the court."""
    matter = Matter.objects.select_for_update(of=("self",)).get(pk=matter.pk)
    _require(
        may_work(actor, matter),
        "package.send",
        "您不能移交该案件的材料。",
        "You may not hand this matter over.",
    )
    supersedes = _superseded(supersedes, matter.organisation_id, kind)
    if supersedes is None and _live_package(None, matter, kind, receiver):
        raise Conflict(
            "package.live",
            "已有同类移交材料在途或已被接收。",
            "A package of this kind is on its way or accepted already.",
        )
    origin = matter.packages.order_by("received_at").first()
    info = json.loads(origin.manifest)["case"] if origin else {"number": matter.case_number}
    case_info = _case_json(
        matter.case_number, matter.title, info.get("kind", ""), info.get("category", "")
    )
    return _send(
        actor,
        kind=kind,
        sender=matter.organisation,
        receiver=receiver,
        request=request,
        files=packaging.dossier_files(matter.dossier, kind),
        case_info=case_info,
        people=json.loads(matter.people or "[]"),
        case=origin.case if origin else None,  # the police case it all began with
        source_matter=matter,
        fast_track=matter.fast_track,
        supersedes=supersedes,
        extra=extra,
        at=at,
    )


def resend(actor: User, package: Package) -> Package:
    """Send a returned or refused package again, from the dossier as it is now
    (the corrected documents), to the same receiver with the same request."""
    extra = {
        k: v
        for k, v in packaging.manifest_of(package).get("extra", {}).items()
        if k not in ("kind", "people", "supersedes")
    }
    common = {
        "kind": package.kind,
        "receiver": package.receiver,
        "request": package.request,
        "supersedes": package,
        "extra": extra,
    }
    if package.source_matter_id:
        return send_from_matter(actor, package.source_matter, **common)
    if package.case_id and package.sender.kind in POLICE_KINDS:
        return send_from_case(actor, package.case, fast_track=package.fast_track, **common)
    raise InvalidInput(
        "package.resend", "该材料不能重新移交。", "This package cannot be sent again."
    )


# --- receiving -----------------------------------------------------------------------


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
    _require(
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
        return _signed_for(actor, package, verdict, max(_when(at), package.sent_at))


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


def _open_matter(actor: User, package: Package, route: Route, at: datetime) -> Matter:
    kind = route.matter
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
    rule = FAST_TRACK_CLOCK.get(kind, route.clock) if package.fast_track_id else route.clock
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
    _require(
        may_receive(actor, package),
        "package.receive",
        "您不能受理该移交材料。",
        "You may not accept this package.",
    )
    _expect(package, PackageState.RECEIVED)
    route = _route(package.kind, package.sender, package.receiver)
    at = max(_when(at), package.received_at)
    matter = None
    if route.matter is not None:
        matter = _open_matter(actor, package, route, at)
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
            raise InvalidInput(
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
    _require(
        may_receive(actor, package),
        "package.receive",
        "您不能退回该移交材料。",
        "You may not return this package.",
    )
    reasons = _reasons(reasons, "package.reasons")
    _expect(package, PackageState.RECEIVED)
    at = max(_when(at), package.received_at)
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
    _require(
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
    return close_matter(actor, matter, outcome=outcome, at=max(_when(at), matter.opened_at))
