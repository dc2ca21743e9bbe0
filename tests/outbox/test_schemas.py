"""The event schemas: one per event type the code emits, and real events fit them."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from casecenter.cases.services import add_party
from casecenter.outbox import bus, schemas
from casecenter.outbox.models import OutboxEvent
from tests.conftest import valid_id
from tests.outbox.conftest import SCHEMAS


def test_every_emitted_event_type_has_its_committed_schema():
    generated = schemas.rendered()
    committed = {p.name: p.read_text(encoding="utf-8") for p in SCHEMAS.glob("*.schema.json")}
    assert len(generated) > 50
    assert sorted(committed) == sorted(generated), (
        "run `casecenter outbox schemas --write docs/events`"
    )
    stale = [name for name in generated if committed[name] != generated[name]]
    assert stale == [], "run `casecenter outbox schemas --write docs/events`"


def test_event_types_written_as_f_strings_are_expanded_to_their_values():
    types = schemas.event_types()
    assert {"case.accepted", "case.assigned", "property.seized", "assistance.requested"} <= set(
        types
    )
    assert not any("{" in topic for topic in types)


def test_a_payload_key_is_typed_only_where_its_expression_says_so():
    raised = schemas.event_types()["alert.raised"].keys
    assert raised["alert_id"]["type"] == "integer"
    assert raised["case_id"]["type"] == ["integer", "null"]  # getattr(case, "pk", None)
    assert "type" not in raised["organisation_id"]  # a plain name: left open
    assert schemas.event_types()["property.count_signed"].keys["differences"]["type"] == "integer"


def test_an_event_type_whose_values_cannot_be_told_is_refused(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "services.py").write_text(
        "def act(kind_of_thing):\n    emit(f'thing.{kind_of_thing}', id=1)\n"
    )
    with pytest.raises(ValueError, match="thing"):
        schemas.event_types(tmp_path)


def test_the_check_command_fails_on_a_stale_schema_folder(tmp_path):
    call_command("outbox", "schemas", "--write", str(tmp_path))
    call_command("outbox", "schemas", "--check", str(tmp_path))
    (tmp_path / "incident.closed.schema.json").write_text("{}")
    with pytest.raises(CommandError, match="incident.closed"):
        call_command("outbox", "schemas", "--check", str(tmp_path))


@pytest.mark.django_db
def test_events_of_real_services_validate_against_their_schemas(make_case, officers, validators):
    case = make_case()
    add_party(officers["lead"], case, role="suspect", name="张三", id_number=valid_id())
    events = list(OutboxEvent.objects.order_by("id"))
    assert {"case.accepted", "case.assigned", "case.party_added"} <= {e.topic for e in events}
    for event in events:
        assert event.topic in validators, f"no schema for {event.topic}"
        validators[event.topic].validate(bus.envelope(event))


@pytest.mark.django_db
def test_a_payload_that_breaks_its_schema_is_caught(validators):
    from jsonschema import ValidationError

    event = OutboxEvent.objects.create(topic="incident.closed", payload={"incident": 1})
    with pytest.raises(ValidationError):
        validators["incident.closed"].validate(bus.envelope(event))
