"""The custody area's live rules at their edges (issue 13): cameras that fail or lie,
device clocks in the future, unknown senders, timers that are not clocks, episodes."""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import count

import pytest
from django.utils import timezone

from casecenter.custody import tracking
from casecenter.custody.models import Camera, CameraCommand, DeviceEvent, Presence, Recording
from casecenter.supervision import selectors, services, subjects, worker
from casecenter.supervision.models import Alert, Deadline

pytestmark = pytest.mark.django_db

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


@pytest.fixture
def live(center):
    """Send events that arrive a moment after they happen (a live center):
    ``send("WB-00", "presence", t, zone="XW-1", event="enter")``."""
    seqs: dict[str, count] = {}

    def send(device, kind, at, *, received=None, **payload):
        event = tracking.Event(
            center.org.code, kind, device, next(seqs.setdefault(device, count(1))), at, payload
        )
        return tracking.apply_events(
            [event], received_at=received or at + timedelta(milliseconds=100)
        )

    return send


def answer(live, command, at, *, recording=True, **extra):
    return live(
        command.camera.code,
        "status",
        at,
        recording=recording,
        audio=command.audio and recording,
        command=command.command_id,
        **extra,
    )


def alerts(rule):
    return list(Alert.objects.filter(rule_id=rule).order_by("pk"))


def test_every_camera_confirming_covers_the_person_and_nothing_is_raised(
    center, suspect, bring_in, live
):
    stay = bring_in(suspect())
    t = timezone.now() - timedelta(minutes=5)
    applied = live("WB-00", "presence", t, zone="XW-1", event="enter")
    assert Deadline.objects.filter(rule_id="custody.recording", state="running").count() == 1
    for command in applied.commands:
        answer(live, command, t + timedelta(seconds=1))
    starts = set(Recording.objects.filter(zone__code="XW-1").values_list("started_at", flat=True))
    assert starts == {t + timedelta(seconds=1)}
    assert not CameraCommand.objects.filter(confirmed_at__isnull=True).exists()
    # the timer fires at the end of the grace and finds nothing to alert
    worker.run_once(now=t + timedelta(minutes=10))
    assert alerts("custody.recording") == []
    assert not Deadline.objects.filter(rule_id="custody.recording", state="running").exists()
    assert stay.case.deadlines.filter(rule_id="custody.recording", state="breached").count() == 0


def test_silence_past_the_grace_is_an_alert_of_the_center_that_opens_the_stay(
    center, suspect, bring_in, live
):
    stay = bring_in(suspect())
    t = timezone.now() - timedelta(minutes=5)
    applied = live("WB-00", "presence", t, zone="XW-1", event="enter")
    timer = Deadline.objects.get(rule_id="custody.recording", state="running")
    assert (timer.organisation_id, timer.subject) == (center.org.pk, f"stay:{stay.pk}")
    worker.run_once(now=t + timedelta(seconds=6))
    [alert] = alerts("custody.recording")
    assert (alert.organisation_id, alert.subject, alert.kind) == (
        center.org.pk,
        f"stay:{stay.pk}",
        "event",
    )
    assert alert.severity == "critical" and alert.case_id == stay.case_id
    assert "讯问室一" in alert.title_zh and "嫌**" in alert.title_zh and "WB-00" in alert.title_zh
    local = timezone.localtime(t).strftime("%H:%M:%S")
    assert local in alert.explanation_zh and local in alert.explanation_en
    for text in (alert.title_zh, alert.title_en, alert.explanation_zh, alert.explanation_en):
        assert not ISO.search(text), text
    assert subjects.alert_page(alert) == f"/custody/stays/{stay.pk}/"
    assert tuple(alert.facts["lines"][-1][:2]) == ("应对", "What to do")
    # both cameras answer late: the gap is over, the alert resolves itself, on record
    for command in applied.commands:
        answer(live, command, t + timedelta(seconds=8))
    alert.refresh_from_db()
    assert alert.state == "resolved" and alert.resolved_by is None
    assert "录像已确认" in alert.resolution and "recording confirmed" in alert.resolution


def test_a_status_from_another_camera_confirms_nothing(center, suspect, bring_in, live):
    bring_in(suspect())
    t = timezone.now() - timedelta(minutes=5)
    applied = live("WB-00", "presence", t, zone="XW-1", event="enter")
    first, second = sorted(applied.commands, key=lambda c: c.camera.code)
    # camera 2 claims camera 1's command
    live(second.camera.code, "status", t + timedelta(seconds=1), recording=True,
         command=first.command_id)  # fmt: skip
    assert CameraCommand.objects.filter(confirmed_at__isnull=True).count() == 2
    assert not Recording.objects.filter(started_at__isnull=False).exists()
    worker.run_once(now=t + timedelta(seconds=6))
    assert len(alerts("custody.recording")) == 1


def test_answering_not_recording_is_a_failed_start_alerted_at_once_and_kept_open(
    center, suspect, bring_in, live
):
    bring_in(suspect())
    t = timezone.now() - timedelta(minutes=5)
    applied = live("WB-00", "presence", t, zone="XW-1", event="enter")
    first, second = sorted(applied.commands, key=lambda c: c.camera.code)
    answer(live, second, t + timedelta(seconds=1))
    answer(live, first, t + timedelta(seconds=1), recording=False)  # within the grace
    [alert] = alerts("custody.recording")  # at once, not after the grace
    assert first.camera.code in alert.explanation_zh and "not_recording" in alert.explanation_en
    camera = Camera.objects.get(pk=first.camera_id)
    assert (camera.fault, camera.state) == ("not_recording", "failed")
    still_open = list(tracking.open_commands())
    assert [c.command_id for c in still_open] == [first.command_id]  # sent again, every 3 s
    # answering again (the resend) is the same episode: no second alert
    answer(live, first, t + timedelta(seconds=4), recording=False)
    assert len(alerts("custody.recording")) == 1


def test_a_fault_report_is_a_failed_start_that_names_the_fault(center, suspect, bring_in, live):
    bring_in(suspect())
    t = timezone.now() - timedelta(minutes=5)
    applied = live("WB-00", "presence", t, zone="HH-1", event="enter")
    command = applied.commands[0]
    answer(live, command, t + timedelta(seconds=1), recording=False, fault="disk_full")
    [alert] = alerts("custody.recording")
    assert "disk_full" in alert.explanation_zh and "disk_full" in alert.explanation_en
    assert Camera.objects.get(pk=command.camera_id).state == "failed"
    assert CameraCommand.objects.get(pk=command.pk).confirmed_at is None


def test_a_camera_that_stops_by_itself_is_a_new_gap_and_is_asked_again(
    center, suspect, bring_in, live
):
    bring_in(suspect())
    t = timezone.now() - timedelta(minutes=5)
    applied = live("WB-00", "presence", t, zone="XW-1", event="enter")
    for command in applied.commands:
        answer(live, command, t + timedelta(seconds=1))
    camera = applied.commands[0].camera
    again = live(camera.code, "status", t + timedelta(seconds=60), recording=False)
    [alert] = alerts("custody.recording")
    assert alert.facts["start"] == (t + timedelta(seconds=60)).isoformat()
    assert [(c.camera_id, c.action) for c in again.commands] == [(camera.pk, "record")]
    segment = Recording.objects.get(command=applied.commands[0].command_id)
    assert segment.stopped_at == t + timedelta(seconds=60)


def test_a_device_clock_in_the_future_does_not_pin_the_person(center, suspect, bring_in, live):
    stay = bring_in(suspect())
    now = timezone.now()
    ahead = live("WB-00", "presence", now + timedelta(hours=2), received=now, zone="HH-1",
                 event="enter")  # fmt: skip
    assert ahead.clock_ahead == 1
    stored = DeviceEvent.objects.get(device="WB-00")
    assert stored.device_time == now
    assert stored.payload["device_ts"] == (now + timedelta(hours=2)).isoformat()
    later = live("WB-00", "presence", now + timedelta(seconds=20), zone="XW-1", event="enter")
    path = list(Presence.objects.filter(stay=stay).order_by("entered_at"))
    assert [(p.zone.code, p.left_at is None) for p in path] == [("HH-1", False), ("XW-1", True)]
    assert {c.camera.zone.code for c in later.commands} == {"HH-1", "XW-1"}


def test_within_the_tolerance_a_device_time_is_believed(center, suspect, bring_in, live):
    bring_in(suspect())
    now = timezone.now()
    applied = live("WB-00", "presence", now + timedelta(seconds=20), received=now, zone="HH-1",
                   event="enter")  # fmt: skip
    assert applied.clock_ahead == 0
    assert Presence.objects.get().entered_at == now + timedelta(seconds=20)


def test_a_recording_never_starts_before_its_command_was_sent(center, suspect, bring_in, live):
    bring_in(suspect())
    t = timezone.now() - timedelta(minutes=5)
    applied = live("WB-00", "presence", t, zone="XW-1", event="enter")
    command = applied.commands[0]
    answer(live, command, t - timedelta(hours=3))  # a camera whose clock is hours behind
    segment = Recording.objects.get(command=command.command_id)
    assert segment.started_at == segment.asked_at == t + timedelta(milliseconds=100)


def test_unknown_and_misdirected_events_are_refused_with_a_code(center, suspect, bring_in):
    bring_in(suspect())
    t = timezone.now() - timedelta(minutes=1)

    def event(device, kind, center_code=center.org.code, **payload):
        return tracking.Event(center_code, kind, device, 1, t, payload)

    applied = tracking.apply_events(
        [
            event("WB-00", "presence", zone="NOPE", event="enter"),
            event("WB-99", "presence", zone="XW-1", event="enter"),
            event("WB-01", "presence", "elsewhere", zone="XW-1", event="enter"),
            event("CAM-XW-1-1", "presence", zone="XW-1", event="enter"),
            event("WB-02", "status", recording=True),
        ]
    )
    assert sorted(code for _, code, _ in applied.rejected) == [
        "unknown_center",
        "unknown_device",
        "unknown_zone",
        "wrong_kind",
        "wrong_kind",
    ]
    assert all(message for *_, message in applied.rejected)
    assert (applied.new, applied.unknown) == (0, 5)
    assert not DeviceEvent.objects.exists() and not Presence.objects.exists()


def test_a_camera_recording_with_nobody_tracked_is_told_to_stop(center, live):
    t = timezone.now() - timedelta(minutes=1)
    applied = live("CAM-HH-1-1", "status", t, recording=True, audio=True)
    assert [(c.camera.code, c.action) for c in applied.commands] == [("CAM-HH-1-1", "stop")]
    assert Camera.objects.get(code="CAM-HH-1-1").state == "stray"
    # the stop is resent, not doubled, while the camera keeps recording
    again = live("CAM-HH-1-1", "status", t + timedelta(seconds=3), recording=True)
    assert again.commands == []
    answer(live, applied.commands[0], t + timedelta(seconds=4), recording=False)
    assert Camera.objects.get(code="CAM-HH-1-1").state == "off"


def test_the_live_rules_timers_are_not_clocks_of_the_case(
    center, suspect, bring_in, live, officers
):
    stay = bring_in(suspect())
    t = timezone.now() - timedelta(minutes=5)
    for minute, zone in enumerate(["DJ", "HH-1", "XW-1", "HH-1", "XW-1", "DJ"]):
        live("WB-00", "presence", t + timedelta(seconds=minute), zone=zone, event="enter")
    assert Deadline.objects.filter(rule__code__startswith="custody.").exists()
    shown = selectors.case_deadlines(stay.case).values_list("rule_id", flat=True)
    assert not [code for code in shown if code.startswith("custody.")]
    review = selectors.deadline_review(officers["manager"], state="")
    assert not review.filter(rule__code__startswith="custody.").exists()


def test_every_live_rule_that_sets_timers_has_them_woken():
    # the app registers the codes without importing the rules (start-up time):
    # a rule given a timer in rules.TIMER_CHECKS must be named there too
    from casecenter.custody import apps, rules
    from casecenter.supervision import timers

    assert set(apps.TIMER_RULES) == set(rules.TIMER_CHECKS)
    assert all(timers.is_timer(code) for code in rules.TIMER_CHECKS)


def test_fewer_than_two_officers_reads_as_a_rule_broken_now_and_ends_when_they_come(
    center, suspect, bring_in, live
):
    stay = bring_in(suspect())
    t = timezone.now() - timedelta(minutes=10)
    live("WB-00", "presence", t, zone="XW-1", event="enter")
    live("BG-0", "presence", t, zone="XW-1", event="enter")
    live("BG-2", "presence", t, zone="XW-1", event="enter")  # the desk: not the case's
    worker.run_once(now=t + timedelta(seconds=61))
    [alert] = alerts("custody.two_officers")
    assert alert.title_zh.startswith("讯问室一内民警不足两名")
    assert alert.title_en.startswith("Fewer than two officers in 讯问室一")
    assert alert.kind == "event" and alert.facts["officers"] == 1
    assert "期限" not in alert.title_zh and "expired" not in alert.explanation_en
    assert subjects.alert_page(alert) == f"/custody/stays/{stay.pk}/"
    live("BG-1", "presence", t + timedelta(seconds=70), zone="XW-1", event="enter")
    alert.refresh_from_db()
    assert alert.state == "resolved" and "two officers present" in alert.resolution


def test_a_second_officer_within_the_minute_raises_nothing(center, suspect, bring_in, live):
    bring_in(suspect())
    t = timezone.now() - timedelta(minutes=10)
    live("WB-00", "presence", t, zone="XW-1", event="enter")
    live("BG-0", "presence", t, zone="XW-1", event="enter")
    live("BG-1", "presence", t + timedelta(seconds=30), zone="XW-1", event="enter")
    worker.run_once(now=t + timedelta(minutes=5))
    assert alerts("custody.two_officers") == []


def test_an_acknowledged_high_does_not_silence_a_later_low(center, suspect, bring_in, live):
    bring_in(suspect())
    t = timezone.now() - timedelta(minutes=10)
    live("WB-00", "vitals", t, hr=135)
    live("WB-00", "vitals", t + timedelta(seconds=30), hr=140)  # the same episode
    [high] = alerts("custody.vitals")
    assert "心率 135 次/分，高于 120" in high.explanation_zh
    assert "Heart rate 135 bpm, above 120" in high.explanation_en
    services.acknowledge_alert(center.desk, high, note="医生已到场")
    live("WB-00", "vitals", t + timedelta(seconds=60), hr=80)
    live("WB-00", "vitals", t + timedelta(seconds=90), hr=42)
    live("WB-00", "vitals", t + timedelta(seconds=120), hr=80)
    live("WB-00", "vitals", t + timedelta(seconds=150), hr=130)  # high again: a new episode
    found = [(a.facts["side"], a.facts["value"]) for a in alerts("custody.vitals")]
    assert found == [("high", 135), ("low", 42), ("high", 130)]


def test_a_late_reading_in_range_splits_an_episode(center, suspect, bring_in, live):
    bring_in(suspect())
    t = timezone.now() - timedelta(minutes=10)
    live("WB-00", "vitals", t, hr=130)
    live("WB-00", "vitals", t + timedelta(seconds=60), hr=131)
    assert len(alerts("custody.vitals")) == 1
    live("WB-00", "vitals", t + timedelta(seconds=30), hr=80)  # buffered, arrives last
    starts = [a.facts["start"] for a in alerts("custody.vitals")]
    assert starts == [t.isoformat(), (t + timedelta(seconds=60)).isoformat()]


def test_co_suspects_apart_again_resolve_their_alert(center, suspect, bring_in, live, make_case):
    case = make_case()
    bring_in(suspect(case), band=0)
    bring_in(suspect(case, birth="19880101", sex_serial="135"), band=1)
    t = timezone.now() - timedelta(minutes=10)
    live("WB-00", "presence", t, zone="HH-1", event="enter")
    live("WB-01", "presence", t + timedelta(seconds=5), zone="HH-1", event="enter")
    [alert] = alerts("custody.separation")
    assert len(alert.facts["stays"]) == 2 and "候问室一" in alert.title_zh
    live("WB-01", "presence", t + timedelta(seconds=50), zone="DJ", event="enter")
    alert.refresh_from_db()
    assert alert.state == "resolved" and "held apart" in alert.resolution


def test_a_late_leave_proves_co_suspects_were_never_together(
    center, suspect, bring_in, live, make_case
):
    case = make_case()
    bring_in(suspect(case), band=0)
    bring_in(suspect(case, birth="19880101", sex_serial="135"), band=1)
    t = timezone.now() - timedelta(minutes=10)
    live("WB-00", "presence", t, zone="HH-1", event="enter")
    live("WB-01", "presence", t + timedelta(seconds=60), zone="HH-1", event="enter")
    [alert] = alerts("custody.separation")
    # WB-00's leave at t+30 s was buffered: they were never there together
    live("WB-00", "presence", t + timedelta(seconds=30), zone="DJ", event="enter")
    alert.refresh_from_db()
    assert alert.state == "resolved" and "did not happen" in alert.resolution


def test_a_minor_leaving_the_adult_room_resolves_the_alert(center, suspect, bring_in, live):
    today = timezone.localdate()
    bring_in(suspect(birth=f"{today.year - 16}0101", sex_serial="155"))
    t = timezone.now() - timedelta(minutes=10)
    live("WB-00", "presence", t, zone="XW-1", event="enter")
    [alert] = alerts("custody.juvenile_room")
    live("WB-00", "presence", t + timedelta(seconds=40), zone="WCN", event="enter")
    alert.refresh_from_db()
    assert alert.state == "resolved"
    assert alerts("custody.juvenile_room") == [alert]


def test_a_late_confirmation_within_the_grace_takes_the_alert_back(center, suspect, bring_in, live):
    """The worker alerted when no answer had come; the answers, delayed on the
    network, show both cameras recording one second after the entry."""
    bring_in(suspect())
    t = timezone.now() - timedelta(minutes=5)
    applied = live("WB-00", "presence", t, zone="XW-1", event="enter")
    worker.run_once(now=t + timedelta(seconds=6))
    [alert] = alerts("custody.recording")
    for command in applied.commands:
        answer(live, command, t + timedelta(seconds=1), received=t + timedelta(seconds=9))
    alert.refresh_from_db()
    assert alert.state == "resolved" and alert.facts["disproved"] is True


def test_a_confirmation_that_arrives_after_the_alert_still_resolves_it(
    center, suspect, bring_in, live
):
    """The cameras confirmed at 5.5 s by their clocks (past the grace: a real gap);
    the worker alerted at 6 s; the answers arrived at 7 s. The alert was raised
    while the gap was open, so its end closes it."""
    bring_in(suspect())
    t = timezone.now() - timedelta(minutes=5)
    applied = live("WB-00", "presence", t, zone="XW-1", event="enter")
    worker.run_once(now=t + timedelta(seconds=6))
    for command in applied.commands:
        answer(live, command, t + timedelta(milliseconds=5500), received=t + timedelta(seconds=7))
    [alert] = alerts("custody.recording")
    assert alert.state == "resolved" and "disproved" not in alert.facts
    assert alert.facts["end"] == (t + timedelta(milliseconds=5500)).isoformat()


def test_a_gap_learnt_of_after_it_ended_stays_open_for_review(center, suspect, bring_in, live):
    """A wristband that buffered its entry: the person was in the room for ten
    minutes before casecenter knew, unrecorded; by then they had left."""
    bring_in(suspect())
    t = timezone.now() - timedelta(minutes=30)

    def enter(seq, at, zone):
        return tracking.Event(center.org.code, "presence", "WB-00", seq, at, {"zone": zone,
                              "event": "enter"})  # fmt: skip

    # the buffer comes in one go
    tracking.apply_events([enter(1, t, "XW-1"), enter(2, t + timedelta(minutes=10), "DJ")])
    found = {a.facts["zone"]: a for a in alerts("custody.recording")}
    assert found["XW-1"].state == "open" and found["XW-1"].facts["learnt_after"] is True


def test_the_answer_to_an_older_stop_is_not_a_failed_start_of_the_newer_record(
    center, suspect, bring_in, make_case, live
):
    bring_in(suspect(), band=0)
    bring_in(suspect(make_case(), birth="19880101", sex_serial="135"), band=1)
    t = timezone.now() - timedelta(minutes=5)
    for command in live("WB-00", "presence", t, zone="HH-1", event="enter").commands:
        answer(live, command, t + timedelta(seconds=1))
    # one leaves HH-1 as the other comes in: "stop", then "record", before the stop's answer
    left = live("WB-00", "presence", t + timedelta(seconds=60), zone="DJ", event="enter")
    came = live("WB-01", "presence", t + timedelta(seconds=60.5), zone="HH-1", event="enter")
    stops = [c for c in left.commands if c.camera.zone.code == "HH-1"]
    assert {c.action for c in stops} == {"stop"}
    assert {c.action for c in came.commands if c.camera.zone.code == "HH-1"} == {"record"}
    for command in stops:
        answer(live, command, t + timedelta(seconds=61), recording=False)
    assert {c.state for c in Camera.objects.filter(zone__code="HH-1")} == {"asked"}
    assert alerts("custody.recording") == []


def test_an_alert_names_only_the_cameras_still_unconfirmed_after_the_grace(
    center, suspect, bring_in, live
):
    bring_in(suspect())
    t = timezone.now() - timedelta(minutes=5)
    applied = live("WB-00", "presence", t, zone="XW-1", event="enter")
    first, _ = sorted(applied.commands, key=lambda c: c.camera.code)
    answer(live, first, t + timedelta(seconds=2))  # camera 1 records 2 s in; camera 2 never
    worker.run_once(now=t + timedelta(seconds=6))
    [alert] = alerts("custody.recording")
    assert alert.facts["cameras"] == ["CAM-XW-1-2"]
    assert "CAM-XW-1-1" not in alert.explanation_en


def test_a_camera_whose_clock_was_reset_is_believed_about_its_newest_command(
    center, suspect, bring_in, live
):
    """Its clock ran 25 s ahead (within the tolerance), then a reboot set it an hour
    behind: the answer to the newest command is what it does now; it is not asked
    again and again."""
    bring_in(suspect(), band=0)
    t = timezone.now() - timedelta(minutes=30)
    came = live("WB-00", "presence", t, zone="HH-1", event="enter")
    for command in came.commands:
        answer(live, command, t + timedelta(seconds=1))
    went = live("WB-00", "presence", t + timedelta(minutes=10), zone="DJ", event="enter")
    stop = next(c for c in went.commands if c.camera.code == "CAM-HH-1-1")
    ahead = t + timedelta(minutes=10, seconds=25)
    answer(live, stop, ahead, recording=False, received=t + timedelta(minutes=10, seconds=1))
    back = live("WB-00", "presence", t + timedelta(minutes=10, seconds=5), zone="HH-1",
                event="enter")  # fmt: skip
    command = next(c for c in back.commands if c.camera.code == "CAM-HH-1-1")
    behind = t - timedelta(hours=1)
    again = answer(live, command, behind, received=t + timedelta(minutes=10, seconds=6))
    assert [c for c in again.commands if c.camera.code == "CAM-HH-1-1"] == []
    assert Camera.objects.get(code="CAM-HH-1-1").state == "on"
    segment = Recording.objects.get(command=command.command_id)
    assert segment.started_at == segment.asked_at  # never before the command was sent


def test_a_fault_learnt_after_the_alert_is_written_into_it(center, suspect, bring_in, live):
    bring_in(suspect())
    t = timezone.now() - timedelta(minutes=5)
    applied = live("WB-00", "presence", t, zone="HH-1", event="enter")
    worker.run_once(now=t + timedelta(seconds=6))
    [alert] = alerts("custody.recording")
    assert "disk_full" not in alert.explanation_en
    command = applied.commands[0]
    answer(live, command, t + timedelta(seconds=8), recording=False, fault="disk_full")
    alert.refresh_from_db()
    assert "disk_full" in alert.explanation_en and "disk_full" in alert.explanation_zh
    assert len(alerts("custody.recording")) == 1
