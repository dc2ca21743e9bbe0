"""Writes for organisations, users and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from casecenter.accounts.models import ApiToken, NumberSeries, User
from casecenter.audit.services import record
from casecenter.errors import InvalidInput

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


@transaction.atomic
def issue_api_token(actor: User, *, name: str) -> tuple[ApiToken, str]:
    """Create a bearer token for the actor's API client; the secret is shown once."""
    name = (name or "").strip() or "api"
    if len(name) > 100:
        raise InvalidInput("token.name", "令牌名称过长。", "The token name is too long.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=actor, name=name, prefix=secret[:8], digest=token_digest(secret)
    )
    record(actor, "account.token_issued", token, data={"name": name})
    return token, secret


@transaction.atomic
def revoke_api_token(actor: User, token: ApiToken) -> ApiToken:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record(actor, "account.token_revoked", token)
    return token


def user_for_token(secret: str) -> User | None:
    """The active user a bearer token belongs to, or None."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
