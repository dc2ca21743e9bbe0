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
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from casecenter.outbox.models import OutboxEvent
from casecenter.supervision import services
from casecenter.supervision.models import Alert, AlertState, Deadline, DeadlineState

log = logging.getLogger(__name__)
Subscriber = Callable[[OutboxEvent], None]
SUBSCRIBERS: dict[str, list[Subscriber]] = defaultdict(list)


def subscribe(topic: str, handler: Subscriber) -> None:
    """Register ``handler`` for outbox events of ``topic`` ("*" for all)."""
    SUBSCRIBERS[topic].append(handler)


def _locked(queryset):  # type: ignore[no-untyped-def]
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset


def _fmt(at: datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def _advance(deadline: Deadline, now: datetime) -> str | None:
    rule, case = deadline.rule, deadline.case
    who = f"（{deadline.party.person.name}）" if deadline.party_id else ""
    who_en = f" ({deadline.party.person.name})" if deadline.party_id else ""
    comp = deadline.computation
    facts = {
        "case": case.number,
        "rule": rule.code,
        "trigger_at": deadline.trigger_at.isoformat(),
        "due_at": deadline.due_at.isoformat(),
        "basis": rule.basis,
    }
    if now >= deadline.due_at:
        services.raise_alert(
            key=f"deadline:{deadline.pk}:breach:{deadline.due_at.isoformat()}",
            rule=rule,
            kind=Alert.Kind.BREACH,
            case=case,
            organisation_id=case.organisation_id,
            deadline=deadline,
            facts=facts,
            at=now,
            title_zh=f"已超期：{rule.name_zh}{who} · {case.number}",
            title_en=f"Breached: {rule.name_en}{who_en} · {case.number}",
            explanation_zh=(
                f"期限已于{_fmt(deadline.due_at)}届满（{rule.basis}）。{comp.get('zh', '')}"
            ),
            explanation_en=(
                f"The period ended at {_fmt(deadline.due_at)} ({rule.basis}). {comp.get('en', '')}"
            ),
        )
        deadline.state, deadline.next_check_at = DeadlineState.BREACHED, None
        if deadline.warned_at is None:
            deadline.warned_at = now
        deadline.save(update_fields=["state", "next_check_at", "warned_at"])
        return "breach"
    services.raise_alert(
        key=f"deadline:{deadline.pk}:warn:{deadline.due_at.isoformat()}",
        rule=rule,
        kind=Alert.Kind.WARNING,
        case=case,
        organisation_id=case.organisation_id,
        deadline=deadline,
        facts=facts,
        at=now,
        title_zh=f"即将到期：{rule.name_zh}{who} · {case.number}",
        title_en=f"Due soon: {rule.name_en}{who_en} · {case.number}",
        explanation_zh=(
            f"期限将于{_fmt(deadline.due_at)}届满（{rule.basis}）。{comp.get('zh', '')}"
        ),
        explanation_en=(
            f"The period ends at {_fmt(deadline.due_at)} ({rule.basis}). {comp.get('en', '')}"
        ),
    )
    deadline.warned_at, deadline.next_check_at = now, deadline.due_at
    deadline.save(update_fields=["warned_at", "next_check_at"])
    return "warning"


def sweep(now: datetime | None = None, batch: int = 200) -> dict[str, int]:
    """Raise the alerts of every clock whose moment has come (one batch)."""
    now = now or timezone.now()
    counts = {"warning": 0, "breach": 0}
    with transaction.atomic():
        due = list(
            _locked(
                Deadline.objects.filter(state=DeadlineState.RUNNING, next_check_at__lte=now)
                .select_related("rule", "case", "party__person")
                .order_by("next_check_at", "id")
            )[:batch]
        )
        for deadline in due:
            outcome = _advance(deadline, now)
            if outcome:
                counts[outcome] += 1
    return counts


def escalate_due(now: datetime | None = None, batch: int = 200) -> int:
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


def relay_outbox(batch: int = 500) -> int:
    """Hand new outbox events to the subscribers, then mark them relayed."""
    with transaction.atomic():
        events = list(
            _locked(OutboxEvent.objects.filter(relayed_at__isnull=True).order_by("id"))[:batch]
        )
        now = timezone.now()
        for event in events:
            for handler in [*SUBSCRIBERS.get(event.topic, ()), *SUBSCRIBERS.get("*", ())]:
                handler(event)
        OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(relayed_at=now)
    return len(events)


def run_once(now: datetime | None = None) -> dict[str, int]:
    """One round of all three jobs, until each has nothing left that is due."""
    totals = {"warning": 0, "breach": 0, "escalated": 0, "relayed": 0}
    while True:
        counts = sweep(now)
        totals["warning"] += counts["warning"]
        totals["breach"] += counts["breach"]
        if not any(counts.values()):
            break
    while n := escalate_due(now):
        totals["escalated"] += n
    while n := relay_outbox():
        totals["relayed"] += n
    return totals
