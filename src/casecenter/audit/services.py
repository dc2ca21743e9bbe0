"""Write to the audit log inside the caller's transaction.

Every service that changes something, and every selector that reads personal
data, calls :func:`record` in the same transaction as its own work, so the
audit entry commits or rolls back together with what it describes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from casecenter.audit.canonical import check_text, leaf_data, normalise_data
from casecenter.audit.merkle import leaf_hash
from casecenter.audit.models import AuditEntry

#: The ``actor_name`` of entries written by the system itself (``actor=None``).
SYSTEM_ACTOR_NAME = "system"

#: Length limits of an entry's text fields (the actor's name is cut, the rest refused).
MAX_ACTION = 100
MAX_ACTOR_NAME = 150
MAX_OBJECT_ID = 100


def record(
    actor: Any,
    action: str,
    target: Model | None = None,
    *,
    reason: str = "",
    data: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Write one entry: ``actor`` did ``action`` to ``target`` because of ``reason``.

    ``actor`` is a user (its ``pk`` and ``str()`` are kept) or ``None`` for the
    system; ``target`` is any saved model instance or ``None``; ``data`` holds
    the facts worth keeping (a JSON object, see
    :func:`~casecenter.audit.canonical.normalise_data`). Must run inside the
    caller's ``transaction.atomic()``: the entry commits or rolls back with
    the work it describes.

    One INSERT, no lock: the entry is queued with its canonical bytes and leaf
    hash, and the sequencer (:mod:`casecenter.audit.sequencer`) gives it its
    place in the log once the caller has committed — within a second while
    the worker runs. Until then ``seq`` is ``None``; the entry is already
    visible to queries (by actor, object, action) like any other row.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must be called inside the service's transaction")

    action = check_text(action, "the audit action")
    if not 0 < len(action) <= MAX_ACTION:
        raise ValueError(f"an audit action must have 1 to {MAX_ACTION} characters, not {action!r}")
    reason = check_text(reason or "", "the audit reason")
    payload = normalise_data({} if data is None else data)
    if not isinstance(payload, dict):
        raise TypeError("audit data must be a mapping")

    if actor is None:
        actor_id, actor_name = None, SYSTEM_ACTOR_NAME
    else:
        actor_id = actor.pk
        actor_name = check_text(str(actor), "the actor's name")[:MAX_ACTOR_NAME]

    if target is None:
        object_type = object_id = ""
    else:
        if target.pk is None:
            raise ValueError("cannot audit an unsaved object")
        object_type = target._meta.label_lower
        object_id = check_text(str(target.pk), "the object id")
        if len(object_id) > MAX_OBJECT_ID:
            raise ValueError(f"cannot audit an object whose id is this long: {object_id!r}")

    leaf = leaf_data(
        at=timezone.now(),
        actor_id=actor_id,
        actor_name=actor_name,
        action=action,
        object_type=object_type,
        object_id=object_id,
        reason=reason,
        data=payload,
    )
    return AuditEntry.objects.create(leaf=leaf.decode("utf-8"), leaf_hash=leaf_hash(leaf))
