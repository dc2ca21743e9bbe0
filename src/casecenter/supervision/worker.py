"""The worker's three jobs, each in short transactions that a crash simply repeats.

1. ``sweep``: clocks whose warn or due moment has come → alerts.
2. ``escalate_due``: open alerts nobody acknowledged in time → the next rung.
3. ``relay_outbox``: domain events → subscribers.

Rows are taken with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any
number of workers share the work without taking the same row; SQLite has one
writer at a time anyway. Every alert has a unique key and is written in the
same transaction that advances its clock: a worker killed at any instant
either committed both or neither, so a restart loses nothing and repeats
nothing.

Apps register their subscribers here at start-up (``subscribe``, from their
``AppConfig.ready``), so this module imports the clocks' services — and the law
with them — in the jobs that use them, not at the top: a command that starts
Django does not pay for them (docs/operations.md, "Start-up time").
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from casecenter.ops import metrics
from casecenter.outbox.models import OutboxEvent
from casecenter.supervision import timers
from casecenter.supervision.models import Alert, AlertState, Deadline, DeadlineState

log = logging.getLogger(__name__)
Subscriber = Callable[[OutboxEvent], None]
SUBSCRIBERS: dict[str, list[Subscriber]] = defaultdict(list)


def subscribe(topic: str, handler: Subscriber) -> None:
    """Register ``handler`` for outbox events of ``topic`` ("*" for all)."""
    SUBSCRIBERS[topic].append(handler)


def _locked(queryset):  # type: ignore[no-untyped-def]
    """Lock the rows taken, skipping those another worker holds (PostgreSQL).

    ``of=("self",)`` locks only the queried table's rows: PostgreSQL refuses
    FOR UPDATE on the nullable side of an outer join (``party__person``), and
    locking the joined rule and case rows would make every worker skip every
    clock of a rule another worker is busy with, and block the services that
    lock a case.
    """
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset


def _advance(deadline: Deadline, now: datetime) -> list[str]:
    """Take the moments of one clock that have come, in order: the warning, then
    the breach (same transaction as its alerts).

    A clock found already past its due moment (the worker was down over its
    warning moment) still gets its warning first: no alert is lost by a worker
    being away. A clock with no warning lead (``warn_at == due_at``) only
    breaches.
    """
    from casecenter.supervision import services

    if timers.is_timer(deadline.rule_id):
        timers.fire(deadline, now)
        return ["timer"]
    outcomes = []
    if deadline.warned_at is None and deadline.warn_at < deadline.due_at:
        services.deadline_alert(deadline, Alert.Kind.WARNING, at=now)
        deadline.warned_at = now
        outcomes.append("warning")
    if now >= deadline.due_at:
        services.deadline_alert(deadline, Alert.Kind.BREACH, at=now)
        deadline.state, deadline.next_check_at = DeadlineState.BREACHED, None
        if deadline.warned_at is None:
            deadline.warned_at = now
        deadline.save(update_fields=["state", "next_check_at", "warned_at"])
        return [*outcomes, "breach"]
    deadline.next_check_at = deadline.due_at
    deadline.save(update_fields=["warned_at", "next_check_at"])
    return outcomes


def sweep(now: datetime | None = None, batch: int = 200) -> dict[str, int]:
    """Raise the alerts of every clock whose moment has come (one batch)."""
    now = now or timezone.now()
    counts = {"warning": 0, "breach": 0, "timer": 0}
    with transaction.atomic():
        due = list(
            _locked(
                Deadline.objects.filter(state=DeadlineState.RUNNING, next_check_at__lte=now)
                .select_related("rule", "case", "party__person")
                .order_by("next_check_at", "id")
            )[:batch]
        )
        for deadline in due:
            for outcome in _advance(deadline, now):
                counts[outcome] += 1
    return counts


def escalate_due(now: datetime | None = None, batch: int = 200) -> int:
    from casecenter.supervision import services

    now = now or timezone.now()
    with transaction.atomic():
        alerts = list(
            _locked(
                Alert.objects.filter(state=AlertState.OPEN, escalate_at__lte=now)
                .select_related("rule")
                .order_by("escalate_at", "id")
            )[:batch]
        )
        for alert in alerts:
            services.escalate(alert, at=now)
    return len(alerts)


#: PostgreSQL advisory lock key ("cc-outbx") held by the one relay publishing to NATS
NATS_RELAY_LOCK = 0x63632D6F75746278


def relay_outbox(batch: int = 500) -> int:
    """Hand new outbox events to the subscribers, then mark them relayed.

    With ``CASECENTER_NATS_URL`` set the batch is first published to NATS
    JetStream (``outbox.bus``), in outbox order, and the rows are marked only
    after every ack. Batches then go out one relay at a time (an advisory lock on
    PostgreSQL, the write lock on SQLite), so the stream holds them in outbox
    order; a relay that finds the lock taken leaves the batch to its holder.
    """
    from casecenter.outbox import bus

    publishing = bus.enabled()
    with transaction.atomic():
        if publishing and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [NATS_RELAY_LOCK])
                if not cursor.fetchone()[0]:
                    return 0
        events = list(
            _locked(OutboxEvent.objects.filter(relayed_at__isnull=True).order_by("id"))[:batch]
        )
        if publishing and events:
            bus.publish(events)
        now = timezone.now()
        for event in events:
            for handler in [*SUBSCRIBERS.get(event.topic, ()), *SUBSCRIBERS.get("*", ())]:
                handler(event)
        OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(relayed_at=now)
    return len(events)


@metrics.WORKER_RUN_SECONDS.time()
def run_once(now: datetime | None = None) -> dict[str, int]:
    """One round of all three jobs, until each has nothing left that is due."""
    totals = {"warning": 0, "breach": 0, "timer": 0, "escalated": 0, "relayed": 0}
    while True:
        counts = sweep(now)
        for outcome, n in counts.items():
            totals[outcome] += n
        if not any(counts.values()):
            break
    while n := escalate_due(now):
        totals["escalated"] += n
    while n := relay_outbox():
        totals["relayed"] += n
    return totals
