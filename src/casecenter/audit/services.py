"""Append to the audit log inside the caller's transaction.

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
from casecenter.audit.merkle import EMPTY_ROOT, CompactRange, leaf_hash
from casecenter.audit.models import AuditEntry, AuditHead

#: The ``actor_name`` of entries written by the system itself (``actor=None``).
SYSTEM_ACTOR_NAME = "system"


def record(
    actor: Any,
    action: str,
    target: Model | None = None,
    *,
    reason: str = "",
    data: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry: ``actor`` did ``action`` to ``target`` because of ``reason``.

    ``actor`` is a user (its ``pk`` and ``str()`` are kept) or ``None`` for the
    system; ``target`` is any saved model instance or ``None``; ``data`` holds
    the facts worth keeping (a JSON object, see
    :func:`~casecenter.audit.canonical.normalise_data`). Must run inside the
    caller's ``transaction.atomic()``.

    The append locks the :class:`AuditHead` row until the caller commits, so
    concurrent appends queue there and ``seq`` never repeats or skips; on SQLite
    the IMMEDIATE transaction already holds the database's write lock. Call it
    as the last write of the transaction to keep that lock short, and always
    *after* locking your own rows, never before, so two services cannot deadlock.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must be called inside the service's transaction")

    action = check_text(action, "the audit action")
    if not 0 < len(action) <= _max_length("action"):
        raise ValueError(f"an audit action must have 1 to 100 characters, not {action!r}")
    reason = check_text(reason or "", "the audit reason")
    payload = normalise_data({} if data is None else data)
    if not isinstance(payload, dict):
        raise TypeError("audit data must be a mapping")

    if actor is None:
        actor_id, actor_name = None, SYSTEM_ACTOR_NAME
    else:
        actor_id = actor.pk
        actor_name = check_text(str(actor), "the actor's name")[: _max_length("actor_name")]

    if target is None:
        object_type = object_id = ""
    else:
        if target.pk is None:
            raise ValueError("cannot audit an unsaved object")
        object_type = target._meta.label_lower
        object_id = check_text(str(target.pk), "the object id")
        if len(object_id) > _max_length("object_id"):
            raise ValueError(f"cannot audit an object whose id is this long: {object_id!r}")

    head = _lock_head()
    tree = CompactRange.from_hex(head.size, head.frontier)
    fields: dict[str, Any] = {
        "seq": tree.size,
        "at": timezone.now(),  # taken under the lock, so time follows seq
        "actor_id": actor_id,
        "actor_name": actor_name,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "reason": reason,
        "data": payload,
    }
    leaf = leaf_hash(leaf_data(**fields))
    tree.append(leaf)
    root = tree.root()
    entry = AuditEntry.objects.create(**fields, leaf_hash=leaf, tree_root=root)

    head.size = tree.size
    head.frontier = tree.to_hex()
    head.root = root
    head.save(update_fields=["size", "frontier", "root"])
    return entry


def _max_length(field: str) -> int:
    length = AuditEntry._meta.get_field(field).max_length
    assert length is not None
    return length


def _lock_head() -> AuditHead:
    """The head row, locked for this transaction; created if it is missing.

    Migration 0003 creates the row; it is missing only after a flush (tests)
    or tampering. Concurrent appenders may all find it missing: each tries to
    insert it, the database makes the others wait on the primary key and
    ``get_or_create`` then reads the winner's row. Only once the row is locked
    do we check it: an empty head over existing entries would fork the tree,
    so we refuse instead.
    """
    head = AuditHead.objects.select_for_update().filter(pk=AuditHead.SINGLETON_PK).first()
    if head is not None:
        return head
    AuditHead.objects.get_or_create(
        pk=AuditHead.SINGLETON_PK, defaults={"size": 0, "frontier": [], "root": EMPTY_ROOT}
    )
    head = AuditHead.objects.select_for_update().get(pk=AuditHead.SINGLETON_PK)
    if head.size == 0 and AuditEntry.objects.exists():
        raise RuntimeError(
            "the audit head is missing but the log has entries; run `casecenter audit verify`"
        )
    return head
