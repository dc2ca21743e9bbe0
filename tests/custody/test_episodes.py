"""The interval arithmetic of the live rules, against a brute-force count minute by minute."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from casecenter.custody.episodes import Interval, crowded, runs, thin, uncovered, union

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
HORIZON = 60  # minutes; an open interval runs past it


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


@st.composite
def intervals(draw, max_size: int = 5) -> list[Interval]:
    out = []
    for _ in range(draw(st.integers(0, max_size))):
        start = draw(st.integers(0, HORIZON - 1))
        end = draw(st.one_of(st.none(), st.integers(start + 1, HORIZON)))
        out.append(Interval(at(start), None if end is None else at(end)))
    return out


def inside(iv: Interval, moment: datetime) -> bool:
    return iv.start <= moment and (iv.end is None or moment < iv.end)


def samples() -> list[datetime]:
    """Half-minute points: inside a minute, never on a boundary."""
    return [at(m) + timedelta(seconds=30) for m in range(HORIZON + 2)]


@given(intervals(), st.lists(intervals(), max_size=3))
def test_uncovered_is_every_moment_some_covering_misses(span_list, coverings):
    span = span_list[0] if span_list else Interval(at(0), at(HORIZON))
    gaps = uncovered(span, coverings)
    for moment in samples():
        expected = inside(span, moment) and any(
            not any(inside(iv, moment) for iv in covering) for covering in coverings
        )
        assert any(inside(g, moment) for g in gaps) == expected, moment
    assert gaps == union(gaps)  # disjoint, in order


@given(intervals(max_size=6), st.integers(1, 3))
def test_crowded_is_every_moment_enough_run_at_once(ivs, at_least):
    found = crowded(ivs, at_least)
    for moment in samples():
        expected = sum(inside(iv, moment) for iv in ivs) >= at_least
        assert any(inside(c, moment) for c in found) == expected, moment


@given(intervals(), intervals(max_size=6))
def test_thin_is_the_span_where_fewer_than_two_run(span_list, ivs):
    span = span_list[0] if span_list else Interval(at(0), None)
    found = thin(span, ivs)
    for moment in samples():
        expected = inside(span, moment) and sum(inside(iv, moment) for iv in ivs) < 2
        assert any(inside(c, moment) for c in found) == expected, moment


@given(st.lists(st.tuples(st.integers(0, HORIZON), st.booleans()), max_size=12), st.randoms())
def test_runs_do_not_depend_on_the_order_readings_came_in(readings, rnd: random.Random):
    series = [(at(m), bad) for m, bad in readings]
    shuffled = list(series)
    rnd.shuffle(shuffled)
    assert runs(shuffled) == runs(series)
    found = runs(series)
    for run in found:  # each run starts at a bad reading and ends at the first good one after
        assert (run.start, True) in series
        if run.end is not None:
            assert (run.end, False) in series


def test_back_to_back_is_not_together():
    assert crowded([Interval(at(0), at(5)), Interval(at(5), at(9))]) == []


def test_a_reading_in_range_in_the_middle_splits_a_run():
    series = [(at(0), True), (at(1), True), (at(2), False), (at(3), True)]
    assert runs(series) == [Interval(at(0), at(2)), Interval(at(3), None)]
