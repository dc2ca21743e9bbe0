"""What supervision does with other apps' events, relayed by the worker.

Imported at start-up (``SupervisionConfig.ready``) to register the handlers; each
handler imports the services it calls, so that start-up does not.
"""

from __future__ import annotations

from casecenter.outbox.models import OutboxEvent
from casecenter.supervision.worker import subscribe


def holiday_notice_loaded(event: OutboxEvent) -> None:
    from casecenter.supervision import services

    services.recount_provisional(int(event.payload["year"]))


subscribe("calendar.notice_loaded", holiday_notice_loaded)
