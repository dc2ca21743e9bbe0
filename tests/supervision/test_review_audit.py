"""The deadline review is an audited read: one entry per read of a page of it,
naming the clocks shown, their cases and people (issue 14)."""

from __future__ import annotations

from casecenter.audit.models import AuditEntry


def test_the_review_api_writes_one_entry_naming_the_clocks_shown(api, detention, officers):
    body = api("lead").get("/api/deadlines").json()
    assert len(body) >= 3
    [entry] = AuditEntry.objects.filter(action="supervision.deadlines_read")
    assert entry.actor_id == officers["lead"].pk and entry.reason == "api"
    assert entry.data["deadlines"] == [d["id"] for d in body]
    assert entry.data["cases"] == [detention.case_id]
    assert entry.data["people"] == [detention.party.person_id]


def test_the_review_page_writes_one_entry_per_page_read(client, detention, officers):
    client.force_login(officers["manager"])
    assert client.get("/deadlines/").status_code == 200
    client.get("/deadlines/?page=1")
    entries = AuditEntry.objects.filter(action="supervision.deadlines_read").order_by("id")
    assert [e.reason for e in entries] == ["page", "page"]
    assert entries[0].data["deadlines"] and entries[0].actor_id == officers["manager"].pk


def test_an_empty_review_is_still_recorded_as_read(api, detention, officers):
    assert api("stranger").get("/api/deadlines").json() == []
    [entry] = AuditEntry.objects.filter(action="supervision.deadlines_read")
    assert entry.data == {"deadlines": [], "cases": [], "people": []}
