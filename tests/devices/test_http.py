"""``POST /api/devices/events`` and ``GET /api/devices/commands``: the embedded
default's device gateway (no broker)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from casecenter.accounts.models import Role
from casecenter.accounts.services import issue_api_token
from casecenter.audit.models import AuditEntry
from casecenter.custody.models import CameraCommand, DeviceEvent, Recording
from casecenter.devices.models import RejectedMessage
from tests.devices.conftest import CENTER

URL = "/api/devices/events"


@pytest.fixture
def gateway(world, make_user):
    user = make_user("gateway", Role.CUSTODY_STAFF, org="station")
    user.organisation = world.center
    user.save()
    return issue_api_token(user, name="custody-area gateway")[1]


def post(client, token, body):
    return client.post(
        URL, body, content_type="application/json", headers={"authorization": f"Bearer {token}"}
    )


def ts(seconds_ago: float = 0) -> str:
    return (timezone.now() - timedelta(seconds=seconds_ago)).isoformat()


def enter(seq, zone="int1", device="wb-01", ago=5):
    return {
        "kind": "presence",
        "device": device,
        "seq": seq,
        "ts": ts(ago),
        "zone": zone,
        "event": "enter",
    }


def test_enter_answers_with_the_rooms_record_commands_until_the_cameras_confirm(client, gateway):
    answer = post(client, gateway, {"center": CENTER, "events": [enter(1)]})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["new"], body["duplicates"], body["unknown"], body["rejected"]) == (1, 0, 0, [])
    commands = {c["camera"]: c for c in body["commands"]}
    assert set(commands) == {"int1-c1", "int1-c2"}
    assert {(c["action"], c["audio"]) for c in commands.values()} == {("record", True)}

    polled = client.get(
        f"/api/devices/commands?center={CENTER}", headers={"authorization": f"Bearer {gateway}"}
    )
    assert {c["id"] for c in polled.json()["commands"]} == {c["id"] for c in commands.values()}

    confirmations = [
        {
            "kind": "status",
            "device": camera,
            "seq": 1,
            "ts": ts(),
            "recording": True,
            "audio": True,
            "command": command["id"],
        }
        for camera, command in commands.items()
    ]
    body = post(client, gateway, {"center": CENTER, "events": confirmations}).json()
    assert (body["new"], body["commands"]) == (2, [])
    assert Recording.objects.filter(zone__code="int1", started_at__isnull=False).count() == 2
    assert not CameraCommand.objects.filter(confirmed_at__isnull=True).exists()


def test_the_lawyer_room_is_asked_for_video_only(client, gateway):
    body = post(client, gateway, {"center": CENTER, "events": [enter(1, zone="law1")]}).json()
    assert [(c["camera"], c["audio"]) for c in body["commands"]] == [("law1-c1", False)]


def test_a_repeated_post_is_counted_as_duplicates_and_changes_nothing(client, gateway):
    events = [enter(1), enter(2, zone="wait1", ago=2), enter(2, zone="wait1", ago=2)]
    first = post(client, gateway, {"center": CENTER, "events": events}).json()
    again = post(client, gateway, {"center": CENTER, "events": events[::-1]}).json()
    assert (first["new"], first["duplicates"]) == (2, 1)
    assert (again["new"], again["duplicates"]) == (0, 3)
    assert DeviceEvent.objects.count() == 2


def test_bad_events_are_answered_and_kept_while_the_good_ones_are_applied(client, gateway):
    events = [
        {"kind": "vitals", "device": "wb-01", "seq": 1, "ts": ts(3), "hr": 72},
        {"kind": "vitals", "device": "wb-01", "seq": 2, "ts": ts(2), "hr": 999},
        {"kind": "vitals", "device": "wb-01", "seq": 3, "ts": "2026-11-26 09:00", "hr": 70},
        {"kind": "pulse", "device": "wb-01", "seq": 4, "ts": ts(1)},
        "not an object",
    ]
    body = post(client, gateway, {"center": CENTER, "events": events}).json()
    assert body["new"] == 1
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [
        (1, "hr"),
        (2, "ts"),
        (3, "kind"),
        (4, "payload"),
    ]
    assert "out of range" in body["rejected"][0]["message"]
    kept = RejectedMessage.objects.order_by("id")
    assert [(r.source, r.center, r.code) for r in kept] == [
        ("http", CENTER, "hr"),
        ("http", CENTER, "ts"),
        ("http", CENTER, "kind"),
        ("http", CENTER, "payload"),
    ]
    assert '"hr": 999' in kept[0].payload
    posted = AuditEntry.objects.get(action="devices.events_posted")
    assert (posted.actor_name, posted.data) == (
        "gateway",
        {"new": 1, "duplicates": 0, "rejected": 4},
    )


@pytest.mark.parametrize(
    "body",
    [
        {"center": CENTER, "events": {"kind": "vitals"}},
        {"center": CENTER},
        {"events": []},
        {"center": CENTER, "events": [enter(i) for i in range(1001)]},
        {"center": "x" * 31, "events": []},
    ],
)
def test_a_malformed_request_is_a_422_and_applies_nothing(client, gateway, body):
    answer = post(client, gateway, body)
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_input"
    assert not DeviceEvent.objects.exists()


def test_an_unknown_center_is_a_404(client, world, make_user):
    admin = make_user("root", Role.ADMIN)
    token = issue_api_token(admin, name="t")[1]
    answer = post(client, token, {"center": "nowhere", "events": [enter(1)]})
    assert (answer.status_code, answer.json()["code"]) == (404, "device.center")


def test_only_a_gateway_account_of_the_center_may_post(client, world, make_user):
    assert post(client, "cc_nonsense", {"center": CENTER, "events": []}).status_code == 401
    officer = issue_api_token(make_user("officer"), name="t")[1]
    answer = post(client, officer, {"center": CENTER, "events": [enter(1)]})
    assert (answer.status_code, answer.json()["code"]) == (403, "device.gateway_role")
    elsewhere = issue_api_token(make_user("desk", Role.CUSTODY_STAFF), name="t")[1]
    answer = post(client, elsewhere, {"center": CENTER, "events": [enter(1)]})
    assert (answer.status_code, answer.json()["code"]) == (403, "device.other_center")
    admin = issue_api_token(make_user("root", Role.ADMIN), name="t")[1]
    assert post(client, admin, {"center": CENTER, "events": [enter(1)]}).json()["new"] == 1
    assert DeviceEvent.objects.count() == 1


def test_a_browser_session_is_not_a_gateway(client, world, make_user):
    client.force_login(make_user("desk", Role.CUSTODY_STAFF))
    answer = client.post(URL, {"center": CENTER, "events": []}, content_type="application/json")
    assert answer.status_code == 401


def test_events_naming_what_casecenter_does_not_know_are_refused_by_index(client, gateway):
    """Unknown devices, zones and centers, and kinds a device cannot send, are dead
    letters with a code the vendor can see — over HTTP as over MQTT."""
    events = [
        enter(1, zone="int1"),
        enter(2, zone="nowhere"),
        enter(1, device="wb-99"),
        {
            "kind": "presence",
            "device": "int1-c1",
            "seq": 1,
            "ts": ts(4),
            "zone": "int1",
            "event": "enter",
        },  # fmt: skip
        {"kind": "status", "device": "wb-01", "seq": 3, "ts": ts(3), "recording": True},
        {
            "kind": "status",
            "device": "int1-c1",
            "seq": 2,
            "ts": ts(3),
            "recording": False,
            "fault": "disk_full",
        },  # fmt: skip
    ]
    body = post(client, gateway, {"center": CENTER, "events": events}).json()
    assert body["new"] == 2 and body["unknown"] == 4
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [
        (1, "unknown_zone"),
        (2, "unknown_device"),
        (3, "wrong_kind"),
        (4, "wrong_kind"),
    ]
    assert "nowhere" in body["rejected"][0]["message"]
    kept = sorted(RejectedMessage.objects.values_list("device", "code"))
    assert kept == [
        ("int1-c1", "wrong_kind"),
        ("wb-01", "unknown_zone"),
        ("wb-01", "wrong_kind"),
        ("wb-99", "unknown_device"),
    ]
    assert sorted(DeviceEvent.objects.values_list("device", "seq")) == [
        ("int1-c1", 2),
        ("wb-01", 1),
    ]


def test_a_clock_far_ahead_is_applied_at_its_arrival_and_counted(client, gateway):
    ahead = (timezone.now() + timedelta(hours=3)).isoformat()
    event = {**enter(1), "ts": ahead}
    body = post(client, gateway, {"center": CENTER, "events": [event]}).json()
    assert (body["new"], body["clock_ahead"], body["rejected"]) == (1, 1, [])
    stored = DeviceEvent.objects.get()
    assert stored.device_time <= timezone.now() and stored.payload["device_ts"] == ahead
