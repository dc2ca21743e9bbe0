"""A fast track's stages reached and their clocks: called inside the transaction
of the step that reaches a stage, whichever organisation takes it.

Each targeted stage has a ``fast_track.stage`` clock due at capture + the
stage's hours (policy, tuned as the rule's params), opened by the organisation
that does the stage when the track reaches it: the police's at the start, legal
aid's when it accepts the notice, the procuratorate's and the court's when they
accept their packages. The whole track has the ``fast_track.48h`` clock from
capture, the police's, met by the judgment.
"""

from __future__ import annotations

from datetime import datetime

from casecenter import law
from casecenter.accounts.models import Organisation, User
from casecenter.audit.services import record
from casecenter.errors import Conflict
from casecenter.fasttrack.models import FastTrack, Stage
from casecenter.outbox.services import emit
from casecenter.supervision import services as clocks
from casecenter.supervision.models import Rule

STAGE_RULE = "fast_track.stage"
TRACK_RULE = "fast_track.48h"


def tuned_targets() -> dict[str, int]:
    """The stage targets in hours after capture, as the supervision catalogue has them."""
    rule = Rule.objects.filter(code=STAGE_RULE).only("params").first()
    params = (rule.params if rule else None) or {}
    return {code: int(hours) for code, hours in params.items() if code in law.fasttrack.STAGE_CODES}


def subject(stage: Stage) -> str:
    return f"ftstage:{stage.pk}"


def _locked(fast_track: FastTrack) -> FastTrack:
    return FastTrack.objects.select_for_update(of=("self",)).get(pk=fast_track.pk)


def open_stage_clocks(
    actor: User | None, fast_track: FastTrack, codes: list[str], organisation: Organisation
) -> None:
    """Start the target clocks of ``codes`` for the organisation that does them."""
    police = organisation.pk == fast_track.police_id
    for stage in fast_track.stages.filter(code__in=codes, done_at__isnull=True):
        if stage.target_at is None:
            continue
        name = law.fasttrack.stage(stage.code).name_zh
        clocks.open_deadline(
            actor,
            STAGE_RULE,
            fast_track.case if police else None,
            trigger_at=fast_track.captured_at,
            due_at=stage.target_at,
            organisation=organisation,
            subject=subject(stage),
            reference=f"{fast_track.case_number} {name}"[:60],
        )
        stage.organisation = organisation
        stage.save(update_fields=["organisation"])


def reach(
    actor: User,
    fast_track: FastTrack,
    code: str,
    *,
    at: datetime,
    organisation: Organisation,
    note_zh: str = "",
    note_en: str = "",
) -> Stage:
    """Mark stage ``code`` reached at ``at`` by ``organisation`` and meet its clock;
    the judgment also meets the 48-hour clock. A stage is reached once."""
    fast_track = _locked(fast_track)
    if fast_track.state != FastTrack.State.RUNNING:
        raise Conflict(
            "fast_track.ended",
            "该速裁程序已结束。",
            "This fast track has ended.",
            state=fast_track.state,
        )
    stage = fast_track.stages.select_for_update(of=("self",)).get(code=code)
    if stage.done_at is not None:
        raise Conflict(
            "fast_track.stage_done",
            f"“{law.fasttrack.stage(code).name_zh}”环节已完成。",
            f"The stage '{code}' was reached already.",
        )
    stage.done_at, stage.done_by, stage.organisation = at, actor, organisation
    stage.note = {"zh": note_zh, "en": note_en} if note_zh or note_en else {}
    stage.save(update_fields=["done_at", "done_by", "organisation", "note"])
    police = organisation.pk == fast_track.police_id
    clocks.meet_deadlines(
        actor, fast_track.case if police else None, [STAGE_RULE], at=at, subject=subject(stage)
    )
    if code == "judgment":
        clocks.meet_deadlines(
            actor, fast_track.case, [TRACK_RULE], at=at, subject=f"fasttrack:{fast_track.pk}"
        )
    if code == "closed":
        fast_track.state, fast_track.ended_at = FastTrack.State.CLOSED, at
        fast_track.save(update_fields=["state", "ended_at"])
    record(
        actor,
        "fast_track.stage_reached",
        fast_track,
        data={"stage": code, "at": at.isoformat(), "organisation": organisation.code},
    )
    emit("fast_track.stage", fast_track=fast_track.pk, stage=code)
    return stage


def reached_at(fast_track: FastTrack | None, code: str) -> datetime | None:
    """When the track reached stage ``code`` (None: not yet, or no track)."""
    if fast_track is None:
        return None
    stage = fast_track.stages.filter(code=code).only("done_at").first()
    return stage.done_at if stage else None


def plan(fast_track: FastTrack, code: str, *, note_zh: str, note_en: str) -> None:
    """Say on a stage not reached yet what is planned for it (a hearing scheduled)."""
    fast_track.stages.filter(code=code, done_at__isnull=True).update(
        note={"zh": note_zh, "en": note_en}
    )
