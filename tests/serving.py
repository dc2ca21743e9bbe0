"""``casecenter serve`` as a real process in tests: uvicorn's workers on the test database.

The server runs against the test database itself (a file on SQLite, the
``test_…`` database on PostgreSQL) with the test's data folder (its secret key
signs the session a test logs in with). Every child is killed in ``finally``;
every wait has a generous timeout and nothing is timed.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings

from tests.supervision.test_worker_process import database_url

CASECENTER = Path(sys.executable).with_name("casecenter")
START_TIMEOUT = 120  # seconds: collectstatic, then the workers import Django
EXIT_TIMEOUT = 60  # seconds from SIGTERM to the exit (--drain-seconds is 30)


class Server:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log

    def connect(self, timeout: float = 30) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def get(self, path: str, **headers: str) -> tuple[http.client.HTTPResponse, bytes]:
        conn = self.connect()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            return response, response.read()
        finally:
            conn.close()

    def stop(self) -> int:
        """SIGTERM, and the exit status (within the bound)."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=EXIT_TIMEOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def servers(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start ``casecenter serve`` processes on the test database (the fixture
    ``start_server`` of the tests that use it); every one is killed at the end."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CASECENTER_DATA_DIR": str(settings.DATA_DIR),
        "PYTHONUNBUFFERED": "1",
    }
    command = [str(CASECENTER)] if CASECENTER.exists() else [sys.executable, "-m", "casecenter.cli"]
    servers: list[Server] = []

    def start(*options: str) -> Server:
        port = free_port()
        log = tmp_path / f"serve-{len(servers)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*command, "serve", "--port", str(port), "--drain-seconds", "30", *options],
                env=env,
                stdout=out,
                stderr=out,
                start_new_session=True,  # its workers are stopped with it in finally
            )
        server = Server(process, port, log)
        servers.append(server)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert process.poll() is None, server.output()
            try:
                if server.get("/api/health")[0].status == 200:
                    return server
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"the server did not answer in time:\n{server.output()}")

    try:
        yield start
    finally:
        for server in servers:
            if server.process.poll() is None:
                os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)
