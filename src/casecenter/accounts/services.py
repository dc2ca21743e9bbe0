"""Writes for organisations, users and API tokens.

The account controls (lockout, passwords, sessions, tokens) are described in
docs/security.md, "Authentication and sessions".
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from axes.models import AccessAttempt, AccessAttemptExpiration
from axes.utils import reset as reset_axes_attempts
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from casecenter.accounts.lockout import MEMORY, grown_cool_off
from casecenter.accounts.models import ApiToken, Lockout, NumberSeries, Role, User
from casecenter.audit.services import record
from casecenter.errors import InvalidInput, NotFound, PermissionDenied

TOKEN_PREFIX = "cc_"  # noqa: S105 - a prefix, not a secret


def next_serial(organisation_id: int, series: str, year: int) -> int:
    """Take the next number of a series, inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_serial() must run inside the caller's transaction")
    row = (
        NumberSeries.objects.select_for_update()
        .filter(organisation_id=organisation_id, series=series, year=year)
        .first()
    )
    if row is None:
        try:
            with transaction.atomic():
                row = NumberSeries.objects.create(
                    organisation_id=organisation_id, series=series, year=year
                )
        except IntegrityError:  # another request created it first
            row = NumberSeries.objects.select_for_update().get(
                organisation_id=organisation_id, series=series, year=year
            )
    NumberSeries.objects.filter(pk=row.pk).update(last=F("last") + 1)
    row.refresh_from_db(fields=["last"])
    return row.last


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_account_admin(user: User | None) -> bool:
    """An administrator of accounts: may reset, disable, unlock, revoke anyone's tokens."""
    return bool(
        user is not None and user.is_active and (user.role == Role.ADMIN or user.is_superuser)
    )


def _require_admin(actor: User | None) -> None:
    if actor is not None and not is_account_admin(actor):
        raise PermissionDenied(
            "account.not_admin", "只有管理员可以这样做。", "Only an administrator may do this."
        )


@transaction.atomic
def issue_api_token(actor: User, *, name: str) -> tuple[ApiToken, str]:
    """Create a bearer token for the actor's API client; the secret is shown once.

    It expires ``CASECENTER_API_TOKEN_DAYS`` days from now.
    """
    name = (name or "").strip() or "api"
    if len(name) > 100:
        raise InvalidInput("token.name", "令牌名称过长。", "The token name is too long.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(days=settings.CASECENTER_API_TOKEN_DAYS)
    token = ApiToken.objects.create(
        user=actor,
        name=name,
        prefix=secret[:8],
        digest=token_digest(secret),
        expires_at=expires_at,
    )
    record(
        actor,
        "account.token_issued",
        token,
        data={"name": name, "expires_at": expires_at.isoformat()},
    )
    return token, secret


@transaction.atomic
def revoke_api_token(actor: User, token: ApiToken) -> ApiToken:
    """Revoke a token: its owner or an administrator may."""
    if token.user_id != actor.pk and not is_account_admin(actor):
        raise NotFound("token.not_found", "令牌不存在。", "No such token.")
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(actor, "account.token_revoked", token, data={"owner": token.user_id})
    return token


def _revoke_all_tokens(actor: User | None, user: User, reason: str) -> int:
    """Revoke every live token of ``user``, inside the caller's transaction."""
    count = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if count:
        record(actor, "account.tokens_revoked", user, data={"count": count, "because": reason})
    return count


def user_for_token(secret: str) -> User | None:
    """The active user a live bearer token belongs to, or None (revoked, expired)."""
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(
            digest=token_digest(secret),
            revoked_at__isnull=True,
            expires_at__gt=now,
            user__is_active=True,
        )
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# --- passwords ---------------------------------------------------------------


def _check_password_policy(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        problems = " ".join(str(m) for m in exc.messages)
        raise InvalidInput(
            "account.weak_password",
            f"密码不符合要求：{problems}",
            f"The password does not meet the policy: {problems}",
        ) from exc


@transaction.atomic
def change_password(actor: User, old_password: str, new_password: str) -> User:
    """The user chooses a new password (自助修改密码).

    Ends every other session of the user (the password is part of the session
    hash; the caller keeps its own with ``update_session_auth_hash``) and
    revokes the user's API tokens: a change often follows a suspected leak,
    and a token issued under the old password could be the intruder's.
    """
    user = User.objects.select_for_update().get(pk=actor.pk)
    if not user.check_password(old_password):
        raise InvalidInput(
            "account.wrong_password", "当前密码不正确。", "The current password is wrong."
        )
    if old_password == new_password:
        raise InvalidInput(
            "account.same_password",
            "新密码不能与当前密码相同。",
            "The new password must differ from the current one.",
        )
    _check_password_policy(new_password, user)
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    _revoke_all_tokens(user, user, "password_changed")
    record(user, "account.password_changed", user)
    return user


@transaction.atomic
def reset_password(actor: User | None, user: User, new_password: str) -> User:
    """An administrator sets a user's password (重置密码); the user must change it
    at the next login. Ends the user's sessions and revokes their API tokens.
    ``actor=None`` is the operator at the command line."""
    _require_admin(actor)
    user = User.objects.select_for_update().get(pk=user.pk)
    _check_password_policy(new_password, user)
    user.set_password(new_password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    _revoke_all_tokens(actor, user, "password_reset")
    record(actor, "account.password_reset", user)
    return user


# --- sessions and accounts ---------------------------------------------------


@transaction.atomic
def end_all_sessions(actor: User | None, user: User, *, reason: str) -> None:
    """End every session of ``user`` on every device (raise the session generation)."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    record(actor, "account.sessions_ended", user, data={"because": reason})


@transaction.atomic
def disable_account(actor: User | None, user: User) -> User:
    """Disable an account (停用): no login, no session, no API token any more."""
    _require_admin(actor)
    user = User.objects.select_for_update().get(pk=user.pk)
    _revoke_all_tokens(actor, user, "account_disabled")
    user.is_active = False
    user.session_generation += 1
    user.save(update_fields=["is_active", "session_generation"])
    record(actor, "account.disabled", user)
    return user


def revoke_tokens_of_disabled(user: User) -> None:
    """Called before any save of a user: a user switched to inactive by any path
    (the admin's form, the shell) loses its tokens and sessions with the same save."""
    if user.pk is None or user.is_active:
        return
    was_active = User.objects.filter(pk=user.pk, is_active=True).exists()
    if not was_active:
        return
    with transaction.atomic():
        _revoke_all_tokens(None, user, "account_disabled")
        user.session_generation += 1


# --- logins and lockouts -----------------------------------------------------


@transaction.atomic
def note_login(user: User, *, via: str, address: str | None) -> None:
    record(user, "account.login", user, data={"via": via, "ip": address or ""})


@transaction.atomic
def note_login_failed(username: str, *, via: str, address: str | None, refused: bool) -> None:
    """A failed login; ``refused``: refused because of a lockout, the password unchecked."""
    record(
        None,
        "account.login_failed",
        data={
            "username": (username or "")[:150],
            "via": via,
            "ip": address or "",
            "locked_out": refused,
        },
    )


@transaction.atomic
def note_lockouts(username: str | None, address: str | None, *, via: str) -> list[Lockout]:
    """Remember the lockouts that start now (of the account, of the address, or both)."""
    now = timezone.now()
    longest = timedelta(hours=settings.CASECENTER_LOCKOUT_MAX_HOURS)
    started = []
    for kind, key in ((Lockout.Kind.ACCOUNT, username), (Lockout.Kind.ADDRESS, address)):
        if not key:
            continue
        field = "username" if kind == Lockout.Kind.ACCOUNT else "ip_address"
        attempts = AccessAttempt.objects.filter(**{field: key}, expiration__expires_at__gt=now)
        failures = sum(a.failures_since_start for a in attempts)
        if failures < settings.AXES_FAILURE_LIMIT:
            continue
        rows = Lockout.objects.filter(kind=kind, unlocked_at__isnull=True, **{field: key})
        if any(r.locked_at + r.duration > now for r in rows.filter(locked_at__gte=now - longest)):
            continue  # already locked: this is a refused attempt, not a new lockout
        earlier = rows.filter(locked_at__gte=now - MEMORY).count()
        duration = grown_cool_off(earlier)
        lockout = Lockout.objects.create(
            kind=kind, locked_at=now, duration=duration, **{field: key}
        )
        # the attempts must outlive the lockout (axes deletes expired ones)
        AccessAttemptExpiration.objects.filter(
            access_attempt__in=attempts, expires_at__lt=now + duration
        ).update(expires_at=now + duration)
        record(
            None,
            "account.locked_out",
            data={
                "by": kind,
                "username": (username or "")[:150],
                "ip": address or "",
                "via": via,
                "minutes": int(duration.total_seconds() // 60),
                "earlier_lockouts": earlier,
            },
        )
        started.append(lockout)
    return started


@transaction.atomic
def unlock_account(actor: User | None, username: str, *, ip_address: str | None = None) -> int:
    """Lift the lockout of an account (and of an address, if given) (解锁).

    Clears axes' failure counts and forgets the remembered lockouts, so the
    next lockout starts again at the base length. ``actor=None`` is the
    operator at the command line. Returns the number of counters cleared.
    """
    _require_admin(actor)
    username = (username or "").strip()
    if not username:
        raise InvalidInput("account.username", "请填写用户名。", "Give a username.")
    cleared = reset_axes_attempts(username=username)
    if ip_address:
        cleared += reset_axes_attempts(ip=ip_address)
    now = timezone.now()
    Lockout.objects.filter(
        kind=Lockout.Kind.ACCOUNT, username=username, unlocked_at__isnull=True
    ).update(unlocked_at=now)
    if ip_address:
        Lockout.objects.filter(
            kind=Lockout.Kind.ADDRESS, ip_address=ip_address, unlocked_at__isnull=True
        ).update(unlocked_at=now)
    target = User.objects.filter(username=username).first()
    record(
        actor,
        "account.unlocked",
        target,
        data={"username": username[:150], "ip": ip_address or "", "cleared": cleared},
    )
    return cleared


@transaction.atomic
def note_session_expired(user: User, why: str) -> None:
    """A session ended by the idle or absolute limit (the user's others live on)."""
    record(user, "account.session_expired", user, data={"because": why})
