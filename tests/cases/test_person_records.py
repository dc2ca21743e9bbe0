"""A person known to another station does not leak through the add-party form,
and nothing another station (or case) relies on changes: each record keeps its
own row, and a case's contact for notifications and the public page's second
factor is that case's own, changed only by those working the case."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.test import Client

from casecenter.accounts.services import issue_api_token
from casecenter.audit.models import AuditEntry
from casecenter.cases import services
from casecenter.cases.models import Party, Person
from casecenter.errors import Conflict, PermissionDenied
from casecenter.portal import services as portal
from tests.conftest import valid_id

pytestmark = pytest.mark.django_db

NUMBER = valid_id("19850612", "231")
A_NAME, A_PHONE, A_MAIL = "欧阳震华", "13611112222", "oyzh@example.cn"


@pytest.fixture
def first_station(make_case, officers):
    """Station ZGC's victim, with the phone its public page and SMS use."""
    case = make_case()
    party = services.add_party(
        officers["lead"],
        case,
        role="victim",
        name=A_NAME,
        id_number=NUMBER,
        phone=A_PHONE,
        email=A_MAIL,
    )
    receipt, _ = portal.issue_receipt(officers["lead"], case, party)
    return case, party, receipt


@pytest.fixture
def other_case(officers):
    """A case of station XYL, led by the stranger."""
    return services.accept_case(
        officers["stranger"], kind="criminal", category="fraud", title="诈骗案"
    )


def _snapshot(party: Party) -> tuple:
    person = Person.objects.get(pk=party.person_id)
    return (person.name, person.phone, person.email, person.id_number)


def _leaks(body: str) -> list[str]:
    return [v for v in (A_NAME, A_PHONE, A_PHONE[-4:], A_MAIL) if v in body]


def test_the_form_shows_nothing_the_first_station_recorded(first_station, other_case, officers):
    _, party, _ = first_station
    before = _snapshot(party)
    client = Client()
    client.force_login(officers["stranger"])
    r = client.post(
        f"/cases/{other_case.pk}/parties/",
        {"role": "suspect", "name": "欧阳", "id_number": NUMBER, "phone": "13800009999"},
        follow=True,
    )
    assert r.status_code == 200
    body = r.content.decode()
    assert "欧阳" in body and _leaks(body) == []
    added = other_case.parties.get()
    assert (added.person.name, added.person.phone) == ("欧阳", "13800009999")
    assert added.person_id != party.person_id
    # the first station's record is untouched
    assert _snapshot(party) == before


def test_a_known_and_an_unknown_number_answer_alike(first_station, other_case, officers):
    _, token = issue_api_token(officers["stranger"], name="t")
    client = Client(headers={"Authorization": f"Bearer {token}"})

    def add(number: str) -> dict:
        r = client.post(
            f"/api/cases/{other_case.pk}/parties",
            json.dumps({"role": "witness", "name": "某甲", "id_number": number}),
            content_type="application/json",
        )
        assert r.status_code == 201, r.content
        body = r.json()
        assert _leaks(json.dumps(body, ensure_ascii=False)) == []
        return {k: v for k, v in body.items() if k not in ("id", "id_number_masked")}

    fresh = valid_id("19850612", "251")  # same birth date and sex, never recorded
    assert add(NUMBER) == add(fresh)
    text = json.dumps(client.get(f"/api/cases/{other_case.pk}").json(), ensure_ascii=False)
    assert _leaks(text) == [] and "某甲" in text


def test_a_duplicate_is_only_a_duplicate_within_the_same_case(first_station, other_case, officers):
    services.add_party(
        officers["stranger"], other_case, role="victim", name="某乙", id_number=NUMBER
    )
    with pytest.raises(Conflict) as err:
        services.add_party(
            officers["stranger"], other_case, role="victim", name="某乙", id_number=NUMBER
        )
    assert err.value.code == "party.duplicate"


def test_the_public_page_and_sms_keep_the_first_stations_phone(first_station, other_case, officers):
    _, party, receipt = first_station
    services.add_party(
        officers["stranger"],
        other_case,
        role="victim",
        name="欧阳",
        id_number=NUMBER,
        phone="13955556666",
    )
    assert portal.open_by_number(receipt.number, A_PHONE[-4:], client="a") == receipt
    assert portal.open_by_number(receipt.number, "6666", client="b") is None


def test_the_cases_officers_change_its_contact_through_an_audited_service(first_station, officers):
    case, party, receipt = first_station
    with pytest.raises(PermissionDenied):
        services.change_party_contact(officers["bystander"], party, phone="13500000000", email="")
    assert _snapshot(party)[1] == A_PHONE
    services.change_party_contact(officers["partner"], party, phone="13577778888", email="")
    assert _snapshot(party)[1:3] == ("13577778888", "")
    entry = AuditEntry.objects.filter(action="case.updated").latest("id")
    assert entry.actor_id == officers["partner"].pk
    assert entry.data["contact"] == ["phone", "email"] and entry.data["party_id"] == party.pk
    assert "13577778888" not in json.dumps(entry.data)
    # the public page's second factor follows the case's own record
    assert portal.open_by_number(receipt.number, "8888", client="c") == receipt
    assert portal.open_by_number(receipt.number, A_PHONE[-4:], client="d") is None


def test_the_contact_endpoint_is_the_cases_alone(first_station, other_case, officers):
    case, party, _ = first_station
    _, token = issue_api_token(officers["stranger"], name="t")
    client = Client(headers={"Authorization": f"Bearer {token}"})
    r = client.put(
        f"/api/cases/{case.pk}/parties/{party.pk}/contact",
        json.dumps({"phone": "13000000000"}),
        content_type="application/json",
    )
    assert r.status_code == 404 and _snapshot(party)[1] == A_PHONE
    _, token = issue_api_token(officers["lead"], name="t")
    r = Client(headers={"Authorization": f"Bearer {token}"}).put(
        f"/api/cases/{case.pk}/parties/{party.pk}/contact",
        json.dumps({"phone": "13122223333", "email": "new@example.cn"}),
        content_type="application/json",
    )
    assert r.status_code == 200
    assert r.json() == {
        "party_id": party.pk,
        "phone_masked": "131****3333",
        "email_masked": "n***@example.cn",
    }
    assert _snapshot(party)[1:3] == ("13122223333", "new@example.cn")


def test_the_migration_gives_each_record_its_own_row(make_case, officers):
    """Rows shared before the change (one Person per ID number) are split."""
    import importlib

    from django.utils import timezone

    from casecenter.incidents.models import Incident
    from casecenter.incidents.services import register_incident

    migration = importlib.import_module(
        "casecenter.cases.migrations.0008_person_per_record_break_glass_review"
    )
    a = services.add_party(
        officers["lead"], make_case(), role="victim", name="甲", id_number=NUMBER, phone=A_PHONE
    )
    b = services.add_party(
        officers["lead"], make_case(), role="suspect", name="乙", id_number=NUMBER
    )
    incident = register_incident(
        officers["lead"],
        channel="walk_in",
        received_at=timezone.now(),
        place="某地",
        category="other",
        summary="某事",
        reporter_name="丙",
        reporter_phone="13000001111",
    )
    # the shape of the old data: every record of the number on one row
    Party.objects.filter(pk=b.pk).update(person_id=a.person_id)
    Incident.objects.filter(pk=incident.pk).update(reporter_id=a.person_id)
    migration.one_row_per_record(apps, None)
    a.refresh_from_db()
    b.refresh_from_db()
    incident.refresh_from_db()
    rows = {a.person_id, b.person_id, incident.reporter_id}
    assert len(rows) == 3
    for pk in rows:
        person = Person.objects.get(pk=pk)
        assert (person.name, person.phone, person.id_number) == ("甲", A_PHONE, NUMBER)


def test_the_case_pages_contact_form_is_for_those_who_work_the_case(first_station, officers):
    case, party, _ = first_station
    bystander = Client()
    bystander.force_login(officers["bystander"])
    url = f"/cases/{case.pk}/parties/{party.pk}/contact/"
    bystander.post(url, {"phone": "13000000000", "email": ""})
    assert _snapshot(party)[1] == A_PHONE
    lead = Client()
    lead.force_login(officers["lead"])
    page = lead.get(f"/cases/{case.pk}/").content.decode()
    assert url in page and A_PHONE not in page  # the form, never the number
    r = lead.post(url, {"phone": "13044445555", "email": A_MAIL})
    assert r.status_code == 302 and _snapshot(party)[1:3] == ("13044445555", A_MAIL)
    assert lead.post(f"/cases/{case.pk}/parties/{party.pk + 99}/contact/", {}).status_code == 404
