"""The police's side of the fast track: start it with the eligibility checklist,
notify legal aid, submit the case to the procuratorate, or move the case to the
ordinary procedure. The other organisations' steps are in ``exchange.steps``;
all of them reach the track's stages through ``progress``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from casecenter import law
from casecenter.accounts.models import Organisation, OrganisationKind, User
from casecenter.audit.services import record
from casecenter.cases import access
from casecenter.cases.models import Case, CaseEvent, CaseKind, CaseState, Party, PartyRole
from casecenter.cases.services import log_event, transition_case
from casecenter.dossiers import services as dossiers
from casecenter.dossiers.models import DocumentKind
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.exchange import sending
from casecenter.exchange import services as exchange
from casecenter.exchange.models import Matter, MatterKind, Package, PackageKind
from casecenter.fasttrack import progress
from casecenter.fasttrack.models import FastTrack, Stage
from casecenter.moments import past_moment
from casecenter.outbox.services import emit
from casecenter.supervision import services as clocks

#: the states from which a case may start the track: filed and under investigation
START_STATES = frozenset({CaseState.FILED, CaseState.INVESTIGATING})
#: the police's own stages, whose clocks open at the start
POLICE_STAGES = ["submitted"]
#: the legal-aid notice is due when the need arises: the track starts (LAL Art. 36)
NOTIFY_RULE = "legal_aid.notify"


def _when(at: datetime | None) -> datetime:
    return past_moment(at, code="fast_track", what_zh="时间", what_en="time")


def _require(allowed: bool, code: str, zh: str, en: str) -> None:
    if not allowed:
        raise PermissionDenied(code, zh, en)


def may_start(user: User, case: Case) -> bool:
    """The case's own officers, or the legal-affairs unit supervising it."""
    return sending.may_send_from_case(user, case, PackageKind.LEGAL_AID)


def may_submit(user: User, case: Case) -> bool:
    return sending.may_send_from_case(user, case, PackageKind.FAST_TRACK)


@transaction.atomic
def start(
    actor: User,
    case: Case,
    *,
    suspect: Party,
    captured_at: datetime,
    admits_guilt: bool,
    facts_clear: bool,
    expected_sentence_months: int,
    no_exclusion: bool,
    at: datetime | None = None,
) -> FastTrack:
    """Record the eligibility checklist (who confirmed it, when) and start the
    48-hour track from the moment of capture; the law says whether it may."""
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    _require(
        may_start(actor, case),
        "fast_track.start",
        "只有该案办案民警或法制部门可以申请适用速裁程序。",
        "Only the case's officers or its legal-affairs unit start the fast track.",
    )
    if case.kind != CaseKind.CRIMINAL or case.state not in START_STATES:
        # an administrative case never does (422); a criminal one not yet filed, or
        # already transferred, not now (409)
        refused = InvalidInput if case.kind != CaseKind.CRIMINAL else Conflict
        raise refused(
            "fast_track.case_state",
            "只有已立案、侦查中的刑事案件可以适用速裁程序。",
            "Only a criminal case that is filed or under investigation takes the fast track.",
        )
    if FastTrack.objects.filter(case=case).exists():
        raise Conflict(
            "fast_track.exists", "该案件已适用速裁程序。", "The case is on the fast track."
        )
    if suspect.case_id != case.pk or suspect.role != PartyRole.SUSPECT:
        raise InvalidInput(
            "fast_track.suspect", "请选择本案的犯罪嫌疑人。", "Choose a suspect of this case."
        )
    at = _when(at)
    captured_at = past_moment(captured_at, code="fast_track", what_zh="抓获时间", what_en="capture")
    if captured_at > at:
        raise InvalidInput(
            "fast_track.capture_later",
            "抓获时间不能晚于审查时间。",
            "The capture cannot come after the checklist.",
        )
    if not isinstance(expected_sentence_months, int) or isinstance(expected_sentence_months, bool):
        raise InvalidInput(
            "fast_track.sentence", "预计刑期须为月数。", "The expected sentence is in months."
        )
    problems = law.fasttrack.eligibility_problems(
        admits_guilt=bool(admits_guilt),
        facts_clear=bool(facts_clear),
        expected_sentence_months=expected_sentence_months,
        no_exclusion=bool(no_exclusion),
        minor=suspect.minor_at_act,
    )
    if problems:
        raise InvalidInput(
            "fast_track.not_eligible",
            "不符合速裁程序适用条件：" + "".join(p.message_zh for p in problems),
            "Not eligible for the fast track: " + " ".join(p.message_en for p in problems),
            problems=[{"code": p.code, "basis": p.basis} for p in problems],
        )
    fast_track = FastTrack.objects.create(
        case=case,
        suspect=suspect,
        case_number=case.number,
        title=case.title,
        police=case.organisation,
        captured_at=captured_at,
        admits_guilt=True,
        facts_clear=True,
        expected_sentence_months=expected_sentence_months,
        no_exclusion=True,
        confirmed_by=actor,
        confirmed_at=at,
    )
    targets = law.fasttrack.targets(captured_at, progress.tuned_targets())
    Stage.objects.bulk_create(
        [
            Stage(
                fast_track=fast_track,
                code=stage.code,
                position=n,
                target_at=targets.get(stage.code),
            )
            for n, stage in enumerate(law.fasttrack.STAGES)
        ]
    )
    progress.open_stage_clocks(actor, fast_track, POLICE_STAGES, case.organisation)
    clocks.open_deadline(
        actor,
        progress.TRACK_RULE,
        case,
        trigger_at=captured_at,
        party=suspect,
        subject=f"fasttrack:{fast_track.pk}",
        reference=case.number,
    )
    clocks.open_deadline(
        actor, NOTIFY_RULE, case, trigger_at=at, party=suspect, subject=f"fasttrack:{fast_track.pk}"
    )
    Stage.objects.filter(fast_track=fast_track, code="captured").update(
        done_at=captured_at, organisation=case.organisation
    )
    progress.reach(actor, fast_track, "eligible", at=at, organisation=case.organisation)
    log_event(
        actor,
        case,
        CaseEvent.Kind.FAST_TRACK,
        step="started",
        captured_at=captured_at.isoformat(),
        expected_sentence_months=expected_sentence_months,
    )
    emit("fast_track.started", fast_track=fast_track.pk, case_id=case.pk)
    return fast_track


def _running(fast_track: FastTrack) -> FastTrack:
    fast_track = (
        FastTrack.objects.select_for_update(of=("self",))
        .select_related("case")
        .get(pk=fast_track.pk)
    )
    if fast_track.state != FastTrack.State.RUNNING:
        raise Conflict("fast_track.ended", "该速裁程序已结束。", "This fast track has ended.")
    return fast_track


def _organisation(organisation: Organisation | None, kind: str, what_zh: str) -> Organisation:
    if organisation is None or organisation.kind != kind:
        raise InvalidInput(
            "fast_track.receiver", f"请选择{what_zh}。", f"Choose the {kind.replace('_', ' ')}."
        )
    return organisation


@transaction.atomic
def notify_legal_aid(
    actor: User,
    fast_track: FastTrack,
    *,
    legal_aid: Organisation,
    request: str = "",
    at: datetime | None = None,
) -> Package:
    """Ask a legal-aid center for a duty lawyer (LAL Art. 36; CPL Art. 36): the
    notice is rendered from the case, kept in its dossier and sent, alone."""
    fast_track = _running(fast_track)
    legal_aid = _organisation(legal_aid, OrganisationKind.LEGAL_AID, "法律援助机构")
    case = fast_track.case
    _require(
        may_start(actor, case),
        "fast_track.notify",
        "只有该案办案民警或法制部门可以通知法律援助机构。",
        "Only the case's officers or legal affairs notify legal aid.",
    )
    dossiers.generate(
        actor,
        case,
        DocumentKind.LEGAL_AID_NOTICE,
        at=at,
        legal_aid=legal_aid,
        fast_track=fast_track,
    )
    package = sending.send_from_case(
        actor,
        case,
        kind=PackageKind.LEGAL_AID,
        receiver=legal_aid,
        request=request,
        fast_track=fast_track,
        extra={"fast_track": _track_json(fast_track)},
        at=at,
    )
    clocks.meet_deadlines(
        actor, case, [NOTIFY_RULE], at=package.sent_at, subject=f"fasttrack:{fast_track.pk}"
    )
    return package


def _track_json(fast_track: FastTrack) -> dict[str, Any]:
    return {
        "captured_at": timezone.localtime(fast_track.captured_at).isoformat(timespec="seconds"),
        "expected_sentence_months": fast_track.expected_sentence_months,
    }


@transaction.atomic
def submit(
    actor: User,
    fast_track: FastTrack,
    *,
    procuratorate: Organisation,
    request: str = "",
    at: datetime | None = None,
) -> Package:
    """Legal affairs approve the fast track and submit the case (经批准…通过信息系统
    提交检察机关): the case is transferred for prosecution — which needs the approved
    fast-track opinion and the whole dossier approved — and the package goes out."""
    fast_track = _running(fast_track)
    procuratorate = _organisation(procuratorate, OrganisationKind.PROCURATORATE, "检察机关")
    case = fast_track.case
    _require(
        may_submit(actor, case),
        "fast_track.submit",
        "只有法制部门可以批准并提交检察机关。",
        "Only the legal-affairs unit approves and submits the case.",
    )
    if case.state != CaseState.TRANSFERRED:
        case = transition_case(
            actor,
            case,
            "transfer_for_prosecution",
            expected_version=case.version,
            reason="适用速裁程序，移送审查起诉",
        )
    package = sending.send_from_case(
        actor,
        case,
        kind=PackageKind.FAST_TRACK,
        receiver=procuratorate,
        request=request,
        fast_track=fast_track,
        extra={"fast_track": _track_json(fast_track)},
        at=at,
    )
    progress.reach(
        actor,
        fast_track,
        "submitted",
        at=package.sent_at,
        organisation=case.organisation,
        note_zh=f"移交材料 {package.number}",
        note_en=f"package {package.number}",
    )
    return package


@transaction.atomic
def abandon(
    actor: User, fast_track: FastTrack, *, reason: str, at: datetime | None = None
) -> FastTrack:
    """Move the case to the ordinary procedure (转为普通程序): the police, or a
    partner organisation holding the case, say why; every stage clock stops."""
    fast_track = _running(fast_track)
    police_side = actor.is_police and access.may_read_personal(actor, fast_track.case)
    partner_side = Matter.objects.filter(
        fast_track=fast_track, organisation_id=actor.organisation_id
    ).exists() and exchange.is_partner_worker(actor, actor.organisation_id or 0)
    _require(
        police_side or partner_side,
        "fast_track.abandon",
        "您不能终止该速裁程序。",
        "You may not end this fast track.",
    )
    reason = (reason or "").strip()[:2000]
    if not reason:
        raise InvalidInput("fast_track.reason", "须说明理由。", "Give the reason.")
    now = max(_when(at), fast_track.captured_at)
    fast_track.state, fast_track.ended_at, fast_track.end_reason = (
        FastTrack.State.ABANDONED,
        now,
        reason,
    )
    fast_track.save(update_fields=["state", "ended_at", "end_reason"])
    for stage in fast_track.stages.filter(done_at__isnull=True):
        police = stage.organisation_id == fast_track.police_id
        clocks.cancel_deadlines(
            actor,
            fast_track.case if police else None,
            [progress.STAGE_RULE],
            reason=reason,
            subject=progress.subject(stage),
        )
    clocks.cancel_deadlines(
        actor,
        fast_track.case,
        [progress.TRACK_RULE, NOTIFY_RULE],
        reason=reason,
        subject=f"fasttrack:{fast_track.pk}",
    )
    record(
        actor, "fast_track.abandoned", fast_track, reason=reason, data={"by": actor.organisation_id}
    )
    if police_side:
        log_event(
            actor, fast_track.case, CaseEvent.Kind.FAST_TRACK, reason=reason, step="abandoned"
        )
    emit("fast_track.abandoned", fast_track=fast_track.pk)
    return fast_track


# --- what the partners' acceptances start ----------------------------------------------

#: the stages an organisation's accepted matter is responsible for
MATTER_STAGES = {
    MatterKind.LEGAL_AID: ["lawyer_assigned", "lawyer_met"],
    MatterKind.FAST_TRACK_REVIEW: ["indicted"],
    MatterKind.FAST_TRACK_TRIAL: ["hearing", "judgment"],
}


def on_accept(actor: User, package: Package, matter: Matter | None) -> None:
    """``exchange.hooks.ON_ACCEPT``: a partner's accepted fast-track package starts its
    stage clocks; the judgment filed back by the police closes the track."""
    if not package.fast_track_id:
        return
    fast_track = package.fast_track
    if matter is not None and matter.kind in MATTER_STAGES:
        progress.open_stage_clocks(actor, fast_track, MATTER_STAGES[matter.kind], package.receiver)
    elif (
        package.kind == PackageKind.JUDGMENT
        and package.receiver_id == fast_track.police_id
        and fast_track.state == FastTrack.State.RUNNING
    ):
        progress.reach(
            actor,
            fast_track,
            "closed",
            at=package.decided_at or timezone.now(),
            organisation=package.receiver,
            note_zh=f"判决书已签收（{package.number}）",
            note_en=f"judgment filed ({package.number})",
        )
