"""What exercising ``custody.tracking`` from the ingesters found, pinned down.

Each test here fails on the current ``tracking`` and is marked
``xfail(strict=True)``: when the proposed fix lands it passes, strict xfail
turns that into a failure, and the marker is removed. The fixes are in the
devices report to the lead (issue 5).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from casecenter.accounts.models import Organisation, OrganisationKind
from casecenter.custody import tracking
from casecenter.custody.models import Camera
from casecenter.custody.tracking import Event
from tests.devices.conftest import CENTER

pytestmark = pytest.mark.django_db


def presence(seq, at, zone, event):
    return Event(CENTER, "presence", "wb-01", seq, at, {"zone": zone, "event": event})


def test_a_superseded_command_is_not_open_any_more(world):
    """Enter then leave before the cameras answered: "record" then "stop". Resending
    the old "record" after the "stop" would start the camera again, so only the
    newest command of a camera should still be open."""
    at = world.entered + timedelta(minutes=1)
    tracking.apply_events([presence(1, at, "med", "enter")])
    tracking.apply_events([presence(2, at + timedelta(seconds=2), "med", "leave")])
    open_ = list(tracking.open_commands())
    assert [(c.camera.code, c.action) for c in open_] == [("med-c1", "stop")]


def test_a_camera_status_from_another_centers_topic_changes_nothing(world):
    Organisation.objects.create(code="other", kind=OrganisationKind.CASE_CENTER, name="另一中心")
    at = world.entered + timedelta(minutes=1)
    applied = tracking.apply_events(
        [Event("other", "status", "int1-c1", 1, at, {"recording": True, "audio": True})]
    )
    assert applied.unknown == 1
    assert Camera.objects.get(code="int1-c1").recording is False
