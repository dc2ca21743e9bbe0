"""A whole fast track through the JSON API, as the four organisations' own users
(police, legal aid, procuratorate, court), each with a bearer token; and what
each of them may not see."""

from __future__ import annotations

import io
import json
import zipfile

from django.utils import timezone

from casecenter.exchange import keys, manifest
from casecenter.exchange.models import Package
from casecenter.supervision.models import Deadline
from tests.supervision.conftest import post


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def only(packages, **match):
    found = [p for p in packages if all(p[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, packages)
    return found[0]


def test_four_organisations_walk_a_fast_track_through_the_api(
    ready_to_submit, officers, partners, api
):
    orgs = partners["orgs"]
    track_id, case = ready_to_submit.pk, ready_to_submit.case
    police, legal = api("lead"), api("legal")
    aid, prosecutor, judge = api("lawyer"), api("prosecutor"), api("judge")

    # the police: legal aid notified, then legal affairs submit to the procuratorate
    ok(
        post(police, f"/api/fast-track/{track_id}/legal-aid", {"organisation_id": orgs["fyzx"].pk}),
        201,
    )
    nowhere = post(legal, f"/api/fast-track/{track_id}/submit", {"organisation_id": 999999})
    assert (nowhere.status_code, nowhere.json()["code"]) == (404, "fast_track.receiver")
    sent = ok(
        post(legal, f"/api/fast-track/{track_id}/submit", {"organisation_id": orgs["jc"].pk}), 201
    )
    assert sent["state"] == "sent" and sent["receiver"]["code"] == "jc"

    # legal aid signs for the notice, accepts it, assigns a lawyer who meets the suspect
    notice = only(ok(aid.get("/api/exchange/inbox")), kind="legal_aid")
    assert (
        ok(post(aid, f"/api/exchange/packages/{notice['id']}/receive", {}))["state"] == "received"
    )
    matter_id = ok(post(aid, f"/api/exchange/packages/{notice['id']}/accept", {}))["matter_id"]
    lawyer = {"lawyer_id": partners["lawyer"].pk}
    ok(post(aid, f"/api/exchange/matters/{matter_id}/lawyer", lawyer))
    again = post(aid, f"/api/exchange/matters/{matter_id}/lawyer", lawyer)
    assert (again.status_code, again.json()["code"]) == (409, "matter.lawyer_assigned")
    met = {"mode": "remote", "started_at": timezone.now().isoformat(), "minutes": 25}
    assert ok(post(aid, f"/api/exchange/matters/{matter_id}/meetings", met))["details"]["meetings"]

    # the procuratorate: sign, accept, indict
    package = only(ok(prosecutor.get("/api/exchange/inbox")), kind="fast_track")
    detail = ok(prosecutor.get(f"/api/exchange/packages/{package['id']}"))
    assert detail["people"][0]["name"] == "马明" and detail["entries"]
    ok(post(prosecutor, f"/api/exchange/packages/{package['id']}/receive", {}))
    review = ok(post(prosecutor, f"/api/exchange/packages/{package['id']}/accept", {}))["matter_id"]
    body = {"court_id": orgs["court"].pk, "charge": "危险驾驶罪", "proposal": "拘役二个月"}
    indictment = ok(post(prosecutor, f"/api/exchange/matters/{review}/indict", body), 201)

    # the court: sign, accept, schedule the hearing at the center, judgment
    ok(post(judge, f"/api/exchange/packages/{indictment['id']}/receive", {}))
    trial = ok(post(judge, f"/api/exchange/packages/{indictment['id']}/accept", {}))["matter_id"]
    hearing = {"hearing_at": timezone.now().isoformat(), "place": "执法办案管理中心"}
    ok(post(judge, f"/api/exchange/matters/{trial}/hearing", hearing))
    verdict = {"verdict": "判处拘役二个月", "hearing_at": timezone.now().isoformat()}
    assert ok(post(judge, f"/api/exchange/matters/{trial}/judgment", verdict))["state"] == "closed"

    # back at the police: the judgment is signed for and accepted: the track is closed
    judgment = only(ok(police.get("/api/exchange/inbox")), kind="judgment")
    ok(post(police, f"/api/exchange/packages/{judgment['id']}/receive", {}))
    ok(post(police, f"/api/exchange/packages/{judgment['id']}/accept", {}))
    track = ok(police.get(f"/api/fast-track/{track_id}"))
    assert track["state"] == "closed" and not track["over_48h"]
    assert all(s["done_at"] for s in track["stages"])
    assert track["hours"] < 48

    # every organisation sees the track through its own record …
    for client in (aid, prosecutor, judge):
        assert ok(client.get(f"/api/fast-track/{track_id}"))["state"] == "closed"
    board = ok(judge.get("/api/fast-track/"))
    assert [t["id"] for t in board["tracks"]] == [track_id] and board["judged"] == 1
    # … and never the police's tables
    for client in (aid, prosecutor, judge):
        assert client.get(f"/api/cases/{case.pk}").status_code == 404
        assert client.get(f"/api/dossiers/cases/{case.pk}").status_code == 404
    # the zip of what the court received verifies with the registered keys
    archive = judge.get(f"/api/exchange/packages/{indictment['id']}/zip")
    assert archive.status_code == 200
    verdict = manifest.verify_zip(io.BytesIO(b"".join(archive.streaming_content)), keys.trusted())
    assert verdict.ok and verdict.signer_checked
    assert verdict.manifest["sender"]["code"] == "jc"
    assert not Deadline.objects.filter(state="breached").exists()


def test_a_court_user_gets_404_for_a_police_case_never_handed_to_it(
    ready_to_submit, officers, partners, api
):
    orgs = partners["orgs"]
    sent = ok(
        post(
            api("legal"),
            f"/api/fast-track/{ready_to_submit.pk}/submit",
            {"organisation_id": orgs["jc"].pk},
        ),
        201,
    )
    case = ready_to_submit.case
    for username in ("judge", "other_judge", "lawyer"):
        client = api(username)
        assert client.get(f"/api/cases/{case.pk}").status_code == 404
        assert client.get(f"/api/fast-track/{ready_to_submit.pk}").status_code == 404
        assert client.get(f"/api/exchange/packages/{sent['id']}").status_code == 404
        assert client.get(f"/api/exchange/packages/{sent['id']}/zip").status_code == 404
        assert client.get("/api/exchange/inbox").json() == []
    # the prosecutor sees the package, not the case
    prosecutor = api("prosecutor")
    assert prosecutor.get(f"/api/exchange/packages/{sent['id']}").status_code == 200
    assert prosecutor.get(f"/api/cases/{case.pk}").status_code == 404
    # a court that was never involved cannot sign for it either
    r = post(api("other_judge"), f"/api/exchange/packages/{sent['id']}/receive", {})
    assert r.status_code == 404
    assert Package.objects.get(pk=sent["id"]).state == "sent"


def test_bad_input_changes_nothing(ready_to_submit, officers, partners, api):
    from casecenter.audit.models import AuditEntry

    police = api("legal")
    before = (Package.objects.count(), AuditEntry.objects.count())
    for body in (
        {"organisation_id": partners["orgs"]["court"].pk},  # not a procuratorate
        {"organisation_id": 10**9},
        {"organisation_id": "x"},
        {},
    ):
        r = post(police, f"/api/fast-track/{ready_to_submit.pk}/submit", body)
        assert 400 <= r.status_code < 500, r.content
        assert "code" in r.json()
    assert (Package.objects.count(), AuditEntry.objects.count()) == before
    ready_to_submit.case.refresh_from_db()
    assert ready_to_submit.case.state == "investigating"


def test_the_zip_holds_the_manifest_the_signature_and_every_file(ready_to_submit, partners, api):
    sent = ok(
        post(
            api("legal"),
            f"/api/fast-track/{ready_to_submit.pk}/submit",
            {"organisation_id": partners["orgs"]["jc"].pk},
        ),
        201,
    )
    response = api("prosecutor").get(f"/api/exchange/packages/{sent['id']}/zip")
    data = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        listed = json.loads(archive.read("manifest.json"))
    assert {"manifest.json", "manifest.sig", "signer.pub"} <= names
    assert {f"files/{e['path']}" for e in listed["entries"]} == names - {
        "manifest.json",
        "manifest.sig",
        "signer.pub",
    }
    assert listed["package"] == sent["number"] and listed["receiver"]["code"] == "jc"
    assert (
        any(e["path"] == "property/property-list.html" for e in listed["entries"]) is False
    )  # no items
