"""The demo's authenticator: one fixed, published TOTP secret for the demo users
who must use MFA (administrator, legal affairs, commander), so that a newcomer
can log in as them without a phone.

The secret is printed by ``casecenter demo`` and in the README: it protects
nothing and must never be used outside the demo. ``casecenter totp USERNAME``
prints the current code of a user whose authenticator is this demo one, and of
no one else.
"""

from __future__ import annotations

import time
from base64 import b32decode

from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from casecenter.accounts import mfa
from casecenter.accounts.models import User
from casecenter.audit.services import record

#: base32, as an authenticator app takes it (= b"casecenter-demo-totp")
DEMO_TOTP_SECRET = "MNQXGZLDMVXHIZLSFVSGK3LPFV2G65DQ"  # noqa: S105 - published on purpose
DEMO_TOTP_KEY = b32decode(DEMO_TOTP_SECRET).hex()
DEMO_DEVICE_NAME = "demo authenticator"


@transaction.atomic
def ensure_demo_authenticators(users: dict[str, User] | None = None) -> list[User]:
    """Give every demo user who must use MFA and has no authenticator the demo one.

    Idempotent: a user who enrolled their own authenticator keeps it. Returns the
    users who have the demo authenticator.
    """
    people = list(users.values()) if users else list(User.objects.all())
    with_demo = []
    for user in people:
        if not mfa.mfa_required(user):
            continue
        device = mfa.totp_device(user)
        if device is None:
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            device = TOTPDevice.objects.create(
                user=user, name=DEMO_DEVICE_NAME, key=DEMO_TOTP_KEY, confirmed=True
            )
            record(None, "mfa.enrolled", user, data={"demo": True})
        if is_demo_device(device):
            with_demo.append(user)
    return with_demo


def is_demo_device(device: TOTPDevice | None) -> bool:
    return device is not None and device.key == DEMO_TOTP_KEY


def current_code(device: TOTPDevice) -> str:
    """The code the demo authenticator shows now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"
