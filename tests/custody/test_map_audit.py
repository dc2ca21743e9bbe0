"""The list of the people in the area (the live map) is an audited read: one entry
per read naming the stays it showed and those shown by name, not one per person;
a secret case's number is shown only beside a name the reader may see (issue 14)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from casecenter.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def two_in_area(center, suspect, bring_in, device_events, make_case):
    """One person of an ordinary case, one of a secret case, in the area."""
    ordinary = bring_in(suspect(), band=0)
    secret_case = make_case(secret=True, title="某某泄密案")
    secret = bring_in(suspect(secret_case, sex_serial="133"), band=1)
    device_events("WB-00", "presence", zone="HH-1", event="enter", at=timezone.now())
    device_events("WB-01", "presence", zone="XW-1", event="enter", at=timezone.now())
    return ordinary, secret


def _entries(user):
    return list(
        AuditEntry.objects.filter(action="custody.map_viewed", actor_id=user.pk).order_by("id")
    )


def test_one_audit_entry_per_api_read_naming_the_stays_shown(center, two_in_area, officers):
    ordinary, secret = two_in_area
    body = _client(center.desk).get("/api/custody/centers/zx/map").json()
    shown = sorted(p["stay_id"] for z in body["zones"] for p in z["people"])
    assert shown == sorted([ordinary.pk, secret.pk])
    [entry] = _entries(center.desk)
    assert entry.data["stays"] == shown and entry.data["named"] == shown


def test_a_secret_cases_number_is_not_beside_a_masked_name(center, two_in_area, officers):
    ordinary, secret = two_in_area
    body = _client(officers["bystander"]).get("/api/custody/centers/zx/map").json()
    people = {p["stay_id"]: p for z in body["zones"] for p in z["people"]}
    assert people[secret.pk]["case_number"] == "" and people[secret.pk]["name"] == "嫌**"
    assert people[ordinary.pk]["case_number"] == ordinary.case.number
    [entry] = _entries(officers["bystander"])
    assert entry.data["named"] == [] and len(entry.data["stays"]) == 2
    page = _client(officers["bystander"]).get("/custody/").content.decode()
    assert secret.case.number not in page and ordinary.case.number in page


def test_the_pages_polls_are_audited_when_the_list_changes_not_every_time(
    center, two_in_area, suspect, bring_in, device_events
):
    client = _client(center.desk)
    poll = {"HX-Request": "true"}
    assert client.get("/custody/").status_code == 200
    client.get("/custody/", headers=poll)
    client.get("/custody/", headers=poll)
    assert len(_entries(center.desk)) == 1
    bring_in(suspect(sex_serial="143"), band=2)
    device_events("WB-02", "presence", zone="LS", event="enter", at=timezone.now())
    client.get("/custody/", headers=poll)
    entries = _entries(center.desk)
    assert len(entries) == 2 and len(entries[-1].data["stays"]) == 3
