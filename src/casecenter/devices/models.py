"""What the device ingesters keep of their own: the messages they could not take."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RejectedMessage(models.Model):
    """A device message that was acknowledged but not applied (the dead letter).

    A bad message must not block the queue behind it, so the ingester (MQTT or
    HTTP) acknowledges it and keeps it here with the reason: ``code`` is the
    protocol error's code (``json``, ``ts``, ``hr`` …) or ``apply_failed`` when
    a valid event made the application fail. Kept for the device maker and for
    replay; nothing reads it automatically.
    """

    class Source(models.TextChoices):
        MQTT = "mqtt", "MQTT"
        HTTP = "http", "HTTP"

    received_at = models.DateTimeField(_("received at"))
    source = models.CharField(max_length=4, choices=Source.choices)
    topic = models.CharField(max_length=255, blank=True)
    center = models.CharField(max_length=30, blank=True)
    device = models.CharField(max_length=40, blank=True)
    payload = models.TextField(blank=True)
    code = models.CharField(max_length=30)
    message = models.CharField(max_length=500)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("rejected device message")
        indexes = [models.Index(fields=["received_at"], name="rejected_message_received")]

    def __str__(self) -> str:
        return f"{self.code}: {self.topic or self.device}"
