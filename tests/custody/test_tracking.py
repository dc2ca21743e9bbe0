"""Device events into presence, camera commands, vitals and status (rules: test_live_rules)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from casecenter.custody import tracking
from casecenter.custody.models import (
    Camera,
    CameraCommand,
    Device,
    DeviceEvent,
    Presence,
    Stay,
    Vital,
)
from casecenter.errors import InvalidInput
from casecenter.supervision.models import Alert, AlertAudience

pytestmark = pytest.mark.django_db


def _path(stay):
    return [
        (p.zone.code, p.left_at is None)
        for p in Presence.objects.filter(stay=stay).select_related("zone").order_by("entered_at")
    ]


def test_entering_a_zone_makes_its_cameras_record_and_leaving_stops_them(
    center, suspect, bring_in, device_events
):
    stay = bring_in(suspect())
    applied = device_events("WB-00", "presence", zone="XW-1", event="enter")
    assert applied.new == 1 and _path(stay) == [("XW-1", True)]
    commands = sorted((c.camera.code, c.action, c.audio) for c in applied.commands)
    assert commands == [("CAM-XW-1-1", "record", True), ("CAM-XW-1-2", "record", True)]
    assert Camera.objects.filter(zone__code="XW-1", wanted=True).count() == 2
    left = device_events("WB-00", "presence", zone="XW-1", event="leave")
    assert sorted(c.action for c in left.commands) == ["stop", "stop"]
    assert _path(stay) == [("XW-1", False)]


def test_a_repeated_event_is_a_duplicate_and_changes_nothing(
    center, suspect, bring_in, device_events
):
    bring_in(suspect())
    device_events("WB-00", "presence", seq=7, zone="HH-1", event="enter")
    again = device_events("WB-00", "presence", seq=7, zone="HH-1", event="enter")
    assert (again.new, again.duplicates, again.commands) == (0, 1, [])
    assert DeviceEvent.objects.count() == 1 and Presence.objects.count() == 1


def test_a_late_event_is_placed_by_its_own_time(center, suspect, bring_in, device_events):
    stay = bring_in(suspect())
    device_events("WB-00", "presence", seq=1, zone="DJ", event="enter")
    device_events("WB-00", "presence", seq=3, zone="XW-1", event="enter")
    # seq 2 (entering the waiting room between the two) arrives last
    device_events("WB-00", "presence", seq=2, zone="HH-1", event="enter")
    assert _path(stay) == [("DJ", False), ("HH-1", False), ("XW-1", True)]
    p = list(Presence.objects.filter(stay=stay).order_by("entered_at"))
    assert p[0].left_at == p[1].entered_at and p[1].left_at == p[2].entered_at


def test_both_times_are_kept(center, suspect, bring_in, device_events):
    bring_in(suspect())
    device_events("WB-00", "presence", zone="DJ", event="enter")
    event = DeviceEvent.objects.get()
    assert event.received_at > event.device_time
    presence = Presence.objects.get()
    assert presence.entered_at == event.device_time and presence.received_at == event.received_at


def test_a_lawyer_room_records_no_sound(center, suspect, bring_in, device_events):
    bring_in(suspect())
    applied = device_events("WB-00", "presence", zone="LS", event="enter")
    assert applied.commands and all(not c.audio for c in applied.commands)
    camera = Camera.objects.get(code="CAM-LS-1")
    with pytest.raises(InvalidInput) as refused:
        tracking.command_camera(camera, "record", audio=True)
    assert refused.value.code == "camera.audio_forbidden"
    assert CameraCommand.objects.filter(camera=camera).count() == 1  # only the video-only one


def test_staff_badges_alone_do_not_start_recording(center, device_events):
    applied = device_events("BG-0", "presence", zone="XW-1", event="enter")
    assert applied.new == 1 and applied.commands == []


def test_abnormal_vitals_alert_the_medical_desk_once(center, suspect, bring_in, device_events):
    stay = bring_in(suspect())
    device_events("WB-00", "vitals", hr=80, bp=[120, 80], spo2=98)
    assert not Alert.objects.exists()
    device_events("WB-00", "vitals", hr=150, bp=[125, 82], spo2=97)
    device_events("WB-00", "vitals", hr=155, bp=[125, 82], spo2=97)  # same episode
    alert = Alert.objects.get(rule_id="custody.vitals")
    assert alert.facts["metric"] == "heart_rate" and alert.facts["value"] == 150
    told = set(AlertAudience.objects.filter(alert=alert).values_list("role", flat=True))
    assert told == {"medical", "custody_staff", "commander"}
    stay.refresh_from_db()
    assert stay.heart_rate == 155 and Vital.objects.filter(stay=stay).count() == 3
    assert alert.escalate_at - alert.raised_at == timedelta(minutes=2)


def test_an_opened_strap_is_a_critical_alert(center, suspect, bring_in, device_events):
    bring_in(suspect())
    device_events("WB-00", "status", battery=80, strap="closed")
    device_events("WB-00", "status", battery=79, strap="removed")
    device_events("WB-00", "status", battery=78, strap="removed")
    alert = Alert.objects.get(rule_id="custody.strap")
    assert alert.severity == "critical" and "WB-00" in alert.explanation_zh


def test_co_suspects_in_one_waiting_room_raise_an_alert(
    center, suspect, bring_in, device_events, make_case
):
    case = make_case()
    bring_in(suspect(case), band=0)
    bring_in(suspect(case, birth="19880101", sex_serial="135"), band=1)
    device_events("WB-00", "presence", zone="HH-1", event="enter")
    assert not Alert.objects.filter(rule_id="custody.separation").exists()
    device_events("WB-01", "presence", zone="HH-1", event="enter")
    alert = Alert.objects.get(rule_id="custody.separation")
    assert len(alert.facts["stays"]) == 2


def test_a_minor_in_an_adult_interrogation_room_raises_an_alert(
    center, suspect, bring_in, device_events
):
    today = timezone.localdate()
    minor = suspect(birth=f"{today.year - 16}0101", sex_serial="155")
    assert minor.minor_at_act
    bring_in(minor)
    device_events("WB-00", "presence", zone="WCN", event="enter")
    assert not Alert.objects.filter(rule_id="custody.juvenile_room").exists()
    device_events("WB-00", "presence", zone="XW-1", event="enter")
    assert Alert.objects.filter(rule_id="custody.juvenile_room").count() == 1


def test_wristband_events_outside_any_stay_make_no_presence(center, suspect, device_events):
    device_events("WB-00", "presence", zone="XW-1", event="enter")
    assert not Presence.objects.exists() and Stay.objects.count() == 0


def test_a_lawyer_room_camera_recording_sound_is_an_alert(center, suspect, bring_in, device_events):
    bring_in(suspect())
    applied = device_events("WB-00", "presence", zone="LS", event="enter")
    command = applied.commands[0]
    device_events(
        command.camera.code, "status", recording=True, audio=False, command=command.command_id
    )
    assert not Alert.objects.filter(rule_id="custody.lawyer_audio").exists()
    device_events(command.camera.code, "status", recording=True, audio=True)
    alert = Alert.objects.get(rule_id="custody.lawyer_audio")
    assert alert.severity == "critical" and "CAM-LS" in alert.explanation_zh


def test_a_batch_of_many_devices_keeps_each_ones_latest_reading_and_status(
    center, suspect, bring_in
):
    first = bring_in(suspect(), band=0)
    second = bring_in(suspect(birth="19880101", sex_serial="135"), band=1)
    t0 = timezone.now() - timedelta(minutes=5)

    def event(device, kind, seq, seconds, **payload):
        return tracking.Event(
            center=center.org.code,
            kind=kind,
            device=device,
            seq=seq,
            device_time=t0 + timedelta(seconds=seconds),
            payload=payload,
        )

    tracking.apply_events(
        [
            event("WB-00", "vitals", 1, 20, hr=90, bp=[120, 80], spo2=98),
            event("WB-00", "vitals", 2, 10, hr=70, bp=[118, 79], spo2=97),  # older, arrives later
            event("WB-01", "vitals", 1, 5, hr=66, bp=[110, 70], spo2=99),
            event("WB-00", "status", 3, 30, battery=55, strap="closed"),
            event("WB-01", "status", 2, 6, battery=91, strap="closed"),
        ]
    )
    # an older reading and an older status in a later batch change neither
    tracking.apply_events(
        [
            event("WB-00", "vitals", 4, 15, hr=60, bp=[100, 60], spo2=96),
            event("WB-00", "status", 5, 25, battery=99, strap="closed"),
        ]
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.heart_rate, first.systolic, first.vitals_at) == (
        90,
        120,
        t0 + timedelta(seconds=20),
    )
    assert (second.heart_rate, second.spo2) == (66, 99)
    assert Vital.objects.filter(stay=first).count() == 3
    band, other = Device.objects.get(code="WB-00"), Device.objects.get(code="WB-01")
    assert (band.battery, band.last_seen_at) == (55, t0 + timedelta(seconds=30))
    assert (other.battery, other.last_seen_at) == (91, t0 + timedelta(seconds=6))
