"""What property does with other apps' events, relayed by the worker.

Imported at start-up (``PropertyConfig.ready``) to register the handlers; each
handler imports the services it calls, so that start-up does not.
"""

from __future__ import annotations

from django.utils import timezone

from casecenter.cases.models import Case
from casecenter.outbox.models import OutboxEvent
from casecenter.property.models import Item, ItemState
from casecenter.supervision.worker import subscribe

UNDISPOSED = [ItemState.SEIZED, ItemState.IN_CUSTODY, ItemState.STORED, ItemState.CHECKED_OUT]


def case_closed(event: OutboxEvent) -> None:
    """A closed case's undisposed items must be disposed of: start their clocks."""
    from casecenter.supervision import services as clocks

    if event.payload.get("to_state") != "closed":
        return
    case = Case.objects.filter(pk=event.payload.get("case_id")).first()
    if case is None:
        return
    for item in Item.objects.filter(case=case, state__in=UNDISPOSED):
        if not item.deadlines.filter(rule_id="property.dispose").exists():
            clocks.open_deadline(
                None,
                "property.dispose",
                case,
                trigger_at=case.closed_at or timezone.now(),
                item=item,
            )


subscribe("case.transition", case_closed)
