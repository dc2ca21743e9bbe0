"""The outbox: domain events written in the same transaction as the change.

A worker (supervision issue) relays rows to subscribers and marks them sent, so
no event is lost when a process dies between commit and publish.
"""

from django.db import models


class OutboxEvent(models.Model):
    """One domain event waiting to be relayed (发件箱事件)."""

    topic = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    relayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["id"], name="outbox_pending", condition=models.Q(relayed_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"
