"""``casecenter serve`` as a real process: uvicorn's workers on the test database.

The server runs against the test database itself (a file on SQLite, the
``test_…`` database on PostgreSQL) with the test's data folder (its secret key
signs the session a test logs in with). Every child is killed in ``finally``;
every wait has a generous timeout and nothing is timed.
"""

from __future__ import annotations

import gzip
import re
import signal
import time
from collections.abc import Callable, Iterator

import brotli
import pytest
from django.conf import settings
from django.test import Client

from tests.serving import EXIT_TIMEOUT, Server, servers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def start_server(tmp_path) -> Iterator[Callable[..., Server]]:
    yield from servers(tmp_path)


def test_the_server_answers_health_and_the_login_page(start_server):
    server = start_server()
    response, body = server.get("/api/health")
    assert (response.status, response.getheader("Content-Type")) == (
        200,
        "application/json; charset=utf-8",
    )
    assert b'"status": "ok"' in body
    response, body = server.get("/login/")
    assert response.status == 200
    assert b'name="csrfmiddlewaretoken"' in body and b'name="password"' in body
    assert response.getheader("Server") is None  # no server banner
    assert server.stop() == 0


def test_static_files_are_hashed_cached_for_a_year_and_compressed(start_server):
    server = start_server()
    page = server.get("/login/")[1].decode()
    (script,) = re.findall(r'src="(/static/casecenter/page\.[0-9a-f]{12}\.js)"', page)
    response, plain = server.get(script)
    assert response.status == 200
    assert response.getheader("Cache-Control") == "max-age=315360000, public, immutable"
    assert b"addEventListener" in plain
    response, packed = server.get(script, **{"Accept-Encoding": "gzip"})
    assert (response.getheader("Content-Encoding"), gzip.decompress(packed)) == ("gzip", plain)
    response, packed = server.get(script, **{"Accept-Encoding": "gzip, br"})
    assert (response.getheader("Content-Encoding"), brotli.decompress(packed)) == ("br", plain)
    assert "Accept-Encoding" in response.getheader("Vary")
    assert server.stop() == 0


def test_a_request_in_flight_at_sigterm_is_answered_before_the_exit(start_server):
    server = start_server()
    conn = server.connect()
    conn.request("GET", "/login/")
    login = conn.getresponse()
    form = login.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]
    cookie = login.getheader("Set-Cookie").split(";")[0]
    body = f"csrfmiddlewaretoken={token}&username=nobody&password=wrong-password".encode()
    # the headers and half the body: the request is in the server's hands...
    conn.putrequest("POST", "/login/")
    conn.putheader("Content-Type", "application/x-www-form-urlencoded")
    conn.putheader("Content-Length", str(len(body)))
    conn.putheader("Cookie", cookie)
    conn.putheader("Referer", f"http://127.0.0.1:{server.port}/login/")
    conn.endheaders(body[:20])
    time.sleep(0.5)
    server.process.send_signal(signal.SIGTERM)
    time.sleep(1)
    assert server.process.poll() is None  # ...so the server waits for it
    with pytest.raises(ConnectionRefusedError):  # and takes no new connection meanwhile
        server.connect(timeout=5).connect()
    conn.send(body[20:])
    answer = conn.getresponse()
    assert answer.status == 200, server.output()  # the login page again, with its error
    assert "password" in answer.read().decode()
    assert server.process.wait(timeout=EXIT_TIMEOUT) == 0
    assert "Received SIGTERM" in server.output()


def test_sigterm_ends_an_open_alert_stream_and_the_server_exits(start_server, make_user):
    client = Client()
    client.force_login(make_user("lead"))  # a case officer: alerted, no second factor
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    server = start_server()
    conn = server.connect()
    conn.request("GET", "/events/", headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"})
    stream = conn.getresponse()
    assert (stream.status, stream.getheader("Content-Type")) == (
        200,
        "text/event-stream; charset=utf-8",
    )
    assert stream.readline() == b"retry: 3000\n"  # sent at once, not held back
    server.process.send_signal(signal.SIGTERM)
    rest = stream.read()  # to the end of the chunked body: no IncompleteRead
    assert b'event: count\ndata: {"open":' in rest or rest.strip() == b""
    assert stream.isclosed()
    assert server.process.wait(timeout=EXIT_TIMEOUT) == 0
    assert "timeout graceful shutdown exceeded" not in server.output()


def test_metrics_add_up_every_worker_process(start_server):
    """Each request reaches one of the two workers; /metrics, answered by either,
    counts all of them (serve gives the workers one multiprocess folder)."""
    server = start_server("--workers", "2")
    for _ in range(24):  # a new connection each: the kernel spreads them over both
        assert server.get("/healthz")[0].status == 200
    _, body = server.get("/metrics")
    counted = re.search(
        rb'casecenter_http_request_duration_seconds_count\{[^}]*route="healthz"[^}]*\} (\S+)', body
    )
    assert counted is not None, body[:2000]
    assert float(counted.group(1)) == 24
