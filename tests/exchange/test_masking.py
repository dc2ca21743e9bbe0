"""The ID numbers a package carries are masked for those who read it — on its page,
its matter's page and in the API, the manifest's text included — with a deliberate,
audited reveal of one value for a stated purpose (issue 14)."""

from __future__ import annotations

import json

import pytest

from casecenter.audit.models import AuditEntry
from casecenter.exchange import services
from casecenter.fasttrack import services as fasttrack
from casecenter.law import mask_id_number
from tests.supervision.conftest import post


@pytest.fixture
def sent(ready_to_submit, officers, partners):
    return fasttrack.submit(
        officers["legal"], ready_to_submit, procuratorate=partners["orgs"]["jc"]
    )


@pytest.fixture
def full_id(ready_to_submit):
    return ready_to_submit.case.parties.get(role="suspect").person.id_number


@pytest.fixture
def matter(sent, partners):
    package = services.receive(partners["prosecutor"], sent)
    return services.accept(partners["prosecutor"], package).matter


def test_the_package_api_masks_id_numbers_in_people_and_manifest(api, sent, full_id):
    body = api("prosecutor").get(f"/api/exchange/packages/{sent.pk}").json()
    assert body["people"][0]["id_number"] == mask_id_number(full_id)
    assert full_id not in json.dumps(body, ensure_ascii=False)
    manifest = json.loads(body["manifest"])
    assert manifest["extra"]["people"][0]["id_number"] == mask_id_number(full_id)


def test_the_package_and_matter_pages_mask_id_numbers(browser_of, partners, sent, full_id):
    client = browser_of(partners["prosecutor"])
    page = client.get(f"/exchange/packages/{sent.pk}/").content.decode()
    assert full_id not in page and mask_id_number(full_id) in page
    package = services.receive(partners["prosecutor"], sent)
    matter = services.accept(partners["prosecutor"], package).matter
    page = client.get(f"/exchange/matters/{matter.pk}/").content.decode()
    assert full_id not in page and mask_id_number(full_id) in page


def test_a_reveal_needs_a_purpose_and_writes_one_audit_entry(api, sent, full_id, partners):
    client = api("prosecutor")
    url = f"/api/exchange/packages/{sent.pk}/people/0/reveal"
    before = AuditEntry.objects.filter(action="exchange.reveal_person").count()
    refused = post(client, url, {"field": "id_number", "purpose": "..."})
    assert refused.status_code in (400, 422) and full_id not in refused.content.decode()
    assert post(client, url, {"field": "id_number", "purpose": "   "}).status_code in (400, 422)
    shown = post(client, url, {"field": "id_number", "purpose": "核对起诉书被告人身份"})
    assert shown.status_code == 200 and shown.json() == {"field": "id_number", "value": full_id}
    entries = AuditEntry.objects.filter(action="exchange.reveal_person").order_by("id")
    assert entries.count() == before + 1
    entry = entries.last()
    assert entry.actor_id == partners["prosecutor"].pk
    assert entry.reason == "核对起诉书被告人身份"
    assert entry.data == {"field": "id_number", "index": 0, "role": "suspect"}
    assert entry.object_id == str(sent.pk)


def test_a_reveal_of_nobody_or_of_a_package_not_yours_is_refused(api, sent, partners):
    purpose = {"field": "id_number", "purpose": "核对身份信息"}
    assert (
        post(
            api("prosecutor"), f"/api/exchange/packages/{sent.pk}/people/7/reveal", purpose
        ).status_code
        == 404
    )
    for who in ("lawyer", "other_judge", "bystander"):
        r = post(api(who), f"/api/exchange/packages/{sent.pk}/people/0/reveal", purpose)
        assert r.status_code == 404, who
    assert not AuditEntry.objects.filter(action="exchange.reveal_person").exists()


def test_the_matter_reveal_on_the_page_shows_the_value_once(browser_of, partners, matter, full_id):
    client = browser_of(partners["prosecutor"])
    url = f"/exchange/matters/{matter.pk}/people/0/reveal/"
    page = client.post(url, {"field": "id_number", "purpose": "核对被告人身份"})
    assert page.status_code == 200 and full_id in page.content.decode()
    entry = AuditEntry.objects.filter(action="exchange.reveal_person").get()
    assert entry.object_type == "exchange.matter" and entry.object_id == str(matter.pk)
    # the next read of the page is masked again
    assert full_id not in client.get(f"/exchange/matters/{matter.pk}/").content.decode()
    # without a purpose: nothing revealed, nothing recorded
    again = client.post(url, {"field": "id_number", "purpose": ""})
    assert full_id not in again.content.decode()
    assert AuditEntry.objects.filter(action="exchange.reveal_person").count() == 1


def test_the_matter_api_reveal(api, matter, full_id):
    client = api("prosecutor")
    body = client.get(f"/api/exchange/matters/{matter.pk}").json()
    assert body["people"][0]["id_number"] == mask_id_number(full_id)
    r = post(
        client,
        f"/api/exchange/matters/{matter.pk}/people/0/reveal",
        {"field": "id_number", "purpose": "核对身份"},
    )
    assert r.json()["value"] == full_id
