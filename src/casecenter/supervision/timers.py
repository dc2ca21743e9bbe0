"""Timers: a live rule's "look again at this moment", kept as a clock row.

A live rule of the custody area (a person in a room whose recording is not
confirmed yet; fewer than two officers in an interrogation room) is not a legal
period: it is broken once its situation has lasted longer than a short grace.
Whether it did is known only when the grace is over, so the rule asks to be
woken then. A timer is a ``Deadline`` row of a rule registered here, so the
worker wakes it exactly like a clock — crash-safe, shared by several workers —
but, when it comes due, the worker closes it and calls the rule's handler
instead of raising a clock's breach alert; the handler decides from the facts
of that moment. Timers are not clocks: the case's clock card and the deadline
review leave them out.

Rules register here at start-up (``register``, from their ``AppConfig.ready``):
the clocks' services are imported where a timer is set, not at the top.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db.models import QuerySet

from casecenter.accounts.models import Organisation
from casecenter.cases.models import Case
from casecenter.supervision.models import Deadline, DeadlineState

Handler = Callable[[Deadline, datetime], None]
HANDLERS: dict[str, Handler] = {}


def register(rule_code: str, handler: Handler) -> None:
    HANDLERS[rule_code] = handler


def codes() -> list[str]:
    """The rules whose rows are timers, not clocks."""
    return sorted(HANDLERS)


def is_timer(rule_code: str) -> bool:
    return rule_code in HANDLERS


def running(rule_code: str, subject: str) -> QuerySet[Deadline]:
    return Deadline.objects.filter(
        rule_id=rule_code, subject=subject, state=DeadlineState.RUNNING, closed_at__isnull=True
    )


def wake_at(
    rule_code: str,
    case: Case,
    *,
    subject: str,
    organisation: Organisation,
    at: datetime | None,
    since: datetime,
) -> None:
    """Have ``rule_code`` look at ``subject`` again at ``at`` (inside the caller's
    transaction): one running timer per rule and subject, at the earliest moment
    asked. A timer no longer needed is left to fire: its rule then finds nothing
    to do, which costs less than taking it back at every event."""
    from casecenter.supervision import services

    if at is None:
        return
    current = running(rule_code, subject).select_for_update(of=("self",)).order_by("due_at").first()
    if current is not None and current.due_at <= at:
        return
    if current is not None:  # sooner than it was set for
        current.due_at = current.warn_at = current.next_check_at = at
        current.trigger_at = min(current.trigger_at, at - timedelta(milliseconds=1))
        current.save(update_fields=["due_at", "warn_at", "next_check_at", "trigger_at"])
        return
    services.open_deadline(
        None,
        rule_code,
        case,
        trigger_at=min(since, at - timedelta(milliseconds=1)),  # due comes after the trigger
        due_at=at,
        subject=subject,
        organisation=organisation,
    )


def fire(deadline: Deadline, now: datetime) -> None:
    """The worker's part: close the timer, then let its rule look (one transaction)."""
    deadline.state, deadline.closed_at, deadline.next_check_at = DeadlineState.MET, now, None
    deadline.save(update_fields=["state", "closed_at", "next_check_at"])
    HANDLERS[deadline.rule_id](deadline, now)
