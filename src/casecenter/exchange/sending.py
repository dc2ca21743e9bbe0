"""Sending a package (移交): a police case's dossier, or what a partner organisation
holds of a case, snapshot, signed by the sending organisation and put in the
receiver's inbox — one transaction each, with its audit entry, its outbox event,
the receiver's ``exchange.receive`` clock and, for a police case, the case's
timeline. What happens to it there is ``services``.

A package carries the least its receiver needs (``packaging.KIND_DOCUMENTS``);
a transfer for prosecution also the property list. One package of a kind is on
its way to one receiver at a time; a returned or refused one is sent again
(``resend``) from the dossier as it is now, once.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from casecenter.accounts.models import Organisation, Role, User
from casecenter.accounts.services import next_serial
from casecenter.audit.services import record
from casecenter.cases import access
from casecenter.cases.models import Case, CaseEvent, PartyRole
from casecenter.cases.services import log_event
from casecenter.dossiers import services as dossiers
from casecenter.dossiers.models import Dossier
from casecenter.errors import Conflict, InvalidInput
from casecenter.exchange import packaging, services
from casecenter.exchange.models import Matter, Package, PackageFile, PackageKind, PackageState
from casecenter.outbox.services import emit
from casecenter.supervision import services as clocks


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
    services.route(kind, sender, receiver)
    request = (request or "").strip()[:500] or services.DEFAULT_REQUEST[kind]  # type: ignore[index]
    if not files:
        raise Conflict(
            "package.empty",
            "卷宗中没有可移交的材料。",
            "The dossier has nothing to hand over.",
        )
    now = services.moment(at)
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
        services.RECEIVE_RULE,
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


#: a package on its way or taken: another of its kind to the same receiver waits for it
LIVE_STATES = (PackageState.SENT, PackageState.RECEIVED, PackageState.ACCEPTED)


def _live_package(
    case: Case | None, matter: Matter | None, kind: str, receiver: Organisation
) -> Package | None:
    rows = Package.objects.filter(kind=kind, state__in=LIVE_STATES, receiver=receiver)
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
    services.require(
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
    services.require(
        services.may_work(actor, matter),
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
    if package.case_id and package.sender.kind in services.POLICE_KINDS:
        return send_from_case(actor, package.case, fast_track=package.fast_track, **common)
    raise Conflict("package.resend", "该材料不能重新移交。", "This package cannot be sent again.")


# --- receiving -----------------------------------------------------------------------
