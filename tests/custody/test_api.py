"""The custody API: map, entry, stay path, exit, the desk."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from casecenter.custody.models import Stay

pytestmark = pytest.mark.django_db


def _api(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_entry_path_session_and_exit_through_the_api(center, suspect, officers, device_events):
    party = suspect()
    lead = _api(officers["lead"])
    r = lead.post(
        "/api/custody/stays",
        {
            "center": "zx",
            "party_id": party.pk,
            "wristband": "WB-01",
            "searched_by": officers["lead"].pk,
            "identity_checked": True,
            "belongings": [{"description": "手机"}],
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    stay_id = r.json()["id"]
    # an event from before the entry makes no presence; one after it does
    device_events("WB-01", "presence", zone="HH-1", event="enter")
    device_events("WB-01", "presence", zone="XW-1", event="enter", at=timezone.now())
    body = lead.get(f"/api/custody/stays/{stay_id}").json()
    assert [s["zone"] for s in body["path"]] == ["XW-1"]
    assert {s["camera"] for s in body["path"][0]["segments"]} == {"CAM-XW-1-1", "CAM-XW-1-2"}
    session = lead.post(
        f"/api/custody/stays/{stay_id}/sessions",
        {"zone": "XW-1", "officers": [officers["lead"].pk, officers["partner"].pk]},
        content_type="application/json",
    )
    assert session.status_code == 201 and session.json()["mismatches"] == []
    nowhere = lead.post(
        f"/api/custody/stays/{stay_id}/sessions",
        {"zone": "XW-99", "officers": [officers["lead"].pk, officers["partner"].pk]},
        content_type="application/json",
    )
    assert (nowhere.status_code, nowhere.json()["code"]) == (404, "session.zone")
    zone_map = lead.get("/api/custody/centers/zx/map").json()
    room = next(z for z in zone_map["zones"] if z["code"] == "XW-1")
    assert room["recording"] == "asked" and room["people"][0]["name"] == "嫌疑人"
    out = lead.post(
        f"/api/custody/stays/{stay_id}/exit", {"reason": "释放"}, content_type="application/json"
    )
    assert out.status_code == 200 and out.json()["exited_at"]
    late = lead.post(
        f"/api/custody/stays/{stay_id}/sessions",
        {"zone": "XW-1", "officers": [officers["lead"].pk, officers["partner"].pk]},
        content_type="application/json",
    )
    assert (late.status_code, late.json()["code"]) == (409, "session.not_in")


def test_bad_entries_get_clear_errors_and_change_nothing(center, suspect, officers):
    party = suspect()
    lead = _api(officers["lead"])
    base = {
        "center": "zx",
        "party_id": party.pk,
        "wristband": "WB-01",
        "searched_by": officers["lead"].pk,
        "identity_checked": False,
    }
    r = lead.post("/api/custody/stays", base, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "custody.identity"
    r = lead.post(
        "/api/custody/stays",
        {**base, "identity_checked": True, "wristband": "NOPE"},
        content_type="application/json",
    )
    assert r.status_code == 404 and r.json()["code"] == "custody.entry_input"
    assert _api(officers["judge"]).get("/api/custody/centers/zx/map").status_code == 404
    assert not Stay.objects.exists()
