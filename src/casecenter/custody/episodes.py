"""Episodes: when a live rule of the custody area is broken, as intervals of device time.

Pure: no database, no Django. Every live rule of the area (recording, two
officers, co-suspects apart, minors, vital signs, the strap) is a question about
*device time* — "was this person ever in this room with fewer than two of the
case's officers?" — not about the order in which the answers arrived. Each rule
computes its **episodes** from the stored facts (presences, recording segments,
readings, strap reports): maximal intervals during which its condition holds
for one subject. An episode is named by its subject and its start, so the same
facts received in any order, in any batches, any number of times, name the
same episodes — and an alert keyed by that name is raised once.

``end`` is ``None`` while the episode is still going on (as far as the facts
say: a late event may end it, or show that it never happened).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime | None = None  # None: still open

    def lasts(self, now: datetime) -> timedelta:
        """How long it lasted (until ``now`` while open)."""
        return (self.end or max(now, self.start)) - self.start

    def overlaps(self, since: datetime) -> bool:
        """Whether any of it lies at or after ``since``."""
        return self.end is None or self.end >= since


def _clip(interval: Interval, start: datetime, end: datetime | None) -> Interval | None:
    """The part of ``interval`` within [start, end), or None."""
    lo = max(interval.start, start)
    if interval.end is None:
        hi = end
    elif end is None:
        hi = interval.end
    else:
        hi = min(interval.end, end)
    if hi is not None and hi <= lo:
        return None
    return Interval(lo, hi)


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """The intervals merged where they touch or overlap, in order."""
    merged: list[Interval] = []
    for iv in sorted(intervals, key=lambda i: i.start):
        if merged and (merged[-1].end is None or iv.start <= merged[-1].end):
            last = merged[-1]
            end = None if last.end is None or iv.end is None else max(last.end, iv.end)
            merged[-1] = Interval(last.start, end)
        else:
            merged.append(iv)
    return merged


def uncovered(span: Interval, coverings: Sequence[Iterable[Interval]]) -> list[Interval]:
    """The parts of ``span`` not covered by *every* one of ``coverings`` (each one
    camera's recording segments, say): a moment counts as covered only when each
    covering has an interval running then. No coverings: nothing is uncovered."""
    gaps: list[Interval] = []
    for covering in coverings:
        cursor: datetime | None = span.start  # the first moment not known covered
        for iv in union(covering):
            part = _clip(iv, span.start, span.end)
            if part is None:
                continue
            if part.start > cursor:
                gaps.append(Interval(cursor, part.start))
            if part.end is None:
                cursor = None
                break
            cursor = max(cursor, part.end)
        if cursor is not None and (span.end is None or cursor < span.end):
            gaps.append(Interval(cursor, span.end))
    return union(gaps)


def crowded(intervals: Iterable[Interval], at_least: int = 2) -> list[Interval]:
    """The times when at least ``at_least`` of ``intervals`` run at once."""
    points: list[tuple[datetime, int]] = []
    open_ended = 0
    for iv in intervals:
        points.append((iv.start, 1))
        if iv.end is None:
            open_ended += 1
        else:
            points.append((iv.end, -1))
    # at one instant, leaving comes before entering: back-to-back is not together
    points.sort(key=lambda p: (p[0], p[1]))
    found: list[Interval] = []
    count, since = 0, None
    for at, step in points:
        count += step
        if count >= at_least and since is None:
            since = at
        elif count < at_least and since is not None:
            if at > since:
                found.append(Interval(since, at))
            since = None
    if since is not None:
        found.append(Interval(since, None))
    return union(found)


def thin(span: Interval, intervals: Iterable[Interval], at_least: int = 2) -> list[Interval]:
    """The parts of ``span`` when fewer than ``at_least`` of ``intervals`` run."""
    return uncovered(span, [crowded(intervals, at_least)])


def runs(series: Sequence[tuple[datetime, bool]]) -> list[Interval]:
    """The maximal runs of ``True`` in a series of (moment, state) readings, in
    time order: each starts at its first ``True`` and ends at the first ``False``
    after it (``None`` while no ``False`` came). Readings at one moment are
    taken ``False`` first, so the result does not depend on their order."""
    found: list[Interval] = []
    since: datetime | None = None
    for at, bad in sorted(series, key=lambda r: (r[0], r[1])):
        if bad and since is None:
            since = at
        elif not bad and since is not None:
            found.append(Interval(since, at))
            since = None
    if since is not None:
        found.append(Interval(since, None))
    return found


def alertable(episode: Interval, grace: timedelta, now: datetime) -> bool:
    """An episode becomes an alert once it has lasted longer than ``grace``."""
    return episode.lasts(now) > grace if grace else True


def key_time(at: datetime) -> int:
    """A moment as it appears in an episode's name: milliseconds since 1970."""
    return int(at.timestamp() * 1000)
