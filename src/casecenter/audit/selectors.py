"""Reads of the audit log by people: inclusion proofs, the signed checkpoint, the keys.

Who reads the log is itself worth keeping, so each read writes an entry
(``audit.proof_read``, ``audit.checkpoint_read``, ``audit.keys_read``) in the
same transaction. That entry waits for the sequencer like any other: what is
handed out was read from the head *before* it was written, so a proof is
never asked of the entry that records asking for it.

Reading needs the ``audit.view_auditentry`` permission (superusers have every
permission) or the administrator role, whose rights are checked by role in
this project rather than granted as Django permissions.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from casecenter.accounts.models import Role, User
from casecenter.audit import proofs, signing
from casecenter.audit.models import AuditEntry, AuditHead
from casecenter.audit.services import record
from casecenter.errors import Conflict, NotFound, PermissionDenied

VIEW_PERMISSION = "audit.view_auditentry"


def may_read_log(user: User) -> bool:
    """Superusers, administrators, and anyone granted ``audit.view_auditentry``."""
    return bool(user.is_active and (user.role == Role.ADMIN or user.has_perm(VIEW_PERMISSION)))


def _require_reader(user: User) -> None:
    if not may_read_log(user):
        raise PermissionDenied(
            "audit.not_allowed", "无权查阅审计日志。", "You may not read the audit log."
        )


def _head() -> AuditHead | None:
    head = AuditHead.objects.filter(pk=AuditHead.SINGLETON_PK).first()
    return head if head is not None and head.checkpoint else None


def entry_proof(user: User, seq: int) -> dict[str, Any]:
    """The proof bundle of entry ``seq`` against the latest signed checkpoint (audited).

    Not found while the entry waits for its place, or if there is none: the
    answer is the same, so nothing is learnt about the queue.
    """
    _require_reader(user)
    with transaction.atomic():
        head = _head()
        entry = AuditEntry.objects.filter(seq=seq).only("id", "seq", "leaf").first()
        if head is None or entry is None or seq >= head.size:
            raise NotFound(
                "audit.not_in_log",
                f"审计条目 #{seq} 不在日志中（或尚未排序）。",
                f"Entry #{seq} is not in the log (or not sequenced yet).",
            )
        try:
            bundle = proofs.bundle(seq, entry.leaf, head.checkpoint, head.size)
        except proofs.ProofError as exc:  # stored nodes gone or wrong: the tree is damaged
            raise Conflict(
                "audit.tree_damaged",
                "审计日志的树已损坏，无法出具证明；请运行 casecenter audit verify。",
                f"No proof can be made, the log's tree is damaged ({exc}); "
                "run casecenter audit verify.",
            ) from None
        record(user, "audit.proof_read", entry, data={"seq": seq, "tree_size": head.size})
    return bundle


def latest_checkpoint(user: User) -> str:
    """The log's latest signed checkpoint, a C2SP signed note (audited)."""
    _require_reader(user)
    with transaction.atomic():
        head = _head()
        if head is None:
            raise NotFound(
                "audit.no_checkpoint",
                "审计日志尚无签名检查点。",
                "The audit log has no signed checkpoint yet.",
            )
        record(user, "audit.checkpoint_read", data={"tree_size": head.size})
    return head.checkpoint


def verifier_keys(user: User) -> tuple[str, list[str]]:
    """The log's origin and every key that verifies its checkpoints, oldest first (audited)."""
    _require_reader(user)
    with transaction.atomic():
        signing.active_key()  # the key that signs the next checkpoint is listed already
        keys = [verifier.verifier_key() for verifier in signing.verifiers()]
        record(user, "audit.keys_read", data={"keys": len(keys)})
    return signing.origin(), keys
