"""The relay publishes to a real NATS JetStream: subjects, ids, order, acks."""

from __future__ import annotations

import pytest
from django.db import transaction

from casecenter.cases.services import add_party
from casecenter.outbox import bus
from casecenter.outbox.models import OutboxEvent
from casecenter.supervision import worker
from tests.conftest import valid_id

pytestmark = pytest.mark.django_db


def pending() -> int:
    return OutboxEvent.objects.filter(relayed_at__isnull=True).count()


def test_the_relay_publishes_every_event_in_outbox_order_on_its_subject(
    nats_stream, make_case, officers, validators
):
    case = make_case()
    add_party(officers["lead"], case, role="suspect", name="张三", id_number=valid_id())
    events = list(OutboxEvent.objects.filter(relayed_at__isnull=True).order_by("id"))

    assert worker.relay_outbox() == len(events)

    got = nats_stream.read_all(expected=len(events) + 1)
    assert [r.body["outboxseq"] for r in got] == [e.pk for e in events]
    assert [r.subject for r in got] == [f"{nats_stream.prefix}.{e.topic}" for e in events]
    assert [r.msg_id for r in got] == [f"{nats_stream.prefix}:{e.pk}" for e in events]
    assert [r.body["id"] for r in got] == [r.msg_id for r in got]
    assert [r.body["data"] for r in got] == [e.payload for e in events]
    for received in got:
        validators[received.body["type"]].validate(received.body)
    assert pending() == 0


def test_the_stream_is_made_with_the_settings(nats_stream, settings):
    settings.CASECENTER_NATS_RETENTION = "limits"
    settings.CASECENTER_NATS_MAX_AGE_DAYS = 2
    bus.connect()
    config = nats_stream.info().config
    assert config.name == nats_stream.name
    assert config.subjects == [f"{nats_stream.prefix}.>"]
    assert config.duplicate_window == 600
    assert config.max_age == 2 * 86400
    assert config.retention == "limits"

    bus.disconnect()  # a relay started again with another window updates the stream
    settings.CASECENTER_NATS_DUPLICATE_WINDOW_SECONDS = 300
    bus.connect()
    assert nats_stream.info().config.duplicate_window == 300


def test_a_batch_published_again_is_dropped_by_jetstream(nats_stream):
    with transaction.atomic():
        events = [
            OutboxEvent.objects.create(topic="incident.closed", payload={"incident_id": i})
            for i in range(20)
        ]
    assert bus.publish(events) == 0
    assert bus.publish(events[5:]) == 15  # a relay killed after the acks, restarted
    got = nats_stream.read_all(expected=21)
    assert [r.body["outboxseq"] for r in got] == [e.pk for e in events]
    assert nats_stream.info().state.messages == 20


def test_events_stay_in_the_outbox_while_nats_cannot_be_reached(settings, db):
    settings.CASECENTER_NATS_URL = "nats://127.0.0.1:9"  # nothing listens on discard
    with transaction.atomic():
        OutboxEvent.objects.create(topic="incident.closed", payload={"incident_id": 1})
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever nats-py raises
            worker.relay_outbox()
    finally:
        bus.disconnect()
    assert pending() == 1


def test_without_a_nats_url_events_go_to_subscribers_only(settings, monkeypatch, db):
    settings.CASECENTER_NATS_URL = ""
    monkeypatch.setattr(bus, "Publisher", None)  # would fail if the relay tried to connect
    with transaction.atomic():
        OutboxEvent.objects.create(topic="incident.closed", payload={"incident_id": 1})
    assert worker.relay_outbox() == 1
    assert pending() == 0
