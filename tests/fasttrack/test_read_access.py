"""Who reads a fast track (issue 14): those on its case (its officers, its
supervisors) and the partner organisations holding a matter of it. Anyone else —
an officer of the station not on the case, an organisation holding no matter —
is told "not found", on the page and in the API; every read is audited."""

from __future__ import annotations

import pytest

from casecenter.audit.models import AuditEntry
from casecenter.exchange import services as exchange
from casecenter.exchange.models import Package, PackageKind
from casecenter.fasttrack import services


@pytest.fixture
def with_legal_aid(started, officers, partners):
    """Legal aid accepted the track's notice: it holds a matter of the track."""
    services.notify_legal_aid(officers["lead"], started, legal_aid=partners["orgs"]["fyzx"])
    notice = Package.objects.get(fast_track=started, kind=PackageKind.LEGAL_AID)
    exchange.accept(partners["lawyer"], exchange.receive(partners["lawyer"], notice))
    return started


ALLOWED = {"lead": "assigned", "manager": "supervision", "legal": "supervision"}
REFUSED = ("bystander", "stranger", "prosecutor", "other_judge", "judge")


@pytest.mark.parametrize("who", [*ALLOWED, "lawyer", "lawyer2"])
def test_those_on_the_case_or_the_matter_read_the_track_audited(
    api, browser_of, with_legal_aid, officers, partners, who
):
    user = {**officers, **partners}[who]
    track = with_legal_aid
    assert api(who).get(f"/api/fast-track/{track.pk}").json()["case_number"] == track.case_number
    assert browser_of(user).get(f"/fast-track/{track.pk}/").status_code == 200
    entries = AuditEntry.objects.filter(action="fast_track.read", actor_id=user.pk)
    assert [(e.reason, e.data["basis"]) for e in entries.order_by("id")] == [
        ("api", ALLOWED.get(who, "matter")),
        ("page", ALLOWED.get(who, "matter")),
    ]


@pytest.mark.parametrize("who", REFUSED)
def test_anyone_else_is_told_not_found_and_sees_no_track_listed(
    api, browser_of, with_legal_aid, officers, partners, who
):
    user = {**officers, **partners}[who]
    track = with_legal_aid
    assert api(who).get(f"/api/fast-track/{track.pk}").status_code == 404
    assert browser_of(user).get(f"/fast-track/{track.pk}/").status_code == 404
    assert api(who).get("/api/fast-track/").json()["tracks"] == []
    assert not AuditEntry.objects.filter(action="fast_track.read", actor_id=user.pk).exists()


def test_the_dashboard_read_is_one_audit_entry_naming_the_tracks(api, with_legal_aid, officers):
    body = api("lead").get("/api/fast-track/").json()
    assert [t["id"] for t in body["tracks"]] == [with_legal_aid.pk]
    entry = AuditEntry.objects.filter(action="fast_track.listed").get()
    assert entry.actor_id == officers["lead"].pk and entry.data["tracks"] == [with_legal_aid.pk]
