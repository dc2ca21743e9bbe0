"""``casecenter serve``: the application under uvicorn (uvloop, httptools), the
production server (docs/operations.md, "Serving", says why this one).

The command is the parent of ``--workers`` server processes sharing one socket:
it collects the static files (hashed names, gzip and Brotli copies, served by
WhiteNoise), then starts the workers, restarts one that dies, and on SIGTERM or
Ctrl-C stops them gracefully: no new connections, in-flight requests finish,
alert streams end at their next poll (``web.serving``), and whatever is still
open after ``--drain-seconds`` is cut.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

from django.conf import settings
from django.core.management.base import BaseCommand

APP = "casecenter.web.serving:application"


def default_workers() -> int:
    """One per CPU on PostgreSQL; one on SQLite, whose writers queue on one file lock
    anyway (more processes work on SQLite, ``--workers N``, but add no write capacity)."""
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        return 1
    return os.cpu_count() or 1


def server_environment() -> dict[str, str]:
    """What the worker processes are started with (they read the settings afresh)."""
    env = {"CASECENTER_STATIC_HASHED": "1"}
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        env["CASECENTER_DB_POOL"] = "1"  # a pool per process, not a connection per request
    return env


def collect_static() -> None:
    """``collectstatic`` with the hashed, compressed storage the workers serve from
    (a child process: this one's settings were read without it)."""
    subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "casecenter.cli", "collectstatic", "--noinput", "--verbosity", "0"],
        env={**os.environ, **server_environment()},
        check=True,
    )


def _supervisor(config, sock):
    from uvicorn.supervisors import Multiprocess

    class Supervisor(Multiprocess):
        """uvicorn's, but the listening socket is closed before the workers are told
        to stop: a new connection is refused at once (a load balancer tries another
        node) rather than left waiting in the backlog of a server that is leaving."""

        def terminate_all(self) -> None:
            sock.close()
            super().terminate_all()

        def keep_subprocess_alive(self) -> None:
            """uvicorn's; and a worker that died leaves the metrics' live sums
            (its open streams are not open any more)."""
            before = [process.pid for process in self.processes]
            super().keep_subprocess_alive()
            if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
                from prometheus_client import multiprocess

                for pid, process in zip(before, self.processes, strict=True):
                    if pid is not None and process.pid != pid:
                        multiprocess.mark_process_dead(pid)

    return Supervisor(config, sockets=[sock])


class Command(BaseCommand):
    help = "Serve casecenter under uvicorn with worker processes and a graceful shutdown."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="server processes (default: one per CPU on PostgreSQL, 1 on SQLite)",
        )
        parser.add_argument(
            "--drain-seconds",
            type=float,
            default=20.0,
            help="on SIGTERM, how long in-flight requests may take before they are cut",
        )
        parser.add_argument(
            "--access-log", action="store_true", help="log every request (off by default)"
        )
        parser.add_argument(
            "--no-collectstatic",
            action="store_true",
            help="the static files are already collected (a read-only installation)",
        )

    def handle(self, *args, **options):
        import uvicorn

        if not options["no_collectstatic"]:
            collect_static()
        os.environ.update(server_environment())
        workers = options["workers"] or default_workers()
        config = uvicorn.Config(
            APP,
            host=options["host"],
            port=options["port"],
            workers=workers,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            access_log=options["access_log"],
            timeout_graceful_shutdown=options["drain_seconds"],
            server_header=False,
            proxy_headers=False,  # X-Forwarded-* is read by Django (CASECENTER_TRUSTED_PROXIES)
            log_level="info",
        )
        self.stdout.write(
            f"Serving on http://{options['host']}:{options['port']}/ with {workers} "
            f"worker process{'es' if workers > 1 else ''} (uvicorn)"
        )
        self.stdout.flush()
        # /metrics adds up the workers' figures (ops.scrape): in the operator's
        # folder shared with the machine's other processes, or in one of our own
        own_metrics = None
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            own_metrics = tempfile.mkdtemp(prefix="casecenter-metrics-")
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = own_metrics
        # always worker processes, even one: they start with server_environment(),
        # and the parent restarts one that dies
        sock = config.bind_socket()
        try:
            _supervisor(config, sock).run()
        finally:
            sock.close()
            if own_metrics:
                shutil.rmtree(own_metrics, ignore_errors=True)
