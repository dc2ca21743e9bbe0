"""SMS gateway adapters: one method, ``send(phone, text)``.

The default writes each message to the ``casecenter.sms`` log (and so to the
demo's console) instead of a gateway; a deployment names its own adapter in
``CASECENTER_SMS_BACKEND`` (a dotted path to a class with the same method),
e.g. one that posts to the provincial SMS platform.
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from casecenter.law import mask_phone

log = logging.getLogger("casecenter.sms")


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Send ``text`` to ``phone``; raise on failure (the caller records it)."""


class LoggingBackend:
    """Logs the message (phone masked) instead of sending it."""

    def send(self, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", mask_phone(phone), text)


def backend() -> SmsBackend:
    path = getattr(settings, "CASECENTER_SMS_BACKEND", "casecenter.portal.sms.LoggingBackend")
    return import_string(path)()
