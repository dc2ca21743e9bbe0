"""The demo's custody area shows the guarantees at their edges (issue 13): a stay
with a camera that never answers, a camera's fault report, a vitals alert the
medic opens — built through the services and ``tracking.apply_events``."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from casecenter.custody.models import Camera, CameraCommand, Presence, Stay
from casecenter.demo import custody
from casecenter.demo.data import DemoBuilder
from casecenter.supervision.models import Alert
from casecenter.supervision.selectors import visible_alerts
from casecenter.supervision.subjects import alert_page
from casecenter.supervision.worker import run_once

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo's people, cases and custody area, built once for the module."""
    with django_db_blocker.unblock():
        builder = DemoBuilder(seed=20261126)
        users = builder.organisations_and_users()
        builder.cases(users, 60)
        center = custody.build_center(users)
        custody.build_stays(builder.rng, users, center)
        run_once()  # the recording timers whose grace passed, as ``load`` ends
    yield users
    with django_db_blocker.unblock():
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)


def test_a_stay_in_the_room_of_the_camera_that_never_answers_is_unconfirmed_and_alerted(demo):
    camera = Camera.objects.select_related("zone").get(code=custody.SILENT_CAMERA)
    [here] = Presence.objects.filter(zone=camera.zone, left_at__isnull=True, stay__isnull=False)
    assert here.stay.exited_at is None
    assert camera.state == "asked" and camera.confirmed_at is None
    [command] = CameraCommand.objects.filter(camera=camera)
    assert (command.action, command.confirmed_at) == ("record", None)
    # every other camera of the room confirmed its command
    others = Camera.objects.filter(zone=camera.zone).exclude(pk=camera.pk)
    assert {c.state for c in others} == {"on"}
    [alert] = Alert.objects.filter(rule_id="custody.recording", subject=f"stay:{here.stay_id}")
    assert alert.state == "open" and custody.SILENT_CAMERA in alert.facts["cameras"]
    assert custody.SILENT_CAMERA in alert.explanation_zh
    assert visible_alerts(demo["zhaogang"]).filter(pk=alert.pk).exists()


def test_a_camera_reporting_a_full_disk_is_alerted_at_once_to_the_desk(demo):
    camera = Camera.objects.select_related("zone").get(code=custody.FAULTY_CAMERA)
    [here] = Presence.objects.filter(zone=camera.zone, left_at__isnull=True, stay__isnull=False)
    assert (camera.state, camera.fault) == ("failed", "disk_full")
    [command] = CameraCommand.objects.filter(camera=camera)
    assert command.confirmed_at is None  # kept open: sent again until the camera records
    [alert] = Alert.objects.filter(rule_id="custody.recording", subject=f"stay:{here.stay_id}")
    assert "disk_full" in alert.explanation_zh and "disk_full" in alert.explanation_en
    # at once: raised when the answer arrived, not after the grace
    answered = camera.fault_at
    assert answered <= alert.raised_at < answered + timedelta(seconds=1)
    assert alert.state == "open"
    assert visible_alerts(demo["zhaogang"]).filter(pk=alert.pk).exists()


def test_the_medic_sees_the_high_heart_rate_and_opens_the_stay(demo, client):
    [alert] = Alert.objects.filter(rule_id="custody.vitals")
    stay = Stay.objects.get(pk=alert.facts["stay"])
    assert stay.heart_rate == custody.HIGH_PULSE
    assert "心率 135 次/分，高于 120" in alert.explanation_zh
    assert Presence.objects.get(stay=stay, left_at__isnull=True).zone.code == "HH-1"
    wangyi = demo["wangyi"]
    assert visible_alerts(wangyi).filter(pk=alert.pk).exists()
    page = alert_page(alert)
    assert page == f"/custody/stays/{stay.pk}/"
    client.force_login(wangyi)
    response = client.get(page)
    assert response.status_code == 200
    assert stay.wristband.code in response.content.decode()


def test_the_walked_history_raises_only_the_edge_cases(demo):
    found = Counter(
        Alert.objects.filter(rule__code__startswith="custody.").values_list("rule_id", flat=True)
    )
    # the two broken cameras, the heart rate, the co-suspects in HH-6: nothing else
    assert found == {
        "custody.recording": 2,
        "custody.vitals": 1,
        "custody.separation": 1,
    }
    [together] = Alert.objects.filter(rule_id="custody.separation")
    assert together.facts["zone"] == "HH-6" and len(together.facts["stays"]) == 2
