"""The live stream (/events/): alerts the worker raises reach the user's open page."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from casecenter.supervision import live, worker
from casecenter.supervision.models import Alert, Deadline

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(live, "POLL_SECONDS", 0.01)


def due_moment(measure) -> object:
    return Deadline.objects.get(measure=measure, rule_id="detention.to_house").due_at


def browser_of(user, **headers) -> Client:
    client = Client(headers=headers)
    client.force_login(user)
    return client


@pytest.fixture
def listen():
    """Open a stream as ``user``; every stream is closed when the test ends."""
    opened = []

    def open_stream(user, url="/events/", language="", **headers):
        client = browser_of(user, **headers)
        if language:
            client.cookies["django_language"] = language
        response = client.get(url)
        opened.append(response)
        return iter(response.streaming_content)

    yield open_stream
    for response in opened:
        response.close()


def frames(stream, wanted: int, limit: int = 200) -> list[dict]:
    """Read frames (not comments) from the stream until ``wanted`` have come."""
    got: list[dict] = []
    for _ in range(limit):
        chunk = next(stream).decode()
        if chunk.startswith(":"):
            continue
        frame: dict = {}
        for line in chunk.strip().splitlines():
            name, _, value = line.partition(": ")
            frame[name] = json.loads(value) if name == "data" else value
        got.append(frame)
        if len(got) == wanted:
            return got
    raise AssertionError(f"only {len(got)} frames: {got}")


def test_an_alert_raised_by_the_worker_reaches_the_open_stream(detention, officers):
    response = browser_of(officers["lead"]).get("/events/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    assert "no-cache" in response["Cache-Control"] and response["X-Accel-Buffering"] == "no"
    assert "no-store" in response["Cache-Control"]  # an alert stream is personal data
    stream = iter(response.streaming_content)
    retry, count = frames(stream, 2)
    serving = live.open_streams()
    assert serving >= 1
    assert retry == {"retry": str(live.RETRY_MS), "id": str(live.latest_alert_id())}
    assert count == {"event": "count", "data": {"open": 0}}

    worker.run_once(now=due_moment(detention) + timedelta(minutes=1))  # another process, really

    raised = {a.pk: a for a in Alert.objects.all()}
    got = frames(stream, len(raised) + 1)
    alerts = [f for f in got if f["event"] == "alert"]
    assert {f["data"]["id"] for f in alerts} == set(raised)
    first = alerts[0]["data"]
    alert = raised[first["id"]]
    assert first["title"] == alert.title_zh
    assert first["url"] == f"/alerts/{alert.pk}/"
    assert first["case_url"] == f"/cases/{detention.case_id}/#clocks"  # the clocks card
    assert first["severity"] == "critical"
    assert int(alerts[-1]["id"]) == max(raised)  # Last-Event-ID to resume from
    assert got[-1] == {"event": "count", "data": {"open": len(raised)}}
    response.close()
    assert live.open_streams() == serving - 1


def test_titles_come_in_the_language_the_user_chose(detention, officers, listen):
    stream = listen(officers["lead"], "/events/?after=0", language="en")
    worker.run_once(now=due_moment(detention) + timedelta(minutes=1))
    alert = frames(stream, 3)[-1]  # retry, count, the first alert
    assert alert["data"]["title"] == Alert.objects.get(pk=alert["data"]["id"]).title_en


def test_a_reconnecting_stream_resumes_after_last_event_id(detention, officers, listen):
    worker.run_once(now=due_moment(detention) + timedelta(minutes=1))
    ids = sorted(Alert.objects.values_list("pk", flat=True))
    stream = listen(officers["lead"], "/events/?after=0", **{"Last-Event-ID": str(ids[2])})
    got = frames(stream, 1 + len(ids) - 3)
    assert [f["data"]["id"] for f in got if f.get("event") == "alert"] == ids[3:]


def test_a_fresh_page_gets_only_what_comes_after_it(detention, officers, listen):
    worker.run_once(now=due_moment(detention) - timedelta(hours=1))  # the warnings
    stream = listen(officers["lead"])
    _, count = frames(stream, 2)
    assert count["data"]["open"] == 3  # counted, but not pushed again
    worker.run_once(now=due_moment(detention) + timedelta(minutes=1))  # the breaches
    alerts = [f for f in frames(stream, 4) if f.get("event") == "alert"]
    assert {Alert.objects.get(pk=f["data"]["id"]).kind for f in alerts} == {"breach"}


def test_other_stations_hear_nothing(detention, officers, listen, monkeypatch):
    monkeypatch.setattr(live, "COUNT_SECONDS", 0.05)
    stream = listen(officers["stranger"], "/events/?after=0")
    worker.run_once(now=due_moment(detention) + timedelta(minutes=1))
    assert all(f.get("event") != "alert" for f in frames(stream, 3))


def test_the_stream_ends_by_itself(monkeypatch, officers):
    monkeypatch.setattr(live, "STREAM_SECONDS", 0)
    before = live.open_streams()
    chunks = list(browser_of(officers["lead"]).get("/events/").streaming_content)
    assert chunks[0].startswith(b"retry:") and b"event: count" in chunks[1]
    assert len(chunks) == 2
    assert live.open_streams() == before


def test_only_logged_in_people_who_receive_alerts_may_listen(officers, make_user):
    from casecenter.accounts.models import Role

    assert Client().get("/events/").status_code == 401
    lawyer = make_user("lawyer", Role.DEFENCE_LAWYER, org="court")
    assert browser_of(lawyer).get("/events/").status_code == 403
    assert browser_of(officers["judge"]).get("/events/").status_code == 200  # her own clocks
