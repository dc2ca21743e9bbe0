"""What the portal does with other apps' events, relayed by the worker: tell parties.

Imported at start-up (``PortalConfig.ready``) to register the handlers; each
handler imports the services it calls, so that start-up does not.
"""

from __future__ import annotations

from casecenter.cases.models import Case, CaseEvent
from casecenter.outbox.models import OutboxEvent
from casecenter.portal.models import Message
from casecenter.supervision.worker import subscribe


def case_step(event: OutboxEvent) -> None:
    """A state change or a measure started may be a public milestone."""
    from casecenter.portal import services

    step = CaseEvent.objects.filter(pk=event.payload.get("event_id")).first()
    if step is None:
        return
    if step.kind == CaseEvent.Kind.TRANSITION:
        key = f"case:{step.pk}"
    elif step.kind == CaseEvent.Kind.MEASURE and step.data.get("moment") == "started":
        key = f"measure:{step.data.get('measure_id')}"
    else:
        return
    case = Case.objects.select_related("organisation").get(pk=step.case_id)
    services.notify_milestone(case, key, recorded_at=step.at)


def message_answered(event: OutboxEvent) -> None:
    from casecenter.portal import services

    message = (
        Message.objects.select_related("receipt__case__organisation", "receipt__party__person")
        .filter(pk=event.payload.get("message_id"))
        .first()
    )
    if message is not None:
        services.notify_answer(message)


subscribe("case.transition", case_step)
subscribe("case.measure", case_step)
subscribe("portal.message_answered", message_answered)
