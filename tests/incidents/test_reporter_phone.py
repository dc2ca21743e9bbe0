"""The incident page masks the reporter's phone; the full number is a deliberate,
audited reveal for those whose work needs it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from casecenter.accounts.services import issue_api_token
from casecenter.audit.models import AuditEntry
from casecenter.errors import InvalidInput, PermissionDenied
from casecenter.incidents import selectors, services

pytestmark = pytest.mark.django_db
PHONE = "13900001111"


@pytest.fixture
def incident(officers):
    return services.register_incident(
        officers["lead"],
        channel="call_110",
        received_at=timezone.now() - timedelta(minutes=5),
        place="中关村大街1号",
        category="dispute",
        summary="邻里噪音纠纷。",
        reporter_name="李四",
        reporter_phone=PHONE,
    )


def _reveals():
    return AuditEntry.objects.filter(action="incident.reveal_reporter_phone")


def test_the_page_shows_the_phone_masked(incident, officers):
    client = Client()
    client.force_login(officers["bystander"])
    body = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "139****1111" in body and PHONE not in body
    assert _reveals().count() == 0


def test_the_full_phone_is_a_recorded_reveal_with_a_purpose(incident, officers):
    client = Client()
    client.force_login(officers["bystander"])
    r = client.post(f"/incidents/{incident.pk}/reveal-phone/", {"purpose": "回访报警人核实情况"})
    assert r.status_code == 200 and PHONE in r.content.decode()
    entry = _reveals().get()
    assert entry.actor_id == officers["bystander"].pk and entry.object_id == str(incident.pk)
    assert entry.reason == "回访报警人核实情况" and PHONE not in json.dumps(entry.data)
    # a reveal lasts one answer: the page read again is masked
    assert PHONE not in client.get(f"/incidents/{incident.pk}/").content.decode()


def test_a_reveal_without_a_purpose_is_refused_and_not_recorded(incident, officers):
    with pytest.raises(InvalidInput):
        selectors.reveal_reporter_phone(officers["lead"], incident, purpose=" ")
    client = Client()
    client.force_login(officers["lead"])
    r = client.post(f"/incidents/{incident.pk}/reveal-phone/", {"purpose": ""})
    assert r.status_code == 400 and PHONE not in r.content.decode()
    assert _reveals().count() == 0


def test_once_a_case_only_those_who_read_the_case_reveal_it(incident, officers):
    services.convert_to_case(officers["lead"], incident, kind="administrative")
    incident.refresh_from_db()
    with pytest.raises(PermissionDenied):
        selectors.reveal_reporter_phone(officers["bystander"], incident, purpose="想看看")
    assert selectors.reveal_reporter_phone(officers["lead"], incident, purpose="通知调解") == PHONE
    assert list(_reveals().values_list("actor_id", flat=True)) == [officers["lead"].pk]
    client = Client()
    client.force_login(officers["bystander"])
    r = client.post(f"/incidents/{incident.pk}/reveal-phone/", {"purpose": "想看看全号"})
    assert r.status_code == 403 and PHONE not in r.content.decode()


def test_the_api_masks_and_reveals_on_purpose(incident, officers):
    _, token = issue_api_token(officers["partner"], name="t")
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert client.get(f"/api/incidents/{incident.pk}").json()["reporter"]["phone"] == "139****1111"
    r = client.post(
        f"/api/incidents/{incident.pk}/reporter/reveal-phone",
        json.dumps({"purpose": "回访报警人"}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json() == {"phone": PHONE}
    assert _reveals().get().actor_id == officers["partner"].pk
    _, other = issue_api_token(officers["stranger"], name="t")
    r = Client(headers={"Authorization": f"Bearer {other}"}).post(
        f"/api/incidents/{incident.pk}/reporter/reveal-phone",
        json.dumps({"purpose": "回访报警人"}),
        content_type="application/json",
    )
    assert r.status_code == 404 and _reveals().count() == 1
