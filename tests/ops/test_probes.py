"""/healthz and /readyz: liveness from the process alone, readiness of each dependency."""

from __future__ import annotations

import socket

import pytest
from django.db import connection
from django.test import Client


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def listener():
    """A real TCP listener standing in for a reachable broker or bus (connect only)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield s.getsockname()[1]


def test_healthz_answers_without_the_database(client):
    # no django_db mark: any query would raise "Database access not allowed"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )


@pytest.mark.django_db
def test_readyz_is_ready_when_database_broker_and_bus_answer(client, settings, listener):
    settings.CASECENTER_MQTT_URL = f"mqtt://127.0.0.1:{listener}"
    settings.CASECENTER_NATS_URL = f"nats://127.0.0.1:{listener}"
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "event_bus": "ok"},
    }


@pytest.mark.django_db
def test_readyz_leaves_out_what_the_deployment_does_not_use(client, settings):
    settings.CASECENTER_MQTT_URL = ""
    settings.CASECENTER_NATS_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {
        "database": "ok",
        "broker": "not configured",
        "event_bus": "not configured",
    }


@pytest.mark.django_db
def test_readyz_names_an_unreachable_broker(client, settings, listener):
    settings.CASECENTER_MQTT_URL = f"mqtt://127.0.0.1:{closed_port()}"
    settings.CASECENTER_NATS_URL = f"nats://127.0.0.1:{listener}"
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failed"
    assert body["failed"] == ["broker"]
    assert body["checks"]["event_bus"] == "ok"


@pytest.mark.django_db
def test_readyz_is_ready_if_any_server_of_a_bus_cluster_answers(client, settings, listener):
    settings.CASECENTER_MQTT_URL = ""
    settings.CASECENTER_NATS_URL = f"nats://127.0.0.1:{closed_port()},nats://127.0.0.1:{listener}"
    assert client.get("/readyz").json()["checks"]["event_bus"] == "ok"
    settings.CASECENTER_NATS_URL = f"nats://127.0.0.1:{closed_port()}"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["event_bus"]


@pytest.mark.django_db(transaction=True)
def test_readyz_names_an_unreachable_database(settings, tmp_path):
    settings.CASECENTER_MQTT_URL = ""
    settings.CASECENTER_NATS_URL = ""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "postgresql":
        connection.settings_dict["PORT"] = closed_port()
        connection.settings_dict["HOST"] = "127.0.0.1"
    else:
        connection.settings_dict["NAME"] = str(tmp_path / "no-such-folder" / "db.sqlite3")
    try:
        response = Client().get("/readyz")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    assert response.json() == {
        "status": "failed",
        "checks": {"database": "failed", "broker": "not configured", "event_bus": "not configured"},
        "failed": ["database"],
    }
