"""A whole fast track through the services, as the four organisations' people:
capture → eligibility → legal aid → submission → lawyer → indictment → hearing →
judgment → closed, with every stage on time and the 48 hours met."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from casecenter.exchange import services as exchange
from casecenter.exchange import steps
from casecenter.exchange.models import Matter, MatterKind, Package, PackageKind, PackageState
from casecenter.fasttrack import services
from casecenter.fasttrack.models import FastTrack
from casecenter.supervision.models import Deadline, DeadlineState


def accept(user, package):
    package = exchange.receive(user, package)
    assert package.state == PackageState.RECEIVED, package.verification
    return exchange.accept(user, package)


def test_the_whole_track_from_capture_to_judgment(ready_to_submit, officers, partners):
    track = ready_to_submit
    lead, legal = officers["lead"], officers["legal"]
    orgs = partners["orgs"]

    notice = services.notify_legal_aid(lead, track, legal_aid=orgs["fyzx"])
    assert notice.kind == PackageKind.LEGAL_AID
    assert [f.kind for f in notice.files.all()] == ["legal_aid_notice"]  # nothing more

    submitted = services.submit(legal, track, procuratorate=orgs["jc"])
    track.case.refresh_from_db()
    assert track.case.state == "transferred"
    kinds = set(submitted.files.values_list("kind", flat=True))
    assert {"registration_form", "fast_track_opinion", "interrogation_record"} <= kinds

    # legal aid: a duty lawyer assigned, who meets the suspect
    aid = accept(partners["lawyer"], notice).matter
    assert aid.kind == MatterKind.LEGAL_AID and aid.fast_track == track
    steps.assign_lawyer(partners["lawyer"], aid, lawyer=partners["lawyer2"])
    steps.record_lawyer_meeting(
        partners["lawyer2"], aid, mode="on_site", started_at=timezone.now(), minutes=30
    )

    # the procuratorate indicts
    review = accept(partners["prosecutor"], submitted).matter
    assert review.kind == MatterKind.FAST_TRACK_REVIEW
    indictment = steps.indict(
        partners["prosecutor"],
        review,
        court=orgs["court"],
        charge="危险驾驶罪",
        proposal="拘役二个月，并处罚金人民币四千元",
    )
    review.refresh_from_db()
    assert review.state == Matter.State.CLOSED

    # the court holds the hearing at the center and pronounces judgment
    judge = officers["judge"]
    trial = accept(judge, indictment).matter
    assert trial.kind == MatterKind.FAST_TRACK_TRIAL
    assert trial.dossier.documents.filter(kind="indictment").exists()
    steps.schedule_hearing(judge, trial, hearing_at=timezone.now(), place="执法办案管理中心")
    steps.record_judgment(
        judge,
        trial,
        verdict="被告人马明犯危险驾驶罪，判处拘役二个月，并处罚金人民币四千元。",
        hearing_at=timezone.now(),
    )
    back = Package.objects.filter(kind=PackageKind.JUDGMENT)
    assert {p.receiver.code for p in back} == {"jc", "zgc"}

    # the procuratorate files its copy into its own record of the case
    filed = accept(partners["prosecutor"], back.get(receiver__code="jc"))
    assert filed.matter == review
    assert review.dossier.documents.filter(kind="judgment").exists()
    # the police file the judgment: the track is closed
    to_police = back.get(receiver__code="zgc")
    accept(lead, to_police)
    track.refresh_from_db()
    assert track.state == FastTrack.State.CLOSED
    assert track.case.dossier.documents.filter(kind="judgment", source__startswith="package:")
    stages = {s.code: s for s in track.stages.all()}
    assert all(s.done_at for s in stages.values())
    assert [s.organisation.code for s in stages.values() if s.code != "captured"] == [
        "zgc",
        "zgc",
        "fyzx",
        "fyzx",
        "jc",
        "fy",
        "fy",
        "zgc",
    ]
    clocks = Deadline.objects.filter(rule_id__in=["fast_track.48h", "fast_track.stage"])
    assert clocks.count() == 1 + 6  # 48 h, and submitted … judgment
    assert set(clocks.values_list("state", flat=True)) == {DeadlineState.MET}
    # every request's own clock was met as well
    for rule in ("legal_aid.notify", "legal_aid.assign", "fast_track.review", "fast_track.trial"):
        assert Deadline.objects.get(rule_id=rule).state == DeadlineState.MET, rule
    assert set(
        Deadline.objects.filter(rule_id="exchange.receive").values_list("state", flat=True)
    ) == {DeadlineState.MET}


def test_the_procuratorate_cannot_indict_before_the_lawyer_met_the_suspect(
    ready_to_submit, officers, partners
):
    from casecenter.errors import Conflict

    submitted = services.submit(
        officers["legal"], ready_to_submit, procuratorate=partners["orgs"]["jc"]
    )
    review = accept(partners["prosecutor"], submitted).matter
    with pytest.raises(Conflict) as refused:
        steps.indict(
            partners["prosecutor"],
            review,
            court=partners["orgs"]["court"],
            charge="危险驾驶罪",
            proposal="拘役二个月",
        )
    assert refused.value.code == "matter.no_lawyer_yet"
    review.refresh_from_db()
    assert review.state == Matter.State.OPEN
    assert not Package.objects.filter(kind=PackageKind.INDICTMENT).exists()


def test_a_minor_cannot_take_the_fast_track(drunk_driving, officers):
    from casecenter.errors import InvalidInput

    drunk_driving.suspect.minor_at_act = True
    drunk_driving.suspect.save()
    with pytest.raises(InvalidInput) as refused:
        services.start(
            officers["lead"],
            drunk_driving,
            suspect=drunk_driving.suspect,
            captured_at=drunk_driving.captured_at,
            admits_guilt=True,
            facts_clear=True,
            expected_sentence_months=2,
            no_exclusion=True,
        )
    assert refused.value.code == "fast_track.not_eligible"
    assert "未成年人" in refused.value.message_zh
    assert not FastTrack.objects.exists()
    assert not Deadline.objects.filter(rule_id="fast_track.48h").exists()


def test_stage_targets_count_from_capture(started):
    stages = {s.code: s for s in started.stages.all()}
    assert stages["judgment"].target_at - started.captured_at == timedelta(hours=48)
    assert stages["captured"].done_at == started.captured_at
    assert stages["eligible"].done_at is not None
    police_clock = Deadline.objects.get(rule_id="fast_track.stage")
    assert police_clock.due_at == stages["submitted"].target_at
    assert police_clock.case == started.case


def test_a_criminal_case_not_yet_filed_waits_and_an_administrative_one_never_starts(
    make_case, officers
):
    from casecenter.cases import services as cases
    from casecenter.errors import Conflict, InvalidInput

    def start(case):
        suspect = cases.add_party(officers["lead"], case, role="suspect", name="马明")
        return services.start(
            officers["lead"],
            case,
            suspect=suspect,
            captured_at=timezone.now() - timedelta(hours=1),
            admits_guilt=True,
            facts_clear=True,
            expected_sentence_months=2,
            no_exclusion=True,
        )

    with pytest.raises(Conflict) as not_yet:
        start(make_case(category="dangerous_driving"))
    with pytest.raises(InvalidInput) as never:
        start(make_case(kind="administrative", category="quarrel"))
    assert not_yet.value.code == never.value.code == "fast_track.case_state"
    assert not FastTrack.objects.exists()
