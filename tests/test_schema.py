"""A field of a fixed set of values lists them in the OpenAPI document: the
service refuses any other with its own code, a query filter at the edge."""

from __future__ import annotations

import pytest
from django.test import Client

from casecenter.accounts.services import issue_api_token
from casecenter.cases.models import CaseKind, CaseState
from casecenter.schema import Choice


@pytest.fixture
def lead(officers):
    _, token = issue_api_token(officers["lead"], name="test")
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_a_choice_is_an_enum_of_the_document(client):
    schemas = client.get("/api/openapi.json").json()["components"]["schemas"]
    assert schemas["cases.CaseIn"]["properties"]["kind"]["enum"] == CaseKind.values
    convert = schemas["incidents.ConvertIn"]["properties"]["category"]["enum"]
    assert convert[0] == "" and "theft" in convert  # "": the incident's category


def test_a_value_outside_the_enum_gets_the_services_own_error(lead, officers):
    body = {"kind": "civil", "category": "theft", "title": "某案"}
    answer = lead.post("/api/cases", body, content_type="application/json")
    assert (answer.status_code, answer.json()["code"]) == (422, "case.kind")
    padded = {**body, "kind": " criminal"}  # taken as sent: the enum is exact
    answer = lead.post("/api/cases", padded, content_type="application/json")
    assert (answer.status_code, answer.json()["code"]) == (422, "case.kind")


def test_a_filter_takes_its_values_or_empty_and_refuses_the_rest(lead, make_case):
    case = make_case()
    assert [c["id"] for c in lead.get("/api/cases?state=").json()] == [case.pk]
    assert [c["id"] for c in lead.get(f"/api/cases?state={case.state}").json()] == [case.pk]
    assert lead.get(f"/api/cases?state={CaseState.CLOSED}").json() == []
    answer = lead.get("/api/cases?state=shut")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["where"].endswith("state")


def test_a_choice_must_fit_its_column():
    assert Choice(["lead", "assisting"], 10)
    with pytest.raises(ValueError, match="max_length=5"):
        Choice(["lead", "assisting"], 5)
