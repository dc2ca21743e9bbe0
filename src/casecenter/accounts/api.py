"""API: who am I, tokens, organisations and officers."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest
from ninja import Router, Schema, Status

from casecenter.accounts import mfa
from casecenter.accounts.models import ApiToken, Organisation, User
from casecenter.accounts.services import is_account_admin, issue_api_token, revoke_api_token
from casecenter.apicontract import also_answers
from casecenter.errors import NotFound, PermissionDenied
from casecenter.schema import Id, Text

router = Router(tags=["accounts"])


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    role: str
    organisation_id: int | None
    organisation: str | None
    badge_number: str


class OrganisationOut(Schema):
    id: int
    kind: str
    name: str
    name_en: str
    code: str
    parent_id: int | None


class TokenIn(Schema):
    username: Text(150, 1)
    password: Text(256, 1)
    name: Text(100) = "api"
    #: a TOTP code or a recovery code, required of users with MFA (accounts.mfa)
    otp: Text(20) = ""


class TokenOut(Schema):
    token: str
    token_id: int
    expires_at: datetime
    user: UserOut


class TokenInfo(Schema):
    """A token as listed: never its secret, only what tells it apart."""

    id: int
    user_id: int
    username: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    revoked_at: datetime | None


def user_out(user: User) -> dict:
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": str(user),
        "role": user.role,
        "organisation_id": user.organisation_id,
        "organisation": user.organisation.name if user.organisation_id else None,
        "badge_number": user.badge_number,
    }


@router.post("/auth/token", auth=None, response={201: TokenOut}, tags=["auth"])
@also_answers(403, 429)
def create_token(request: HttpRequest, payload: TokenIn):
    """Exchange a username and password for a bearer token (shown once).

    Failed attempts count towards the lockout like the login form's; a locked
    account or address gets 429 ``auth.locked_out`` with ``Retry-After``.
    """
    # 1. the password (axes refuses a locked-out account here, before checking it;
    #    the failure is noted by accounts.signals)
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None:
        raise PermissionDenied("auth.failed", "用户名或密码错误。", "Wrong username or password.")
    # 2. the second factor, of whoever must use one (accounts.mfa): a TOTP or a
    #    recovery code; wrong codes are audited and throttled on the device
    if mfa.mfa_needed(user):
        if not mfa.is_enrolled(user):
            raise PermissionDenied(
                "auth.mfa_enrol_first",
                "请先在网页上设置多因素认证。",
                "Set up multi-factor authentication in the web UI first.",
            )
        if not payload.otp:
            raise PermissionDenied(
                "auth.otp_required",
                "请在 otp 字段中提供动态验证码或恢复码。",
                "Give a TOTP code or a recovery code in the otp field.",
            )
        mfa.verify_code(user, payload.otp, via="api")
    # 3. the login is noted like any other, then the token is issued
    user_logged_in.send(sender=user.__class__, request=request, user=user, via="api")
    token, secret = issue_api_token(user, name=payload.name)
    return Status(
        201,
        {
            "token": secret,
            "token_id": token.pk,
            "expires_at": token.expires_at,
            "user": user_out(user),
        },
    )


def _token_info(token: ApiToken) -> dict:
    return {
        "id": token.pk,
        "user_id": token.user_id,
        "username": token.user.username,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
    }


@router.get("/auth/tokens", response=list[TokenInfo], tags=["auth"])
def list_tokens(request: HttpRequest, user_id: int | None = None):
    """Your tokens; an administrator sees everyone's (or one user's, ``user_id``)."""
    tokens = ApiToken.objects.select_related("user").order_by("-created_at")
    if is_account_admin(request.auth):
        if user_id is not None:
            tokens = tokens.filter(user_id=user_id)
    else:
        tokens = tokens.filter(user=request.auth)
    return [_token_info(t) for t in tokens[:500]]


@router.delete("/auth/token/{token_id}", response={204: None}, tags=["auth"])
def delete_token(request: HttpRequest, token_id: Id):
    """Revoke one of your own tokens (an administrator: anyone's)."""
    token = ApiToken.objects.filter(pk=token_id, revoked_at__isnull=True).first()
    if token is None:
        raise NotFound("token.not_found", "令牌不存在。", "No such token.")
    revoke_api_token(request.auth, token)
    return Status(204, None)


@router.get("/me", response=UserOut)
def me(request: HttpRequest):
    return user_out(request.auth)


@router.get("/organisations", response=list[OrganisationOut])
def organisations(request: HttpRequest):
    return list(Organisation.objects.all())


@router.get("/officers", response=list[UserOut])
def officers(request: HttpRequest):
    """Officers of your organisation (to name co-officers and assignments)."""
    user = request.auth
    people = User.objects.filter(organisation_id=user.organisation_id, is_active=True)
    return [user_out(u) for u in people.select_related("organisation").order_by("username")]
