"""The audit log (审计日志): an append-only list of entries chained in a Merkle tree.

Every service write and every read of personal data appends one
:class:`AuditEntry` through :func:`casecenter.audit.services.record`. Entries
are never changed or deleted — database triggers refuse it (migration 0002) —
and each one carries the RFC 6962 root of the tree of all entries up to and
including itself, so ``casecenter audit verify`` can find the first entry that
was altered, removed or forged behind the application's back.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from casecenter.audit.merkle import EMPTY_ROOT, HASH_SIZE


class AuditEntry(models.Model):
    """One thing someone did: who, what, to which object, when and why (审计条目).

    ``seq`` is the entry's position in the log and its primary key: 0-based and
    contiguous, so a missing row is a gap anyone can see. ``actor_id`` is a
    plain number, not a foreign key, because the log must outlive the accounts
    it names; ``actor_name`` keeps the name the actor had at the time.
    ``object_type``/``object_id`` name the object (``cases.case``, ``"42"``)
    the same way for every model, again without a foreign key.

    ``leaf_hash`` is the RFC 6962 leaf hash of the entry's canonical bytes
    (:mod:`casecenter.audit.canonical`); ``tree_root`` is the root of the tree
    of entries ``0..seq`` — the tree head right after this entry was appended,
    which a later issue signs and serves proofs against.
    """

    seq = models.BigIntegerField(_("sequence number"), primary_key=True)
    at = models.DateTimeField(_("at"))
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True)
    actor_name = models.CharField(_("actor"), max_length=150)
    action = models.CharField(_("action"), max_length=100)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=100, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    leaf_hash = models.BinaryField(_("leaf hash"), max_length=HASH_SIZE)
    tree_root = models.BinaryField(_("tree root"), max_length=HASH_SIZE)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_entry_object"),
            models.Index(fields=["actor_id"], name="audit_entry_actor"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(seq__gte=0), name="audit_entry_seq_gte_0"),
        ]

    def __str__(self) -> str:
        target = f" {self.object_type}:{self.object_id}" if self.object_type else ""
        return f"#{self.seq} {self.action}{target}"


class AuditHead(models.Model):
    """The current head of the log: its size, frontier and root (审计日志头), one row.

    Every append locks this row (``SELECT … FOR UPDATE``), so appends from any
    number of processes are serialised and ``seq`` can neither repeat nor skip.
    ``frontier`` is the :class:`~casecenter.audit.merkle.CompactRange` of the
    tree as hex strings, so an append costs O(log n) and never reads old
    entries. The row is created by migration 0003 and re-created by
    :func:`~casecenter.audit.services.record` if it is missing from an empty log.
    """

    SINGLETON_PK = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK)
    size = models.BigIntegerField(_("size"), default=0)
    frontier = models.JSONField(_("frontier"), default=list, blank=True)
    root = models.BinaryField(_("root"), max_length=HASH_SIZE, default=EMPTY_ROOT)

    class Meta:
        verbose_name = _("audit head")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="audit_head_singleton"),
        ]

    def __str__(self) -> str:
        return f"audit head: {self.size} entries, root {bytes(self.root).hex()}"
