"""``/api/law/period``: the law package's periods for other systems, working days included."""

from __future__ import annotations

import chinese_calendar
import pytest
from django.test import Client

from casecenter.calendars.services import load_notice
from tests.conftest import PASSWORD
from tests.supervision.conftest import post

pytestmark = pytest.mark.django_db
PACKAGE = f"chinese-calendar {chinese_calendar.__version__}"


@pytest.fixture
def client(officers) -> Client:
    r = post(Client(), "/api/auth/token", {"username": "lead", "password": PASSWORD})
    assert r.status_code == 201, r.content
    return Client(headers={"Authorization": f"Bearer {r.json()['token']}"})


def period(client: Client, start: str, length: int, unit: str, **extra: str):
    query = {"start": start, "length": length, "unit": unit, **extra}
    return client.get("/api/law/period", query)


def test_working_days_from_a_friday_end_on_wednesday(client):
    r = period(client, "2026-11-20T16:00:00+08:00", 3, "workday")

    assert r.status_code == 200, r.content
    assert r.json() == {
        "ends_at": "2026-11-26T00:00:00+08:00",
        "last_day": "2026-11-25",
        "extended_by_holiday": False,
        "calendar": PACKAGE,
        "basis": "State Council holiday notice",
        "explanation": (
            "3 working days from 2026-11-20: last day 2026-11-25 (2 rest days in between not "
            "counted); the period ends at 24:00 that day (State Council holiday notice)."
        ),
    }


def test_working_days_use_the_loaded_notices(client):
    r = period(client, "2026-12-30T10:00:00+08:00", 3, "workday")
    assert r.status_code == 422 and r.json()["code"] == "calendar.unknown_year"

    load_notice(None, 2027, ["2027-01-01"], [], "test notice 2027")

    r = period(client, "2026-12-30T10:00:00+08:00", 3, "workday")
    assert r.status_code == 200, r.content
    assert r.json()["last_day"] == "2027-01-05"


@pytest.mark.parametrize(
    ("unit", "extra", "code"),
    [
        ("workday", {"in_custody": "true"}, "period.workday_custody"),
        ("workdays", {}, None),  # not a unit: refused by the schema
    ],
)
def test_bad_working_day_queries_are_refused_with_4xx(client, unit, extra, code):
    r = period(client, "2026-11-20T16:00:00+08:00", 3, unit, **extra)

    assert 400 <= r.status_code < 500, r.content
    if code:
        assert r.json()["code"] == code
