"""Helpers for the account-control tests: logins through the real forms and endpoints."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.conftest import PASSWORD

WRONG = "not the password at all"  # noqa: S105


def web_login(client: Client, username: str, password: str, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def api_login(client: Client, username: str, password: str, **extra):
    return client.post(
        "/api/auth/token",
        json.dumps({"username": username, "password": password}),
        content_type="application/json",
        **extra,
    )


def admin_login(client: Client, username: str, password: str, **extra):
    return client.post(
        "/admin/login/",
        {"username": username, "password": password, "next": "/admin/"},
        **extra,
    )


def logged_in(client: Client) -> bool:
    return client.get("/api/me").status_code == 200


@pytest.fixture
def admin(make_user):
    from casecenter.accounts.models import Role

    return make_user("root", Role.ADMIN, is_staff=True, is_superuser=True)


__all__ = ["PASSWORD", "WRONG", "admin_login", "api_login", "logged_in", "web_login"]
