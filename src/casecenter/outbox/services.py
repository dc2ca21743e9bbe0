"""Write domain events to the outbox inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from casecenter.outbox.models import OutboxEvent


def emit(topic: str, **payload: Any) -> OutboxEvent:
    """Queue ``topic`` with ``payload``; must run inside the service's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox.emit() must be called inside the service's transaction")
    return OutboxEvent.objects.create(topic=topic, payload=payload)
