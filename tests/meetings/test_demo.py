"""The demo's remote meetings: built on the demo's organisations and users, with
what docs/meetings.md promises a newcomer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from casecenter import law
from casecenter.demo.data import DemoBuilder
from casecenter.demo.meetings import build
from casecenter.meetings import selectors
from casecenter.meetings.models import Booking, BookingState, Detainee, Lawyer, Room
from casecenter.supervision import selectors as supervision
from casecenter.supervision.models import Alert, Deadline, DeadlineState
from casecenter.supervision.worker import run_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    builder = DemoBuilder()
    users = builder.organisations_and_users()
    return users, build(builder.rng, users)


def clock(booking: Booking) -> Deadline:
    return Deadline.objects.get(rule_id="lawyer.meeting", subject=booking.subject)


def test_the_demo_has_verified_lawyers_one_waiting_rooms_and_detainees(demo):
    users, _ = demo
    states = {x.user.username: x.state for x in Lawyer.objects.select_related("user")}
    assert states == {"chenming": "verified", "zhengli": "verified", "hexin": "pending"}
    assert all(x.verified_by == users["sunhao"] for x in Lawyer.objects.filter(state="verified"))
    assert Room.objects.filter(centre__code="hd-kss", active=True).count() == 2
    held = list(Detainee.objects.filter(centre__code="hd-kss", released_at__isnull=True))
    assert len(held) == 8 and len({d.id_number for d in held}) == 8
    for detainee in held:
        assert law.parse_id_number(detainee.id_number).number == detainee.id_number
        assert 2 <= len(detainee.name) <= 3


def test_the_demo_has_bookings_in_every_state_with_their_clocks(demo):
    users, made = demo
    assert set(Booking.objects.values_list("state", flat=True)) == set(BookingState.values)
    now = timezone.now()
    held = made["held"]
    assert held.state == BookingState.HELD and held.ended_at > held.started_at
    assert timezone.localtime(held.starts_at).date() == timezone.localdate() - timedelta(days=1)
    assert clock(held).state == DeadlineState.MET
    confirmed = made["confirmed"]
    assert confirmed.state == BookingState.CONFIRMED and confirmed.room is not None
    assert confirmed.starts_at > now
    late_evening = timezone.localtime(now).hour >= 18
    expected_day = timezone.localdate() + timedelta(days=1 if late_evening else 0)
    assert timezone.localtime(confirmed.starts_at).date() <= expected_day
    assert clock(made["refused"]).state == DeadlineState.CANCELLED
    assert made["refused"].refusal_reason
    assert clock(made["cancelled"]).state == DeadlineState.CANCELLED
    assert made["missed"].state == BookingState.MISSED
    # numbered per year in the order they were asked for
    numbers = list(Booking.objects.order_by("requested_at").values_list("year", "serial"))
    assert numbers == sorted(numbers)


def test_the_unanswered_requests_warn_soon_and_breach_for_the_centres_staff(demo):
    users, made = demo
    run_once()
    breached, warning = made["breached"], made["warning"]
    assert clock(breached).state == DeadlineState.BREACHED
    alert = Alert.objects.get(deadline=clock(breached), kind="breach")
    assert supervision.visible_alerts(users["sunhao"]).filter(pk=alert.pk).exists()
    assert not supervision.visible_alerts(users["zhangwei"]).filter(pk=alert.pk).exists()
    # about 40 hours old: still running, its warning comes within the next hours
    due_soon = clock(warning)
    assert due_soon.state == DeadlineState.RUNNING
    assert timezone.now() < due_soon.warn_at < timezone.now() + timedelta(hours=8)
    assert not Alert.objects.filter(deadline=due_soon).exists()
    # the staff's desk puts the breached request first
    desk = selectors.centre_desk(users["sunhao"])
    assert [r.booking for r in desk.requests][:2] == [breached, warning]
    assert made["requested"] in [r.booking for r in desk.requests]
