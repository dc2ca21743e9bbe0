"""Multi-factor authentication (多因素认证): a TOTP authenticator and recovery codes.

The devices are django-otp's: a ``TOTPDevice`` (RFC 6238, 30-second codes of
six digits) and a ``StaticDevice`` holding ten one-time recovery codes. Who must
use them is decided here (:func:`mfa_required`); every enrolment, failed code,
recovery-code use and reset is written to the audit log.

Wrong codes are throttled by django-otp on the device itself, for both kinds:
after *n* failures in a row the device refuses every code for
``OTP_TOTP_THROTTLE_FACTOR × 2^(n-1)`` seconds, whether the code comes from the
web page or the API token endpoint, and a refused attempt does not count.

Recovery codes are kept as a keyed digest (HMAC with ``SECRET_KEY``), never in
clear: whoever reads the table cannot use them. Rotating ``SECRET_KEY``
therefore voids the codes; users then make new ones on their MFA page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.crypto import salted_hmac
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from casecenter.accounts.models import User
from casecenter.accounts.services import is_account_admin
from casecenter.audit.services import record
from casecenter.errors import Conflict, InvalidInput, PermissionDenied

#: How many recovery codes an enrolment hands out.
RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery codes"


# --- who must use a second factor -------------------------------------------


def mfa_required(user: User) -> bool:
    """MFA is required of this user: by role, as staff, or for everyone."""
    if not user.is_authenticated:
        return False
    return bool(
        settings.CASECENTER_MFA_REQUIRED_FOR_ALL
        or user.role in settings.CASECENTER_MFA_REQUIRED_ROLES
        or user.is_staff
        or user.is_superuser
    )


def totp_device(user: User, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("pk").first()


def is_enrolled(user: User) -> bool:
    """The user has a confirmed authenticator."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def mfa_needed(user: User) -> bool:
    """The user must pass a second factor: it is required, or they enrolled anyway."""
    return mfa_required(user) or is_enrolled(user)


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user).count()


# --- codes --------------------------------------------------------------------


def normalise_code(code: str) -> str:
    """What the user typed, without spaces or dashes, in lower case."""
    return "".join(ch for ch in (code or "").strip().lower() if ch not in " -")


def _is_totp_shaped(code: str) -> bool:
    return len(code) == 6 and code.isdigit()


def _recovery_digest(code: str) -> str:
    """The stored form of a recovery code: 64 bits of an HMAC keyed by SECRET_KEY."""
    return salted_hmac("casecenter.accounts.mfa.recovery", code, algorithm="sha256").hexdigest()[
        :16
    ]


def _grouped(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with fresh ones; return them (shown once)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=_recovery_digest(code)) for code in codes
    )
    return [_grouped(code) for code in codes]


def _locked_device(model, user: User, *, confirmed: bool):
    """The user's first device of ``model``, locked for the caller's transaction
    (two requests with the same code cannot both pass)."""
    return (
        model.objects.select_for_update()
        .filter(user=user, confirmed=confirmed)
        .order_by("pk")
        .first()
    )


# --- enrolment ----------------------------------------------------------------


@transaction.atomic
def start_enrolment(actor: User) -> TOTPDevice:
    """The authenticator the user is about to add (not yet confirmed).

    The same unconfirmed device is handed out until it is confirmed, so reloading
    the page does not change the secret the user already scanned.
    """
    if is_enrolled(actor):
        raise Conflict(
            "mfa.already_enrolled",
            "已启用多因素认证。",
            "Multi-factor authentication is already on.",
        )
    device = _locked_device(TOTPDevice, actor, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=actor, name=TOTP_DEVICE_NAME, confirmed=False)
        record(actor, "mfa.enrolment_started", actor)
    return device


@dataclass(frozen=True)
class Enrolment:
    device: TOTPDevice
    recovery_codes: list[str]


def confirm_enrolment(actor: User, code: str) -> Enrolment:
    """Confirm the new authenticator with a code it shows; hand out recovery codes.

    A wrong code is audited and counts towards the device's throttle (committed
    before the error is raised).
    """
    code = normalise_code(code)
    with transaction.atomic():
        device = _locked_device(TOTPDevice, actor, confirmed=False)
        if device is None:
            raise Conflict(
                "mfa.no_enrolment",
                "没有待确认的认证器，请重新开始。",
                "There is no authenticator waiting to be confirmed; start again.",
            )
        allowed, _ = device.verify_is_allowed()
        ok = allowed and device.verify_token(code)
        if ok:
            TOTPDevice.objects.filter(user=actor).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _new_recovery_codes(actor)
            record(actor, "mfa.enrolled", actor, data={"recovery_codes": len(codes)})
        else:
            record(actor, "mfa.enrolment_failed", actor, data={"throttled": not allowed})
    if not ok:
        raise _wrong_code(throttled=not allowed)
    return Enrolment(device=device, recovery_codes=codes)


# --- verification ---------------------------------------------------------------


def _wrong_code(*, throttled: bool) -> InvalidInput:
    if throttled:
        return InvalidInput(
            "mfa.throttled",
            "验证码错误次数过多，请稍候再试。",
            "Too many wrong codes: wait a moment and try again.",
        )
    return InvalidInput("mfa.wrong_code", "验证码不正确。", "The code is not correct.")


def verify_code(actor: User, code: str, *, via: str) -> TOTPDevice | StaticDevice:
    """Check a second-factor code of the user: a TOTP code or a recovery code.

    Six digits are checked against the authenticator, anything else against the
    recovery codes (a used recovery code is gone). Returns the device that
    accepted it; a wrong or throttled code raises ``InvalidInput`` after the
    failure and its audit entry are committed. ``via`` says where the code was
    typed (``web``, ``api``).
    """
    code = normalise_code(code)
    kind = "totp" if _is_totp_shaped(code) else "recovery"
    with transaction.atomic():
        model = TOTPDevice if kind == "totp" else StaticDevice
        device = _locked_device(model, actor, confirmed=True)
        allowed = True
        ok = False
        if device is not None:
            allowed, _ = device.verify_is_allowed()
            if allowed:
                secret = code if kind == "totp" else _recovery_digest(code)
                ok = bool(code) and device.verify_token(secret)
        if ok and kind == "recovery":
            left = device.token_set.count()
            record(actor, "mfa.recovery_code_used", actor, data={"via": via, "left": left})
        elif ok:
            record(actor, "mfa.verified", actor, data={"via": via})
        else:
            record(
                actor,
                "mfa.verify_failed",
                actor,
                data={"via": via, "kind": kind, "throttled": not allowed},
            )
    if not ok:
        raise _wrong_code(throttled=not allowed)
    return device


# --- reset -----------------------------------------------------------------------


def reset_own_mfa(actor: User, code: str) -> None:
    """The user removes their authenticator and recovery codes, proving a current code.

    They enrol again afterwards (at once, if MFA is required of them); every
    session verified with the old devices stops being verified.
    """
    verify_code(actor, code, via="reset")
    with transaction.atomic():
        removed = _remove_devices(actor)
        record(actor, "mfa.reset", actor, data={"by": "self", "devices": removed})


@transaction.atomic
def reset_mfa(actor: User | None, user: User) -> int:
    """An administrator removes a user's authenticator and recovery codes (重置多因素认证),
    e.g. after a lost phone. ``actor=None`` is the operator at the command line."""
    if actor is not None and not is_account_admin(actor):
        raise PermissionDenied(
            "account.not_admin", "只有管理员可以这样做。", "Only an administrator may do this."
        )
    removed = _remove_devices(user)
    record(actor, "mfa.reset", user, data={"by": "admin", "devices": removed})
    return removed


def _remove_devices(user: User) -> int:
    totp, _ = TOTPDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.filter(user=user).count()
    StaticDevice.objects.filter(user=user).delete()
    return totp + static
