"""What supervision does with other apps' events, relayed by the worker."""

from __future__ import annotations

from casecenter.outbox.models import OutboxEvent
from casecenter.supervision import services
from casecenter.supervision.worker import subscribe


def holiday_notice_loaded(event: OutboxEvent) -> None:
    services.recount_provisional(int(event.payload["year"]))


subscribe("calendar.notice_loaded", holiday_notice_loaded)
