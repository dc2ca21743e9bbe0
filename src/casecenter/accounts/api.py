"""API: who am I, tokens, organisations and officers."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Schema, Status

from casecenter.accounts.models import Organisation, User
from casecenter.accounts.services import issue_api_token, revoke_api_token
from casecenter.audit.services import record
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


class TokenOut(Schema):
    token: str
    token_id: int
    user: UserOut


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
def create_token(request: HttpRequest, payload: TokenIn):
    """Exchange a username and password for a bearer token (shown once)."""
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None:
        with transaction.atomic():
            record(
                None,
                "account.login_failed",
                data={"username": payload.username[:150], "via": "api"},
            )
        raise PermissionDenied("auth.failed", "用户名或密码错误。", "Wrong username or password.")
    token, secret = issue_api_token(user, name=payload.name)
    return Status(201, {"token": secret, "token_id": token.pk, "user": user_out(user)})


@router.delete("/auth/token/{token_id}", response={204: None}, tags=["auth"])
def delete_token(request: HttpRequest, token_id: Id):
    """Revoke one of your own tokens."""
    token = request.auth.api_tokens.filter(pk=token_id, revoked_at__isnull=True).first()
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
