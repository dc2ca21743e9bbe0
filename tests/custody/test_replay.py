"""Issue 13, item 5: a day's events replayed in any order, in any batches, with repeats,
give the same presences, the same recording segments and the same alerts — one per
episode (hypothesis)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casecenter.custody import tracking
from casecenter.custody.models import Presence, Recording
from casecenter.custody.tracking import Event
from casecenter.supervision import worker
from casecenter.supervision.models import Alert

ZONES = ["DJ", "HH-1", "XW-1", "WCN", "LS"]

moves = st.lists(st.tuples(st.sampled_from(ZONES), st.integers(1, 900)), min_size=1, max_size=5)
readings = st.lists(st.tuples(st.integers(0, 3600), st.sampled_from([72, 72, 135, 41])), max_size=5)
straps = st.lists(st.tuples(st.integers(0, 3600), st.booleans()), max_size=3)


def day(center, start, walks, vitals, strap) -> list[Event]:
    events: list[Event] = []
    for device, steps in walks.items():
        at = start
        for seq, (zone, gap) in enumerate(steps, start=1):
            at += timedelta(seconds=gap)
            events.append(
                Event(center, "presence", device, seq, at, {"zone": zone, "event": "enter"})
            )
    for device, series in vitals.items():
        for n, (offset, hr) in enumerate(series):
            at = start + timedelta(seconds=offset, milliseconds=n)
            events.append(Event(center, "vitals", device, 1000 + n, at, {"hr": hr}))
    for device, series in strap.items():
        for n, (offset, removed) in enumerate(series):
            at = start + timedelta(seconds=offset, milliseconds=n)
            payload = {"strap": "removed" if removed else "closed"}
            events.append(Event(center, "status", device, 2000 + n, at, payload))
    return events


def outcome(batches, received) -> tuple:
    """Apply ``batches`` as a replay received at ``received``; the cameras then answer
    what they were asked; the worker runs an hour later. The state, rolled back."""
    sid = transaction.savepoint()
    try:
        for batch in batches:
            tracking.apply_events(batch, received_at=received)
        for command in tracking.open_commands():
            tracking.apply_events(
                [
                    Event(
                        command.camera.zone.center.code,
                        "status",
                        command.camera.code,
                        command.pk,
                        received + timedelta(seconds=1),
                        {"recording": command.action == "record", "command": command.command_id},
                    )
                ],
                received_at=received + timedelta(seconds=2),
            )
        worker.run_once(now=received + timedelta(hours=1))
        presences = sorted(
            (p.stay_id or 0, p.badge_id or 0, p.zone.code, p.entered_at, p.left_at or 0)
            for p in Presence.objects.select_related("zone")
        )
        segments = sorted(
            (r.camera.code, r.started_at, r.stopped_at or 0)
            for r in Recording.objects.filter(started_at__isnull=False).select_related("camera")
        )
        standing = sorted(
            a.key for a in Alert.objects.all() if not (a.facts or {}).get("disproved")
        )
        return presences, segments, standing
    finally:
        transaction.savepoint_rollback(sid)


@pytest.fixture
def people(center, suspect, bring_in, make_case):
    case = make_case()
    entered = timezone.now() - timedelta(hours=5)
    bring_in(suspect(case), band=0, at=entered)
    bring_in(suspect(case, birth="19880101", sex_serial="135"), band=1, at=entered)
    today = timezone.localdate()
    bring_in(suspect(birth=f"{today.year - 16}0101", sex_serial="155"), band=2, at=entered)
    return entered


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    walks=st.fixed_dictionaries(
        {"WB-00": moves, "WB-01": moves, "WB-02": moves, "BG-0": moves, "BG-1": moves}
    ),
    vitals=st.fixed_dictionaries({"WB-00": readings, "WB-02": readings}),
    strap=st.fixed_dictionaries({"WB-01": straps}),
    data=st.data(),
)
def test_a_day_replayed_in_any_order_raises_each_alert_once(
    center, people, walks, vitals, strap, data
):
    start = people + timedelta(minutes=5)
    received = timezone.now()
    events = day(center.org.code, start, walks, vitals, strap)
    expected = outcome(
        [[e] for e in sorted(events, key=lambda e: (e.device_time, e.seq))], received
    )

    repeated = events + data.draw(st.lists(st.sampled_from(events), max_size=len(events)))
    shuffled = data.draw(st.permutations(repeated))
    cuts = sorted(data.draw(st.sets(st.integers(0, len(shuffled)), max_size=len(shuffled))))
    batches = [
        shuffled[a:b] for a, b in zip([0, *cuts], [*cuts, len(shuffled)], strict=True) if a < b
    ]
    assert outcome(batches, received) == expected
