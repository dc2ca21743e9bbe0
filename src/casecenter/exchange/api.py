"""API: hand-over packages between organisations (F7.2) — the inbox and outbox,
a package with its signed manifest, signing for it (verification), accepting or
returning it, its zip; a partner organisation's matters and their steps (duty
lawyer, indictment, hearing, judgment). What a user may not see is 404."""

from __future__ import annotations

import tempfile
from typing import Annotated

from django.http import HttpRequest
from ninja import File, Path, Router, Status, UploadedFile

from casecenter.accounts.models import Organisation, OrganisationKind, User
from casecenter.apicontract import also_answers
from casecenter.cases import selectors as cases
from casecenter.errors import NotFound
from casecenter.exchange import keys, manifest, selectors, sending, services, steps
from casecenter.exchange.models import Matter, PackageState
from casecenter.exchange.schemas import (
    HearingIn,
    IndictIn,
    JudgmentIn,
    LawyerIn,
    MatterDetailOut,
    MatterOut,
    MeetingIn,
    OrganisationOut,
    OutcomeIn,
    PackageDetailOut,
    PackageOut,
    ReasonsIn,
    RevealIn,
    RevealOut,
    SendIn,
    VerdictOut,
    matter_detail_out,
    matter_out,
    organisation_out,
    package_detail_out,
    package_out,
    verdict_out,
)
from casecenter.exchange.views import zip_response
from casecenter.schema import ChoiceFilter, Id

router = Router(tags=["exchange"])

#: the kinds of organisation packages go to (a law firm is none of them)
DIRECTORY_KINDS = [kind for kind in OrganisationKind if kind != OrganisationKind.LAW_FIRM]


def organisation(pk: int, what_zh: str = "接收单位") -> Organisation:
    found = Organisation.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound("package.receiver", f"{what_zh}不存在。", "No such organisation.")
    return found


@router.get("/organisations", response=list[OrganisationOut])
def directory(request: HttpRequest, kind: ChoiceFilter(DIRECTORY_KINDS, 30) = ""):
    """The organisations packages go to (procuratorates, courts, legal-aid centers,
    detention centres, police stations), by ``kind``."""
    rows = Organisation.objects.exclude(kind=OrganisationKind.LAW_FIRM).order_by("code")
    if kind:
        rows = rows.filter(kind=kind)
    return [organisation_out(o) for o in rows]


@router.get("/inbox", response=list[PackageOut])
def inbox(request: HttpRequest, state: ChoiceFilter(PackageState, 10) = ""):
    """Packages sent to your organisation (the police: of the cases you may read),
    newest first."""
    return [package_out(p) for p in selectors.inbox(request.auth, state=state)[:200]]


@router.get("/outbox", response=list[PackageOut])
def outbox(request: HttpRequest, state: ChoiceFilter(PackageState, 10) = ""):
    """Packages your organisation sent, with what the receiver did (hand-back
    monitoring: the matter each opened and its clock)."""
    return [package_out(p) for p in selectors.outbox(request.auth, state=state)[:200]]


@router.get("/packages/{package_id}", response=PackageDetailOut)
def read_package(request: HttpRequest, package_id: Id):
    """A package: its signed manifest (the bytes as signed), entries with their
    SHA-256, the people it names, its verification and clocks. Audited."""
    return package_detail_out(selectors.read_package(request.auth, package_id))


@router.post("/packages/{package_id}/people/{index}/reveal", response=RevealOut)
def reveal_package_person(
    request: HttpRequest,
    package_id: Id,
    index: Annotated[int, Path(ge=0, le=999)],
    payload: RevealIn,
):
    """The full ID number or phone of the ``index``-th person (0-based) the package
    names, for a stated purpose: one audited read per value."""
    package = selectors.get_package(request.auth, package_id)
    value = selectors.reveal_person(
        request.auth, package=package, index=index, field=payload.field, purpose=payload.purpose
    )
    return {"field": payload.field, "value": value}


@router.post("/packages/{package_id}/receive", response=PackageOut)
def receive(request: HttpRequest, package_id: Id):
    """Sign for a package: it is verified against the sender's keys and the stored
    files; ``state`` says received, or refused with ``verification.problems``."""
    package = selectors.get_package(request.auth, package_id)
    return package_out(services.receive(request.auth, package))


@router.post("/packages/{package_id}/accept", response=PackageOut)
def accept(request: HttpRequest, package_id: Id):
    """Accept a received package: your organisation's matter opens (``matter_id``)
    with the package's documents, and the request's legal period runs from receipt."""
    package = selectors.get_package(request.auth, package_id)
    return package_out(services.accept(request.auth, package))


@router.post("/packages/{package_id}/return", response=PackageOut)
def return_package(request: HttpRequest, package_id: Id, payload: ReasonsIn):
    """Return a received package to its sender with the reasons."""
    package = selectors.get_package(request.auth, package_id)
    return package_out(services.return_package(request.auth, package, reasons=payload.reasons))


@router.post("/packages/{package_id}/verify", response=VerdictOut)
def verify(request: HttpRequest, package_id: Id):
    """Verify the package again now: any change since it was signed is found."""
    package = selectors.get_package(request.auth, package_id)
    return verdict_out(services.reverify(request.auth, package))


@router.get("/packages/{package_id}/zip", url_name="package_zip")
@also_answers(409)
def package_zip(request: HttpRequest, package_id: Id):
    """The package as a zip (``casecenter-package/1``): check it with
    ``casecenter package verify FILE``. Audited. A package whose stored files no
    longer match its signed manifest is not exported (409 ``package.changed``)."""
    return zip_response(request.auth, selectors.get_package(request.auth, package_id))


@router.post("/packages/{package_id}/resend", response={201: PackageOut})
def resend(request: HttpRequest, package_id: Id):
    """Send a returned or refused package again, from the dossier as it is now."""
    package = selectors.get_package(request.auth, package_id)
    return Status(201, package_out(sending.resend(request.auth, package)))


@router.post("/cases/{case_id}/packages", response={201: PackageOut})
def send_case(request: HttpRequest, case_id: Id, payload: SendIn):
    """Hand a police case over: its dossier, its property list, the request."""
    case = cases.get_case(request.auth, case_id)
    package = sending.send_from_case(
        request.auth,
        case,
        kind=payload.kind,
        receiver=organisation(payload.receiver_id),
        request=payload.request,
    )
    return Status(201, package_out(package))


@router.post("/verify", response=VerdictOut)
def verify_file(request: HttpRequest, file: File[UploadedFile]):
    """Verify a package zip made anywhere, against the organisations' registered keys."""
    with tempfile.TemporaryFile() as spool:
        for chunk in file.chunks():
            spool.write(chunk)
        spool.seek(0)
        return verdict_out(manifest.verify_zip(spool, keys.trusted()))


# --- matters -------------------------------------------------------------------------


@router.get("/matters", response=list[MatterOut])
def list_matters(request: HttpRequest, state: ChoiceFilter(Matter.State, 10) = ""):
    """Your organisation's matters (a partner organisation's working role)."""
    return [matter_out(m) for m in selectors.matters(request.auth, state=state)[:200]]


@router.get("/matters/{matter_id}", response=MatterDetailOut)
def read_matter(request: HttpRequest, matter_id: Id):
    """A matter with the people its package named, its dossier and clocks. Audited."""
    return matter_detail_out(selectors.read_matter(request.auth, matter_id))


@router.post("/matters/{matter_id}/people/{index}/reveal", response=RevealOut)
def reveal_matter_person(
    request: HttpRequest,
    matter_id: Id,
    index: Annotated[int, Path(ge=0, le=999)],
    payload: RevealIn,
):
    """The full ID number or phone of the ``index``-th person (0-based) of the
    matter, for a stated purpose: one audited read per value."""
    matter = selectors.get_matter(request.auth, matter_id)
    value = selectors.reveal_person(
        request.auth, matter=matter, index=index, field=payload.field, purpose=payload.purpose
    )
    return {"field": payload.field, "value": value}


def _matter_response(request: HttpRequest, matter_id: int):
    return matter_out(selectors.get_matter(request.auth, matter_id))


@router.post("/matters/{matter_id}/packages", response={201: PackageOut})
def send_matter(request: HttpRequest, matter_id: Id, payload: SendIn):
    """Send on what your organisation holds (e.g. a legal-aid notice from the court)."""
    matter = selectors.get_matter(request.auth, matter_id)
    package = sending.send_from_matter(
        request.auth,
        matter,
        kind=payload.kind,
        receiver=organisation(payload.receiver_id),
        request=payload.request,
    )
    return Status(201, package_out(package))


@router.post("/matters/{matter_id}/lawyer", response=MatterOut)
def assign_lawyer(request: HttpRequest, matter_id: Id, payload: LawyerIn):
    """Legal aid: assign a duty lawyer of your center."""
    lawyer = User.objects.filter(pk=payload.lawyer_id).first()
    if lawyer is None:
        raise NotFound("matter.lawyer", "律师不存在。", "No such lawyer.")
    matter = selectors.get_matter(request.auth, matter_id)
    steps.assign_lawyer(request.auth, matter, lawyer=lawyer)
    return _matter_response(request, matter_id)


@router.post("/matters/{matter_id}/meetings", response=MatterOut)
def lawyer_meeting(request: HttpRequest, matter_id: Id, payload: MeetingIn):
    """The assigned lawyer records meeting the suspect (when, how, how long)."""
    matter = selectors.get_matter(request.auth, matter_id)
    steps.record_lawyer_meeting(
        request.auth,
        matter,
        mode=payload.mode,
        started_at=payload.started_at,
        minutes=payload.minutes,
    )
    return _matter_response(request, matter_id)


@router.post("/matters/{matter_id}/indict", response={201: PackageOut})
def indict(request: HttpRequest, matter_id: Id, payload: IndictIn):
    """The procuratorate prosecutes: the indictment and the dossier go to the court."""
    matter = selectors.get_matter(request.auth, matter_id)
    package = steps.indict(
        request.auth,
        matter,
        court=organisation(payload.court_id, "法院"),
        charge=payload.charge,
        proposal=payload.proposal,
    )
    return Status(201, package_out(package))


@router.post("/matters/{matter_id}/hearing", response=MatterOut)
def schedule_hearing(request: HttpRequest, matter_id: Id, payload: HearingIn):
    """The court schedules the hearing (a fast track's at the case-handling center)."""
    matter = selectors.get_matter(request.auth, matter_id)
    steps.schedule_hearing(request.auth, matter, hearing_at=payload.hearing_at, place=payload.place)
    return _matter_response(request, matter_id)


@router.post("/matters/{matter_id}/judgment", response=MatterOut)
def record_judgment(request: HttpRequest, matter_id: Id, payload: JudgmentIn):
    """The court records the hearing held and the judgment pronounced; the judgment
    goes back to the procuratorate and the police."""
    matter = selectors.get_matter(request.auth, matter_id)
    steps.record_judgment(
        request.auth,
        matter,
        verdict=payload.verdict,
        hearing_at=payload.hearing_at,
        judgment_at=payload.judgment_at,
    )
    return _matter_response(request, matter_id)


@router.post("/matters/{matter_id}/conclude", response=MatterOut)
def conclude(request: HttpRequest, matter_id: Id, payload: OutcomeIn):
    """Close a matter with its outcome in words."""
    matter = selectors.get_matter(request.auth, matter_id)
    services.conclude(request.auth, matter, outcome=payload.outcome)
    return _matter_response(request, matter_id)
