"""Idempotent ingestion (issue 5, item 9): duplicated, reordered and re-batched
presence events give the same presence as the events applied once, in order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casecenter.custody import tracking
from casecenter.custody.models import Camera, Presence
from casecenter.custody.tracking import Event
from tests.devices.conftest import CENTER

ROOMS = ["reg", "wait1", "int1", "med", "law1", "hall"]

moves = st.lists(
    st.tuples(
        st.sampled_from(ROOMS),
        st.integers(min_value=0, max_value=600),  # seconds since the previous event
        st.booleans(),  # leave the room explicitly before the next enter
    ),
    min_size=1,
    max_size=8,
)


def walk(device: str, start, steps, *, seq0: int = 0) -> list[Event]:
    """A wearer's path: enter a room, maybe leave it, enter the next …"""
    events, at, seq = [], start, seq0
    for room, gap, leave in steps:
        at += timedelta(seconds=gap)
        events.append(Event(CENTER, "presence", device, seq, at, {"zone": room, "event": "enter"}))
        seq += 1
        if leave:
            at += timedelta(seconds=gap)
            events.append(
                Event(CENTER, "presence", device, seq, at, {"zone": room, "event": "leave"})
            )
            seq += 1
    return events


def _moment(at) -> str:
    """A presence's moment, comparable when it is unknown (a leave seen without its enter)."""
    return at.isoformat() if at else ""


def state() -> tuple:
    presence = sorted(
        (
            p.stay_id or 0,
            p.badge_id or 0,
            p.zone.code,
            _moment(p.entered_at),
            _moment(p.left_at),
            p.enter_seq or 0,
        )
        for p in Presence.objects.select_related("zone")
    )
    cameras = sorted(Camera.objects.values_list("code", "wanted"))
    return presence, cameras


def applied(batches) -> tuple:
    """The state after applying ``batches``, then rolled back."""
    sid = transaction.savepoint()
    try:
        for batch in batches:
            tracking.apply_events(batch)
        return state()
    finally:
        transaction.savepoint_rollback(sid)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(band=moves, badge=moves, data=st.data())
def test_duplicated_reordered_rebatched_presence_ends_in_the_same_state(world, band, badge, data):
    start = world.entered + timedelta(minutes=1)
    events = walk("wb-01", start, band) + walk("bd-01", start, badge, seq0=100)
    in_order = sorted(events, key=lambda e: e.device_time)
    expected = applied([[e] for e in in_order])

    repeated = events + data.draw(st.lists(st.sampled_from(events), max_size=len(events)))
    shuffled = data.draw(st.permutations(repeated))
    cuts = sorted(data.draw(st.sets(st.integers(0, len(shuffled)), max_size=len(shuffled))))
    batches = [
        shuffled[a:b] for a, b in zip([0, *cuts], [*cuts, len(shuffled)], strict=True) if a < b
    ]
    assert applied(batches) == expected


@pytest.mark.django_db
def test_a_repeated_batch_changes_nothing(world):
    start = world.entered + timedelta(minutes=1)
    events = walk("wb-01", start, [("int1", 30, False), ("wait1", 60, True)])
    first = tracking.apply_events(events)
    before = state()
    again = tracking.apply_events(list(reversed(events)))
    assert (first.new, first.duplicates) == (3, 0)
    assert (again.new, again.duplicates, again.commands) == (0, 3, [])
    assert state() == before


@pytest.mark.django_db
def test_a_late_enter_is_placed_by_its_own_time(world):
    start = world.entered + timedelta(minutes=1)
    reg, wait, interrogation = walk(
        "wb-01", start, [("reg", 10, False), ("wait1", 60, False), ("int1", 60, False)]
    )
    tracking.apply_events([reg, interrogation])
    tracking.apply_events([wait])  # the wristband was out of reach in the waiting room
    rows = list(Presence.objects.order_by("entered_at").values_list("zone__code", "left_at"))
    assert rows == [
        ("reg", wait.device_time),
        ("wait1", interrogation.device_time),
        ("int1", None),
    ]
