"""A client generated from /api/openapi.json works, as an integrator would build one.

openapi-python-client (a standard generator, from the registries) reads the
live document; the generated, typed client then walks an incident through to a
case, a party, a coercive measure and the party's receipt for the public
portal, against the live server. A schema name that two apps share, a body the
document describes wrongly or a response that does not match its schema breaks
the generation or the walk.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.utils import timezone

from casecenter.accounts.services import issue_api_token
from tests.conftest import valid_id

pytestmark = pytest.mark.django_db(transaction=True)

PACKAGE = "casecenter_client"


def generator() -> str:
    found = Path(sys.executable).with_name("openapi-python-client")
    return str(found) if found.exists() else shutil.which("openapi-python-client") or ""


@pytest.fixture
def generated(live_server, tmp_path):
    """The client package, generated from the live document and importable."""
    document = tmp_path / "openapi.json"
    document.write_text(httpx.get(f"{live_server.url}/api/openapi.json").text)
    config = tmp_path / "generator.json"
    config.write_text(
        json.dumps(
            {
                "project_name_override": "casecenter-client",
                "package_name_override": PACKAGE,
                "post_hooks": [],  # no formatter: the code is imported, not read
                "literal_enums": True,  # an enum field takes its plain string value
            }
        )
    )
    result = subprocess.run(  # noqa: S603 - our own command line
        [
            generator(),
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(tmp_path / "client"),
            "--config",
            str(config),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path / "client"))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path / "client"))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def call(module_path: str, **kwargs):
    """One operation of the generated client; its parsed answer (a typed model)."""
    module = importlib.import_module(f"{PACKAGE}.api.{module_path}")
    response = module.sync_detailed(**kwargs)
    assert response.status_code < 300, (module_path, response.status_code, response.content)
    assert response.parsed is not None, (module_path, response.content)
    return response.parsed


def test_a_generated_client_walks_an_incident_to_a_receipt(generated, live_server, officers):
    from casecenter_client import AuthenticatedClient
    from casecenter_client.models import (
        IncidentsConvertIn,
        IncidentsIncidentDetailOut,
        IncidentsIncidentIn,
        MeasuresMeasureIn,
        MeasuresMeasureOut,
        PortalReceiptIn,
        PortalReceiptOut,
    )

    _, token = issue_api_token(officers["lead"], name="generated client")
    client = AuthenticatedClient(base_url=live_server.url, token=token)
    now = timezone.now()

    incident = call(
        "incidents.incidents_register",
        client=client,
        body=IncidentsIncidentIn(
            channel="walk_in",
            received_at=now - timedelta(hours=3),
            place="知春路5号",
            category="theft",
            summary="报警人称电动车被盗。",
            reporter_name="刘一",
            reporter_phone="13700001234",
        ),
    )
    assert isinstance(incident, IncidentsIncidentDetailOut)
    assert incident.reporter.phone == "137****1234"  # masked in the typed answer too

    case = call(
        "incidents.incidents_convert",
        client=client,
        incident_id=incident.id,
        body=IncidentsConvertIn(kind="criminal"),
    )
    call(
        "cases.cases_assign",
        client=client,
        case_id=case.id,
        body=generated.models.CasesAssignmentIn(user_id=officers["partner"].pk, role="assisting"),
    )
    party = call(
        "cases.cases_add_party",
        client=client,
        case_id=case.id,
        body=generated.models.CasesPartyIn(
            role="suspect", name="张三", id_number=valid_id(), phone="13900002222"
        ),
    )
    assert "*" in party.id_number_masked  # never the number itself

    measure = call(
        "measures.measures_start",
        client=client,
        case_id=case.id,
        body=MeasuresMeasureIn(
            party_id=party.id,
            kind="criminal_detention",
            started_at=now - timedelta(hours=2),
            officers=[officers["lead"].pk, officers["partner"].pk],
        ),
    )
    assert isinstance(measure, MeasuresMeasureOut)
    assert measure.state == "in_force" and measure.clocks  # its statutory clocks run

    detail = call("cases.cases_read", client=client, case_id=case.id)
    [reporter] = [p for p in detail.parties if p.role == "reporter"]  # from the incident
    receipt = call(
        "portal.portal_issue_receipt",
        client=client,
        case_id=case.id,
        body=PortalReceiptIn(party_id=reporter.id),
    )
    assert isinstance(receipt, PortalReceiptOut)
    assert receipt.party_id == reporter.id and "/p/" in receipt.link

    detail = call("cases.cases_read", client=client, case_id=case.id)
    assert sorted(p.name for p in detail.parties) == ["刘一", "张三"]
    assert detail.timeline  # cases.EventOut, parsed as the case's own event schema


def test_the_generated_client_reads_an_error_as_the_shared_error_body(generated, live_server):
    from casecenter_client import AuthenticatedClient
    from casecenter_client.api.cases import cases_read
    from casecenter_client.models import Error

    client = AuthenticatedClient(base_url=live_server.url, token="cc_not-a-token")
    response = cases_read.sync_detailed(client=client, case_id=1)
    assert response.status_code == 401
    assert isinstance(response.parsed, Error)
    assert response.parsed.code == "unauthenticated" and response.parsed.message_en
