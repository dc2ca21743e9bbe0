"""Fixtures of the supervision UI and API tests."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from casecenter.cases.services import add_party
from casecenter.measures import services as measures
from tests.conftest import PASSWORD, valid_id


def post(client: Client, url: str, data: object):
    return client.post(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def api(officers):
    """A JSON API client of the named officer (bearer token)."""

    def client_for(username: str) -> Client:
        r = post(Client(), "/api/auth/token", {"username": username, "password": PASSWORD})
        assert r.status_code == 201, r.content
        return Client(headers={"Authorization": f"Bearer {r.json()['token']}"})

    return client_for


@pytest.fixture
def detention(make_case, officers):
    """A suspect criminally detained 23 hours ago: three 24-hour clocks (to the
    detention house, family notice, first interrogation) fall due in an hour."""
    case = make_case()
    suspect = add_party(officers["lead"], case, role="suspect", name="张三", id_number=valid_id())
    return measures.start_measure(
        officers["lead"],
        case,
        suspect,
        "criminal_detention",
        started_at=timezone.now() - timedelta(hours=23),
        officers=[officers["lead"], officers["partner"]],
    )
