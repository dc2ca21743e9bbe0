"""The exchange API's shapes: bounded input, and packages, matters and verdicts out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.urls import reverse
from ninja import Field, Schema

from casecenter.exchange.manifest import Verdict
from casecenter.exchange.models import Matter, Package
from casecenter.exchange.selectors import MatterView, PackageView, masked_manifest
from casecenter.schema import Id, Text, Timestamp
from casecenter.supervision.models import Deadline


class OrganisationOut(Schema):
    id: int
    code: str
    kind: str
    name: str
    name_en: str


class ClockOut(Schema):
    rule: str
    name_zh: str
    name_en: str
    basis: str
    state: str
    trigger_at: datetime
    due_at: datetime
    closed_at: datetime | None


class ProblemOut(Schema):
    code: str
    path: str
    message_zh: str
    message_en: str


class VerdictOut(Schema):
    ok: bool
    signer: str
    signer_checked: bool
    problems: list[ProblemOut]


class PackageOut(Schema):
    id: int
    number: str
    kind: str
    kind_label: str
    state: str
    state_label: str
    sender: OrganisationOut
    receiver: OrganisationOut
    request: str
    case_number: str
    title: str
    files_count: int
    total_bytes: int
    signer: str
    sent_at: datetime
    received_at: datetime | None
    decided_at: datetime | None
    reasons: str
    verification: dict[str, Any]
    matter_id: int | None = Field(None, description="the receiver's matter it opened")
    supersedes: str | None
    fast_track_id: int | None
    zip_url: str


class EntryOut(Schema):
    path: str
    sha256: str
    size: int
    kind: str
    title: str


class PackageDetailOut(PackageOut):
    entries: list[EntryOut]
    people: list[dict[str, Any]]
    manifest: str = Field(
        description="the signed manifest with its people's ID numbers and phones masked "
        "(the exact signed bytes are in the package's zip, an audited export; a full value "
        "through POST …/people/{index}/reveal)"
    )
    signature: str
    clocks: list[ClockOut]


class RevealIn(Schema):
    field: Literal["id_number", "phone"]
    purpose: Text(500, 4) = Field(description="what the full value is needed for (audited)")


class RevealOut(Schema):
    field: str
    value: str


class SendIn(Schema):
    kind: Literal["prosecution_review", "fast_track", "legal_aid", "indictment", "judgment"]
    receiver_id: Id
    request: Text(500) = ""


class ReasonsIn(Schema):
    reasons: Text(2000, 1)


class MatterOut(Schema):
    id: int
    number: str
    kind: str
    kind_label: str
    state: str
    title: str
    case_number: str
    handler: str
    opened_at: datetime
    received_at: datetime
    closed_at: datetime | None
    outcome: str
    fast_track_id: int | None
    dossier_id: int
    details: dict[str, Any]


class DocumentBrief(Schema):
    id: int
    number: int
    kind: str
    title: str
    source: str
    versions_count: int
    file_url: str


class MatterDetailOut(MatterOut):
    people: list[dict[str, Any]]
    documents: list[DocumentBrief]
    packages_in: list[str]
    packages_out: list[str]
    clocks: list[ClockOut]


class LawyerIn(Schema):
    lawyer_id: Id


class MeetingIn(Schema):
    mode: Literal["on_site", "remote"]
    started_at: Timestamp
    minutes: int = Field(ge=5, le=480)


class IndictIn(Schema):
    court_id: Id
    charge: Text(200, 1)
    proposal: Text(500, 1)


class HearingIn(Schema):
    hearing_at: Timestamp
    place: Text(200, 1)


class JudgmentIn(Schema):
    verdict: Text(1000, 1)
    hearing_at: Timestamp
    judgment_at: Timestamp | None = None


class OutcomeIn(Schema):
    outcome: Text(2000, 1)


def organisation_out(org: Any) -> dict[str, Any]:
    return {
        "id": org.pk,
        "code": org.code,
        "kind": org.kind,
        "name": org.name,
        "name_en": org.name_en,
    }


def clock_out(deadline: Deadline) -> dict[str, Any]:
    return {
        "rule": deadline.rule_id,
        "name_zh": deadline.rule.name_zh,
        "name_en": deadline.rule.name_en,
        "basis": deadline.rule.basis,
        "state": deadline.state,
        "trigger_at": deadline.trigger_at,
        "due_at": deadline.due_at,
        "closed_at": deadline.closed_at,
    }


def verdict_out(verdict: Verdict) -> dict[str, Any]:
    return {
        "ok": verdict.ok,
        "signer": verdict.signer,
        "signer_checked": verdict.signer_checked,
        "problems": [p.__dict__ for p in verdict.problems],
    }


def package_out(package: Package) -> dict[str, Any]:
    return {
        "id": package.pk,
        "number": package.number,
        "kind": package.kind,
        "kind_label": str(package.get_kind_display()),
        "state": package.state,
        "state_label": str(package.get_state_display()),
        "sender": organisation_out(package.sender),
        "receiver": organisation_out(package.receiver),
        "request": package.request,
        "case_number": package.case_number,
        "title": package.title,
        "files_count": package.files_count,
        "total_bytes": package.total_bytes,
        "signer": package.signer,
        "sent_at": package.sent_at,
        "received_at": package.received_at,
        "decided_at": package.decided_at,
        "reasons": package.reasons,
        "verification": package.verification or {},
        "matter_id": package.matter_id,
        "supersedes": package.supersedes.number if package.supersedes_id else None,
        "fast_track_id": package.fast_track_id,
        "zip_url": reverse("api:package_zip", args=[package.pk]),
    }


def package_detail_out(view: PackageView) -> dict[str, Any]:
    return {
        **package_out(view.package),
        "entries": view.manifest.get("entries", []),
        "people": view.people,
        "manifest": masked_manifest(view.package.manifest),
        "signature": view.package.signature,
        "clocks": [clock_out(d) for d in view.clocks],
    }


def matter_out(matter: Matter) -> dict[str, Any]:
    return {
        "id": matter.pk,
        "number": matter.number,
        "kind": matter.kind,
        "kind_label": str(matter.get_kind_display()),
        "state": matter.state,
        "title": matter.title,
        "case_number": matter.case_number,
        "handler": str(matter.handler),
        "opened_at": matter.opened_at,
        "received_at": matter.received_at,
        "closed_at": matter.closed_at,
        "outcome": matter.outcome,
        "fast_track_id": matter.fast_track_id,
        "dossier_id": matter.dossier_id,
        "details": matter.details or {},
    }


def matter_detail_out(view: MatterView) -> dict[str, Any]:
    documents = view.matter.dossier.documents.order_by("number")
    return {
        **matter_out(view.matter),
        "people": view.people,
        "documents": [
            {
                "id": d.pk,
                "number": d.number,
                "kind": d.kind,
                "title": d.title,
                "source": d.source,
                "versions_count": d.versions_count,
                "file_url": reverse("api:dossier_file", args=[d.pk]),
            }
            for d in documents
        ],
        "packages_in": [p.number for p in view.packages_in],
        "packages_out": [p.number for p in view.packages_out],
        "clocks": [clock_out(d) for d in view.clocks],
    }
