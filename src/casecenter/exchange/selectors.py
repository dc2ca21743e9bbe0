"""Reads of the exchange: an organisation's inbox and outbox, a package with its
manifest, its matters. A package's manifest and a matter's people are personal
data: those reads are audited. Anything a user may not see is "not found".

The ID numbers and phones a package carries are shown masked — on the package
and matter pages and in the API, the manifest's text included — to everyone who
reads the package (the partner organisations: procuratorate, court, legal aid,
lawyers, detention centre; and the police). Whoever needs a full value asks for
it with a reason (``reveal_person``): one audited read per value. The exact
signed bytes go out only in the package's zip, itself an audited export."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from casecenter.accounts.models import User
from casecenter.audit.services import record
from casecenter.cases.access import readable_cases
from casecenter.errors import InvalidInput, NotFound
from casecenter.exchange import services
from casecenter.exchange.models import Matter, Package, PackageState
from casecenter.law import mask_id_number, mask_phone
from casecenter.supervision.models import Deadline

#: inbox order: what waits for this organisation first
WAITING = [PackageState.SENT, PackageState.RECEIVED]


def works_for_partner(user: User) -> bool:
    """The user is a partner organisation's working role at that organisation."""
    return bool(user.organisation_id) and services.is_partner_worker(user, user.organisation_id)


def visible_packages(user: User) -> QuerySet[Package]:
    """Packages a user may know of: a partner's people those their organisation sent
    or received; the police those of the cases whose personal data they read."""
    if not user.is_authenticated or not user.organisation_id:
        return Package.objects.none()
    if works_for_partner(user):
        org = user.organisation_id
        return Package.objects.filter(Q(sender_id=org) | Q(receiver_id=org))
    if user.is_police:
        police = Q(sender__kind__in=services.POLICE_KINDS) | Q(
            receiver__kind__in=services.POLICE_KINDS
        )
        return Package.objects.filter(police, case__in=readable_cases(user))
    return Package.objects.none()


def inbox(user: User, *, state: str = "") -> QuerySet[Package]:
    rows = visible_packages(user).select_related("sender", "receiver")
    if works_for_partner(user):
        rows = rows.filter(receiver_id=user.organisation_id)
    else:
        rows = rows.filter(receiver__kind__in=services.POLICE_KINDS)
    if state:
        rows = rows.filter(state=state)
    return rows.order_by("-sent_at", "-id")


def outbox(user: User, *, state: str = "") -> QuerySet[Package]:
    rows = visible_packages(user).select_related("sender", "receiver", "matter")
    if works_for_partner(user):
        rows = rows.filter(sender_id=user.organisation_id)
    else:
        rows = rows.filter(sender__kind__in=services.POLICE_KINDS)
    if state:
        rows = rows.filter(state=state)
    return rows.order_by("-sent_at", "-id")


def get_package(user: User, pk: int) -> Package:
    """A package the user may know of (no manifest read: not audited)."""
    package = (
        visible_packages(user).select_related("sender", "receiver", "case", "matter").filter(pk=pk)
    ).first()
    if package is None:
        raise NotFound("package.not_found", "移交材料不存在。", "No such package.")
    return package


#: the fields of a person a package names that are shown masked, and their masks
MASKED_FIELDS = {"id_number": mask_id_number, "phone": mask_phone}


def masked_person(person: dict[str, Any]) -> dict[str, Any]:
    """A person as a package names them, with ID number and phone masked."""
    return {
        k: MASKED_FIELDS[k](v) if k in MASKED_FIELDS and isinstance(v, str) else v
        for k, v in person.items()
    }


def masked_manifest(text: str) -> str:
    """A manifest's text with its people's ID numbers and phones masked."""
    data = json.loads(text)
    extra = data.get("extra")
    if isinstance(extra, dict) and isinstance(extra.get("people"), list):
        extra["people"] = [masked_person(p) if isinstance(p, dict) else p for p in extra["people"]]
    return json.dumps(data, ensure_ascii=False, indent=1)


@dataclass
class PackageView:
    package: Package
    manifest: dict[str, Any]
    #: the people it names, ID numbers and phones masked
    people: list[dict[str, Any]]
    may_receive: bool
    #: the receiver's clocks on it (signature) and on the matter it opened
    clocks: list[Deadline]


def read_package(user: User, pk: int) -> PackageView:
    """A package with its signed manifest (the case's people in it): audited."""
    package = get_package(user, pk)
    manifest = json.loads(package.manifest)
    with transaction.atomic():
        record(user, "exchange.package_read", package, data={"number": package.number})
    subjects = [f"package:{package.pk}"]
    if package.matter_id:
        subjects.append(f"matter:{package.matter_id}")
    clocks = list(
        Deadline.objects.filter(case__isnull=True, subject__in=subjects).select_related("rule")
    )
    return PackageView(
        package=package,
        manifest=manifest,
        people=[masked_person(p) for p in manifest.get("extra", {}).get("people", [])],
        may_receive=services.may_receive(user, package),
        clocks=clocks,
    )


def matters(user: User, *, state: str = "") -> QuerySet[Matter]:
    """The user's organisation's matters (a partner organisation's working role)."""
    if not works_for_partner(user):
        return Matter.objects.none()
    rows = Matter.objects.filter(organisation_id=user.organisation_id).select_related("handler")
    if state:
        rows = rows.filter(state=state)
    return rows.order_by("state", "-opened_at", "-id")


@dataclass
class MatterView:
    matter: Matter
    #: the people its package named, ID numbers and phones masked
    people: list[dict[str, Any]]
    packages_in: list[Package]
    packages_out: list[Package]
    clocks: list[Deadline]
    may_work: bool


def get_matter(user: User, pk: int) -> Matter:
    matter = matters(user).select_related("dossier", "fast_track").filter(pk=pk).first()
    if matter is None:
        raise NotFound("matter.not_found", "案件不存在。", "No such matter.")
    return matter


def read_matter(user: User, pk: int) -> MatterView:
    """A matter with its people (as the package named them): audited."""
    matter = get_matter(user, pk)
    with transaction.atomic():
        record(user, "exchange.matter_read", matter, data={"number": matter.number})
    return MatterView(
        matter=matter,
        people=[masked_person(p) for p in json.loads(matter.people or "[]")],
        packages_in=list(matter.packages.select_related("sender").order_by("received_at")),
        packages_out=list(matter.packages_sent.select_related("receiver").order_by("sent_at")),
        clocks=list(
            Deadline.objects.filter(
                case__isnull=True,
                organisation_id=matter.organisation_id,
                subject__in=[f"matter:{matter.pk}", *_stage_subjects(matter)],
            ).select_related("rule")
        ),
        may_work=services.may_work(user, matter),
    )


def reveal_person(
    user: User,
    *,
    index: int,
    field: str,
    purpose: str,
    package: Package | None = None,
    matter: Matter | None = None,
) -> str:
    """The full ``field`` (``id_number`` or ``phone``) of the ``index``-th person
    (0-based) a package, or a matter, names — a deliberate read with its purpose,
    one audit entry per value. The caller got ``package`` through
    :func:`get_package` or ``matter`` through :func:`get_matter` (so the reader
    may read it)."""
    if field not in MASKED_FIELDS:
        raise InvalidInput(
            "exchange.reveal_field",
            "只能查看身份证号或电话。",
            "Only an ID number or a phone is revealed.",
        )
    purpose = (purpose or "").strip()
    if len(purpose) < 4 or not any(ch.isalnum() for ch in purpose):
        raise InvalidInput(
            "exchange.reveal_purpose",
            "请说明查看完整信息的用途。",
            "Say what you need the full value for.",
        )
    if package is not None:
        people = json.loads(package.manifest).get("extra", {}).get("people", [])
        target: Package | Matter = package
    elif matter is not None:
        people = json.loads(matter.people or "[]")
        target = matter
    else:  # pragma: no cover - a programming error
        raise TypeError("reveal_person needs a package or a matter")
    person = people[index] if 0 <= index < len(people) else None
    value = person.get(field) if isinstance(person, dict) else None
    if not value or not isinstance(value, str):
        raise NotFound(
            "exchange.reveal_none", "该人员没有此项信息。", "That person has no such value."
        )
    with transaction.atomic():
        record(
            user,
            "exchange.reveal_person",
            target,
            reason=purpose,
            data={"field": field, "index": index, "role": person.get("role", "")},
        )
    return value


def _stage_subjects(matter: Matter) -> list[str]:
    if not matter.fast_track_id:
        return []
    return [f"ftstage:{pk}" for pk in matter.fast_track.stages.values_list("pk", flat=True)]


def case_packages(case: Any) -> QuerySet[Package]:
    """The packages of a police case, for its page (the caller checked need-to-know)."""
    return (
        Package.objects.filter(case=case)
        .filter(
            Q(sender__kind__in=services.POLICE_KINDS) | Q(receiver__kind__in=services.POLICE_KINDS)
        )
        .select_related("sender", "receiver")
        .order_by("-sent_at", "-id")
    )
