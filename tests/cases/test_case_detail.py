"""The case detail through the API: need-to-know, one audit entry per read, and a
number of queries that does not grow with the case."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from casecenter.accounts.services import issue_api_token
from casecenter.audit.models import AuditEntry
from casecenter.cases import selectors, services
from casecenter.errors import PermissionDenied

pytestmark = pytest.mark.django_db


def _api(user) -> Client:
    _, token = issue_api_token(user, name="detail")
    return Client(headers={"Authorization": f"Bearer {token}"})


def _reads(case) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(action="case.read_personal", object_id=str(case.pk)).order_by(
            "id"
        )
    )


def test_each_detail_read_is_one_audit_entry_with_its_basis(make_case, officers):
    case = make_case()
    services.add_party(officers["lead"], case, role="victim", name="王小明")
    for who, basis in (("partner", "assigned"), ("manager", "supervision")):
        before = len(_reads(case))
        answer = _api(officers[who]).get(f"/api/cases/{case.pk}").json()
        assert answer["access_basis"] == basis and answer["parties"][0]["name"] == "王小明"
        expected = selectors.available_transitions(officers[who], case)
        assert [t["name"] for t in answer["transitions"]] == [t.name for t in expected]
        [entry] = _reads(case)[before:]
        assert entry.actor_id == officers[who].pk and entry.data["basis"] == basis


def test_a_released_officer_reads_the_case_no_more(make_case, officers):
    case = make_case()
    services.release_officer(officers["manager"], case, officers["partner"])
    with pytest.raises(PermissionDenied):
        selectors.read_case_file(officers["partner"], case)
    before = len(_reads(case))
    assert _api(officers["partner"]).get(f"/api/cases/{case.pk}").status_code == 403
    assert len(_reads(case)) == before


def test_a_secret_case_is_not_found_through_the_api_unless_assigned(make_case, officers):
    case = make_case(secret=True)
    for who in ("bystander", "manager", "stranger"):
        assert _api(officers[who]).get(f"/api/cases/{case.pk}").status_code == 404
    assert _api(officers["partner"]).get(f"/api/cases/{case.pk}").status_code == 200


def test_the_detail_costs_the_same_queries_however_big_the_case(make_case, officers):
    case = make_case()
    client = _api(officers["partner"])
    client.get(f"/api/cases/{case.pk}")  # the token's first use is noted (an update)
    with CaptureQueriesContext(connection) as small:
        client.get(f"/api/cases/{case.pk}")
    for n in range(4):
        services.add_party(officers["lead"], case, role="witness", name=f"证人{n}")
    with CaptureQueriesContext(connection) as big:
        answer = client.get(f"/api/cases/{case.pk}").json()
    assert len(answer["parties"]) == 4 and len(answer["timeline"]) > 4
    # token, case, officers, parties, the audit entry (BEGIN, INSERT, COMMIT), timeline
    assert len(big) == len(small) == 8, [q["sql"][:60] for q in big]
