"""Live push on PostgreSQL: ``casecenter serve`` as a real process, its streams fed by
LISTEN/NOTIFY (``supervision.push``), alerts committed by this test's process.

Every wait is bounded (a stuck stream fails the test, it does not hang it) and
nothing is timed: "never pushed" is shown by what comes first instead.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from casecenter.cases import services as cases
from casecenter.supervision import services
from casecenter.supervision.models import Alert, AlertState, Rule
from tests.serving import Server, servers

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="notifications are PostgreSQL's; SQLite polls"
    ),
]

RULE = "access.break_glass"  # an event rule told to the case-management group


class Stream:
    """One open ``/events/`` page, read frame by frame (comments skipped)."""

    def __init__(self, port: int, session: str, last_event_id: str = "") -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.conn.request("GET", "/events/", headers=headers)
        self.response = self.conn.getresponse()
        assert self.response.status == 200
        opening = self.next()
        assert opening["retry"] == "3000" and int(opening["id"]) >= 0
        self.started_after = int(opening["id"])

    def next(self) -> dict:
        frame: dict = {}
        while True:
            line = self.response.readline()
            assert line, "the stream ended"
            text = line.decode().rstrip("\n")
            if text.startswith(":"):
                continue
            if not text:
                if frame:
                    return frame
                continue
            name, _, value = text.partition(": ")
            frame[name] = json.loads(value) if name == "data" else value

    def alert(self) -> tuple[int, int]:
        """The next alert frame's alert id and ``id:``, passing over counts."""
        while True:
            frame = self.next()
            if frame.get("event") == "alert":
                return frame["data"]["id"], int(frame["id"])

    def count(self) -> int:
        while True:
            frame = self.next()
            if frame.get("event") == "count":
                return frame["data"]["open"]

    def close(self) -> None:
        self.conn.close()


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory) -> Iterator[Server]:
    """One server for the module's tests (each test's data is flushed after it;
    the server holds none)."""
    started = servers(tmp_path_factory.mktemp("serve"))
    yield next(started)()
    started.close()


@pytest.fixture
def sessions(officers):
    def session_of(user) -> str:
        """A whole login as the server sees it: the server requires a second factor
        of the roles that need one, whatever this process's settings say."""
        client = Client()
        client.force_login(user)
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    return session_of


@pytest.fixture
def streams():
    opened: list[Stream] = []

    def open_stream(*args, **kwargs) -> Stream:
        stream = Stream(*args, **kwargs)
        opened.append(stream)
        return stream

    yield open_stream
    for stream in opened:
        stream.close()


def alert_on(case, name: str, *, rollback: bool = False) -> Alert:
    """An alert about ``case``, committed now (or rolled back)."""
    with transaction.atomic():
        alert = services.raise_alert(
            key=f"push:{name}",
            rule=Rule.objects.get(code=RULE),
            kind=Alert.Kind.EVENT,
            case=case,
            organisation_id=case.organisation_id,
            title_zh=f"提醒{name}",
            title_en=f"Alert {name}",
            explanation_zh="说明",
            explanation_en="Explanation",
        )
        assert alert is not None
        if rollback:
            transaction.set_rollback(True)
    return alert


def test_a_committed_alert_is_pushed_to_the_streams_of_those_who_see_it(
    server, officers, make_case, sessions, streams
):
    case = make_case()  # lead and partner work it
    theirs = cases.accept_case(officers["stranger"], kind="criminal", category="theft", title="x")
    lead = sessions(officers["lead"])
    tabs = [streams(server.port, lead), streams(server.port, lead)]
    stranger = streams(server.port, sessions(officers["stranger"]))
    manager = streams(server.port, sessions(officers["manager"]))  # the rule's audience
    for stream in (*tabs, stranger, manager):
        assert stream.count() == 0  # the stream is open and looked back once

    alert_on(case, "rolled-back", rollback=True)  # never committed: never announced
    first = alert_on(case, "first")
    for stream in (*tabs, manager):
        assert stream.alert() == (first.pk, first.pk)
        assert stream.count() == 1
    # the stranger neither works the case nor is told at that station: the first
    # alert the stranger's page gets is the one about the stranger's own case
    own = alert_on(theirs, "stranger's")
    assert stranger.alert() == (own.pk, own.pk)


def test_reconnecting_with_last_event_id_loses_nothing(
    server, officers, make_case, sessions, streams
):
    case = make_case()
    session = sessions(officers["lead"])
    stream = streams(server.port, session)
    assert stream.count() == 0
    first = alert_on(case, "before")
    _, seen = stream.alert()
    stream.close()  # the page lost its connection (a node died, the laptop slept)

    missed = [alert_on(case, f"missed-{i}") for i in range(3)]
    again = streams(server.port, session, last_event_id=str(seen))
    got = [again.alert() for _ in missed]
    assert [alert_id for alert_id, _ in got] == [a.pk for a in missed]
    assert [event_id for _, event_id in got] == [a.pk for a in missed]  # the highest sent
    later = alert_on(case, "after")
    assert again.alert() == (later.pk, later.pk)
    assert first.pk not in [alert_id for alert_id, _ in got]


def test_an_acknowledgement_elsewhere_lowers_the_count_and_an_escalation_tells_the_new_rung(
    server, officers, make_case, sessions, streams
):
    case = make_case()
    legal = streams(server.port, sessions(officers["legal"]))  # the ladder's second rung
    lead = streams(server.port, sessions(officers["lead"]))
    assert (legal.count(), lead.count()) == (0, 0)
    alert = alert_on(case, "escalating")
    assert lead.alert()[0] == alert.pk
    assert lead.count() == 1

    with transaction.atomic():
        rule = Rule.objects.get(code=RULE)
        rule.escalation = ["case_management", "legal_affairs"]
        rule.save(update_fields=["escalation"])
        services.escalate(Alert.objects.get(pk=alert.pk), at=timezone.now() + timedelta(hours=1))
    assert legal.alert()[0] == alert.pk  # told now, by the escalation

    services.acknowledge_alert(officers["lead"], Alert.objects.get(pk=alert.pk), note="on it")
    assert Alert.objects.get(pk=alert.pk).state == AlertState.ACKNOWLEDGED
    assert lead.count() == 0


def test_a_forged_notification_pushes_nothing_the_database_does_not_show(
    server, officers, make_case, sessions, streams
):
    """Anyone who can connect to the database may NOTIFY: a notification is only a
    hint, and what is pushed is what the database says the user may see."""
    case = make_case()
    theirs = cases.accept_case(officers["stranger"], kind="criminal", category="theft", title="x")
    hidden = alert_on(theirs, "not the lead's")
    lead = streams(server.port, sessions(officers["lead"]))
    assert lead.count() == 0
    with connection.cursor() as cursor:
        for payload in (
            "not json",
            json.dumps({"alerts": "all"}),
            json.dumps({"alerts": [hidden.pk, 10**12], "change": "raised"}),
        ):
            cursor.execute("SELECT pg_notify(%s, %s)", ["casecenter_alerts", payload])
    mine = alert_on(case, "the lead's")
    assert lead.alert() == (mine.pk, mine.pk)  # the first alert frame; the hub still runs


def test_alerts_raised_while_the_listener_was_cut_off_are_pushed_when_it_is_back(
    server, officers, make_case, sessions, streams
):
    case = make_case()
    lead = streams(server.port, sessions(officers["lead"]))
    assert lead.count() == 0
    before = alert_on(case, "before the cut")
    assert lead.alert()[0] == before.pk
    with connection.cursor() as cursor:  # the database drops the listening session
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = 'casecenter-alert-push'"
        )
        assert cursor.fetchone()[0] >= 1
    during = alert_on(case, "while cut off")
    assert lead.alert()[0] == during.pk  # found by the catch-up after the reconnection


def test_a_page_that_had_no_alert_yet_resumes_from_where_its_stream_started(
    server, officers, make_case, sessions, streams
):
    """Its stream's opening frame carries an ``id:``: the browser's reconnection
    names it, and an alert raised while the page reconnected is not skipped."""
    case = make_case()
    session = sessions(officers["lead"])
    quiet = streams(server.port, session)
    assert quiet.count() == 0
    quiet.close()  # before any alert came
    gap = alert_on(case, "raised during the reconnection")
    again = streams(server.port, session, last_event_id=str(quiet.started_after))
    assert again.alert()[0] == gap.pk


def test_a_page_is_served_by_polling_when_its_process_cannot_listen(
    tmp_path, monkeypatch, officers, make_case, sessions, streams
):
    """The listener's database is unreachable (a wrong CASECENTER_LIVE_LISTEN_URL, a
    pooler that refuses LISTEN): after LISTEN_WAIT_SECONDS the page polls instead,
    and an alert still reaches it."""
    monkeypatch.setenv("CASECENTER_LIVE_LISTEN_URL", "postgres://nobody@127.0.0.1:9/none")
    started = servers(tmp_path)
    try:
        server = next(started)()
        case = make_case()
        lead = streams(server.port, sessions(officers["lead"]))
        assert lead.count() == 0  # the first poll's count, once the wait is over
        alert = alert_on(case, "polled")
        assert lead.alert()[0] == alert.pk
        assert "listening connection lost" in server.output()
    finally:
        started.close()
