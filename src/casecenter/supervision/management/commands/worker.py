"""``casecenter worker``: clocks → alerts, escalations, outbox relay, forever.

The audit log's sequencer runs beside the rounds in a thread of its own (its
own database connection), so a long sweep never delays integrating audit
entries; ``--no-sequencer`` leaves that to ``casecenter audit sequence``.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from casecenter.supervision.worker import run_once

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Raise alerts as clocks come due, escalate unacknowledged ones, relay the outbox."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one round, then exit")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between rounds (default 1)"
        )
        parser.add_argument(
            "--no-sequencer",
            action="store_true",
            help="do not integrate audit entries here (run `casecenter audit sequence`)",
        )

    def handle(self, *args, **options):
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        interval = max(0.05, min(options["interval"], 60.0))
        sequencer_stop = threading.Event()
        if not options["once"] and not options["no_sequencer"]:
            from casecenter.audit import sequencer, witness

            witness.folders()  # a bad witness setting stops the worker here, not later
            sequencer.start_thread(sequencer_stop)
        try:
            self._rounds(options, stopping, interval)
        finally:
            sequencer_stop.set()

    def _rounds(self, options, stopping, interval):
        while True:
            try:
                totals = run_once()
            except Exception:
                # A deadlock victim, a dropped connection, "database is locked", a
                # failing subscriber: the round's open transaction rolled back, so
                # the next round repeats it. A worker that died here would stop
                # every alert until someone restarted it.
                if options["once"]:
                    raise
                log.exception("worker round failed; trying again in %.2f s", interval)
                totals = {}
            # the alerts a round raised; the events it relayed too at -v 2 (the custody
            # area's devices make some every second, which would bury the rest)
            shown = {
                k: v
                for k, v in totals.items()
                if v and (k != "relayed" or options["verbosity"] > 1)
            }
            if shown and options["verbosity"] > 0:
                self.stdout.write(" ".join(f"{k}={v}" for k, v in shown.items()))
            if options["once"] and not options["no_sequencer"]:
                from casecenter.audit import sequencer

                sequencer.integrate_all()
            if options["once"] or stopping:
                return
            close_old_connections()
            time.sleep(interval)
