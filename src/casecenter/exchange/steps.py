"""What the partner organisations do with their matters: legal aid assigns a duty
lawyer who meets the suspect; the procuratorate indicts; the court schedules the
hearing and records the judgment, which goes back to the police and the
procuratorate. One transaction each; on a fast track each step reaches its
stage (``fasttrack.progress``).

Documents a step makes (the assignment notice, the indictment, the judgment) are
rendered from the matter's own data into its own dossier — never from the
police's tables — and travel on only inside a package.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from casecenter.accounts.models import Organisation, OrganisationKind, Role, User
from casecenter.audit.services import record
from casecenter.dossiers import services as dossiers
from casecenter.dossiers.models import DocumentKind
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.exchange import sending, services
from casecenter.exchange.models import Matter, MatterKind, Package, PackageKind
from casecenter.fasttrack import progress
from casecenter.moments import past_moment
from casecenter.outbox.services import emit

REVIEW_KINDS = frozenset({MatterKind.PROSECUTION_REVIEW, MatterKind.FAST_TRACK_REVIEW})
TRIAL_KINDS = frozenset({MatterKind.TRIAL, MatterKind.FAST_TRACK_TRIAL})
MEETING_MODES = {"on_site": ("当面会见", "in person"), "remote": ("远程视频会见", "by video")}
MAX_TEXT = 1000
#: a hearing is scheduled at most this far ahead
HEARING_HORIZON = timedelta(days=30)


def _when(at: datetime | None, what_zh: str = "时间", what_en: str = "time") -> datetime:
    return past_moment(at, code="matter", what_zh=what_zh, what_en=what_en)


def _kind(matter: Matter, kinds: frozenset[str] | set[str], zh: str, en: str) -> None:
    if matter.kind not in kinds:
        raise InvalidInput("matter.kind", zh, en)


def _text(value: str, code: str, zh: str, en: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(code, zh, en)
    if len(value) > MAX_TEXT:
        raise InvalidInput(code, f"内容不能超过{MAX_TEXT}字。", f"At most {MAX_TEXT} characters.")
    return value


def _people(matter: Matter) -> list[dict[str, Any]]:
    return json.loads(matter.people or "[]")


def _suspects(matter: Matter) -> list[dict[str, Any]]:
    return [p for p in _people(matter) if p.get("role") == "suspect"]


def _generate(actor: User, matter: Matter, kind: str, template: str, **context: Any) -> None:
    """Render a document from the matter's data into the matter's own dossier."""
    with translation.override("zh-hans"):
        html = render_to_string(
            template,
            {
                "matter": matter,
                "case": {"number": matter.case_number},
                "suspects": _suspects(matter),
                "today": timezone.localdate(),
                **context,
            },
        )
    dossiers.add_document(actor, matter.dossier, kind=kind, chunks=[html.encode()], generated=True)


def _origin(matter: Matter) -> Package | None:
    return matter.packages.order_by("received_at").first()


def _reach(
    actor: User, matter: Matter, code: str, at: datetime, zh: str = "", en: str = ""
) -> None:
    if matter.fast_track_id:
        progress.reach(
            actor,
            matter.fast_track,
            code,
            at=at,
            organisation=matter.organisation,
            note_zh=zh,
            note_en=en,
        )


def _remember(matter: Matter, key: str, value: Any) -> None:
    matter.details = {**(matter.details or {}), key: value}
    matter.save(update_fields=["details"])


# --- legal aid ---------------------------------------------------------------------


@transaction.atomic
def assign_lawyer(
    actor: User, matter: Matter, *, lawyer: User, at: datetime | None = None
) -> Matter:
    """Legal aid assigns a duty lawyer (指派值班律师, LAL Art. 36): the notice goes into
    the matter's dossier; the ``legal_aid.assign`` clock is met."""
    matter = services.locked_matter(actor, matter)
    _kind(
        matter, {MatterKind.LEGAL_AID}, "只有指派辩护案件需要指派律师。", "Only a legal-aid matter."
    )
    if "lawyer" in (matter.details or {}):
        raise Conflict("matter.lawyer_assigned", "已指派律师。", "A lawyer is assigned already.")
    if not (
        lawyer.is_active
        and lawyer.role == Role.DUTY_LAWYER
        and lawyer.organisation_id == matter.organisation_id
    ):
        raise InvalidInput(
            "matter.lawyer", "请选择本中心的值班律师。", "Choose a duty lawyer of this center."
        )
    at = max(_when(at), matter.opened_at)
    origin = _origin(matter)
    _generate(
        actor,
        matter,
        DocumentKind.LAWYER_ASSIGNMENT,
        "exchange/generated/lawyer_assignment.html",
        lawyer=lawyer,
        requester=origin.sender.name if origin else "",
    )
    name = lawyer.display_name or lawyer.username
    _remember(matter, "lawyer", {"id": lawyer.pk, "name": name, "at": at.isoformat()})
    services.clocks.meet_deadlines(
        actor, None, ["legal_aid.assign"], at=at, subject=f"matter:{matter.pk}"
    )
    _reach(actor, matter, "lawyer_assigned", at, f"值班律师：{name}", f"duty lawyer: {name}")
    record(actor, "exchange.lawyer_assigned", matter, data={"lawyer": lawyer.pk})
    emit("exchange.lawyer_assigned", matter=matter.pk)
    return matter


@transaction.atomic
def record_lawyer_meeting(
    actor: User,
    matter: Matter,
    *,
    mode: str,
    started_at: datetime,
    minutes: int,
) -> Matter:
    """The assigned lawyer records that they met the suspect: when, how, how long —
    never what was said (CPL Art. 39: a lawyer's meeting is not listened to)."""
    matter = services.locked_matter(actor, matter)
    _kind(
        matter, {MatterKind.LEGAL_AID}, "只有指派辩护案件记录律师会见。", "Only a legal-aid matter."
    )
    lawyer = (matter.details or {}).get("lawyer")
    if not lawyer or lawyer["id"] != actor.pk:
        raise PermissionDenied(
            "matter.not_the_lawyer",
            "只有被指派的值班律师可以记录会见。",
            "Only the assigned duty lawyer records the meeting.",
        )
    if mode not in MEETING_MODES:
        raise InvalidInput("matter.meeting_mode", "会见方式无效。", "Unknown way of meeting.")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 5 <= minutes <= 480:
        raise InvalidInput(
            "matter.meeting_minutes",
            "会见时长须为5至480分钟。",
            "A meeting lasts 5 to 480 minutes.",
        )
    started_at = max(_when(started_at, "会见时间", "meeting time"), matter.opened_at)
    meetings = [*(matter.details or {}).get("meetings", [])]
    meetings.append({"at": started_at.isoformat(), "mode": mode, "minutes": minutes})
    _remember(matter, "meetings", meetings)
    zh, en = MEETING_MODES[mode]
    if matter.fast_track_id and progress.reached_at(matter.fast_track, "lawyer_met") is None:
        _reach(
            actor, matter, "lawyer_met", started_at, f"{zh} {minutes}分钟", f"{en}, {minutes} min"
        )
    record(actor, "exchange.lawyer_met", matter, data={"mode": mode, "minutes": minutes})
    emit("exchange.lawyer_met", matter=matter.pk)
    return matter


# --- procuratorate ------------------------------------------------------------------


def _org(organisation: Organisation | None, kind: str, zh: str) -> Organisation:
    if organisation is None or organisation.kind != kind:
        raise InvalidInput("matter.receiver", f"请选择{zh}。", f"Choose the {kind}.")
    return organisation


def may_indict_yet(matter: Matter) -> bool:
    """On a fast track the suspect signs the plea with the duty lawyer present (CPL
    Art. 174): the procuratorate indicts once the lawyer has met the suspect."""
    return (
        not matter.fast_track_id or progress.reached_at(matter.fast_track, "lawyer_met") is not None
    )


@transaction.atomic
def indict(
    actor: User,
    matter: Matter,
    *,
    court: Organisation,
    charge: str,
    proposal: str,
    at: datetime | None = None,
) -> Package:
    """The procuratorate decides to prosecute (提起公诉): the indictment goes into its
    dossier and, with the dossier, to the court; the review clock is met. On a fast
    track the suspect signed the plea with the duty lawyer present (CPL Art. 174):
    the lawyer must have met the suspect first."""
    matter = services.locked_matter(actor, matter)
    _kind(matter, REVIEW_KINDS, "只有审查起诉案件可以提起公诉。", "Only a review for prosecution.")
    court = _org(court, OrganisationKind.COURT, "人民法院")
    charge = _text(charge, "matter.charge", "请填写罪名。", "State the charge.")
    proposal = _text(
        proposal, "matter.proposal", "请填写量刑建议。", "State the sentencing proposal."
    )
    if not may_indict_yet(matter):
        raise Conflict(
            "matter.no_lawyer_yet",
            "值班律师尚未会见犯罪嫌疑人，不能签署认罪认罚具结书（《刑事诉讼法》第一百七十四条）。",
            "The duty lawyer has not met the suspect yet: the plea cannot be signed "
            "(CPL Art. 174).",
        )
    at = max(_when(at), matter.opened_at)
    origin = _origin(matter)
    _generate(
        actor,
        matter,
        DocumentKind.INDICTMENT,
        "exchange/generated/indictment.html",
        court=court,
        charge=charge,
        proposal=proposal,
        prosecutor=actor,
        police=origin.sender.name if origin else "",
        received_at=matter.received_at,
    )
    _remember(matter, "indictment", {"charge": charge, "proposal": proposal, "court": court.pk})
    package = sending.send_from_matter(
        actor,
        matter,
        kind=PackageKind.INDICTMENT,
        receiver=court,
        extra={"charge": charge, "proposal": proposal},
        at=at,
    )
    services.close_matter(actor, matter, outcome=f"提起公诉：{charge}（{package.number}）", at=at)
    _reach(actor, matter, "indicted", at, f"起诉：{charge}", f"indicted: {charge}")
    return package


# --- court --------------------------------------------------------------------------


@transaction.atomic
def schedule_hearing(actor: User, matter: Matter, *, hearing_at: datetime, place: str) -> Matter:
    """The court schedules the hearing (on a fast track: at the case-handling
    center, 就地开庭)."""
    matter = services.locked_matter(actor, matter)
    _kind(matter, TRIAL_KINDS, "只有审判案件可以安排开庭。", "Only a trial matter.")
    place = _text(place, "matter.place", "请填写开庭地点。", "State where the hearing is.")
    if hearing_at is None or timezone.is_naive(hearing_at):
        raise InvalidInput("matter.hearing_at", "请填写开庭时间。", "State when the hearing is.")
    opened = matter.opened_at.replace(second=0, microsecond=0)  # forms give minutes
    if not opened <= hearing_at <= timezone.now() + HEARING_HORIZON:
        raise InvalidInput(
            "matter.hearing_at",
            "开庭时间须在受案之后、30日之内。",
            "The hearing is after the matter opened and within 30 days.",
        )
    _remember(matter, "hearing", {"at": hearing_at.isoformat(), "place": place})
    if matter.fast_track_id:
        when = timezone.localtime(hearing_at).strftime("%Y-%m-%d %H:%M")
        progress.plan(
            matter.fast_track,
            "hearing",
            note_zh=f"已定于{when}在{place}开庭",
            note_en=f"scheduled for {when} at {place}",
        )
    record(actor, "exchange.hearing_scheduled", matter, data={"at": hearing_at.isoformat()})
    emit("exchange.hearing_scheduled", matter=matter.pk)
    return matter


@transaction.atomic
def record_judgment(
    actor: User,
    matter: Matter,
    *,
    verdict: str,
    hearing_at: datetime,
    judgment_at: datetime | None = None,
) -> Matter:
    """The hearing was held and the judgment pronounced (当庭宣判): the judgment goes
    into the court's dossier and back to the police and the procuratorate (电子卷宗
    回传); the trial clock is met, and on a fast track the 48 hours are counted."""
    matter = services.locked_matter(actor, matter)
    _kind(matter, TRIAL_KINDS, "只有审判案件可以记录判决。", "Only a trial matter.")
    verdict = _text(verdict, "matter.verdict", "请填写判决结果。", "State the judgment.")
    hearing = (matter.details or {}).get("hearing")
    if not hearing:
        raise Conflict("matter.no_hearing", "请先安排开庭。", "Schedule the hearing first.")
    hearing_at = max(_when(hearing_at, "开庭时间", "hearing time"), matter.opened_at)
    judgment_at = max(_when(judgment_at, "宣判时间", "judgment time"), hearing_at)
    origin = _origin(matter)
    indictment = json.loads(origin.manifest).get("extra", {}) if origin else {}
    _generate(
        actor,
        matter,
        DocumentKind.JUDGMENT,
        "exchange/generated/judgment.html",
        judge=actor,
        verdict=verdict,
        charge=indictment.get("charge") or "指控的罪名",
        procuratorate=origin.sender.name if origin else "",
        received_at=matter.received_at,
        hearing_at=hearing_at,
        judgment_at=judgment_at,
        place=hearing["place"],
    )
    _remember(
        matter,
        "judgment",
        {"verdict": verdict, "hearing_at": hearing_at.isoformat(), "at": judgment_at.isoformat()},
    )
    receivers = []
    if origin is not None:
        receivers.append(origin.sender)  # the procuratorate
        if origin.case_id:
            receivers.append(origin.case.organisation)  # the police station
    for receiver in receivers:
        sending.send_from_matter(
            actor, matter, kind=PackageKind.JUDGMENT, receiver=receiver, at=judgment_at
        )
    services.close_matter(actor, matter, outcome=f"判决：{verdict}", at=judgment_at)
    _reach(actor, matter, "hearing", hearing_at, hearing["place"], hearing["place"])
    _reach(actor, matter, "judgment", judgment_at, verdict[:200], verdict[:200])
    return matter
