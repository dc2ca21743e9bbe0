"""``casecenter outbox relay``: the outbox relay alone, in a loop (docs/events.md).

The worker relays the outbox too, at the end of every round; run this beside it
(or alone) where the event bus should not wait behind a long sweep. Killed at
any instant it loses nothing: the rows it had published but not yet marked are
published again, and JetStream drops the copies by their ``Nats-Msg-Id``.

``casecenter outbox schemas --write`` regenerates docs/events/*.schema.json;
``--check`` fails while they differ from the code.
"""

from __future__ import annotations

import logging
import signal
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Relay the outbox (to NATS JetStream when CASECENTER_NATS_URL is set); event schemas."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        relay = sub.add_parser("relay", help="relay outbox events, forever (or --once)")
        relay.add_argument("--once", action="store_true", help="relay what is pending, then exit")
        relay.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
        relay.add_argument("--batch", type=int, default=500, help="events per transaction")
        schemas = sub.add_parser("schemas", help="the JSON Schemas of the event types")
        schemas.add_argument("--write", metavar="DIR", help="write them to DIR (docs/events)")
        schemas.add_argument("--check", metavar="DIR", help="fail if DIR differs from the code")

    def handle(self, *args, **options):
        if options["action"] == "relay":
            return self._relay(options)
        return self._schemas(options)

    def _relay(self, options):
        from casecenter.outbox import bus
        from casecenter.supervision.worker import relay_outbox

        stopping: list[bool] = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        if bus.enabled():
            bus.connect()  # the stream is created or updated here, before any event
            self.stdout.write(f"publishing to {bus.stream_config()['name']} at {bus.prefix()}.>")
        interval = max(0.01, min(options["interval"], 60.0))
        batch = max(1, options["batch"])
        try:
            while not stopping:
                try:
                    relayed = 0
                    while not stopping:
                        duplicates = bus.counts["duplicates"]
                        if not (n := relay_outbox(batch)):
                            break
                        relayed += n
                        if options["verbosity"] > 1:  # each batch, as it commits
                            self.stdout.write(
                                f"batch={n} duplicates={bus.counts['duplicates'] - duplicates}"
                            )
                except Exception:
                    if options["once"]:
                        raise
                    log.exception("outbox relay failed; trying again in %.2f s", interval)
                    relayed = 0
                if relayed and options["verbosity"] > 0:
                    self.stdout.write(
                        f"relayed={relayed} published={bus.counts['published']} "
                        f"duplicates={bus.counts['duplicates']}"
                    )
                if options["once"]:
                    return
                close_old_connections()
                time.sleep(interval)
        finally:
            bus.disconnect()

    def _schemas(self, options):
        from casecenter.outbox import schemas

        files = schemas.rendered()
        if options["write"]:
            folder = Path(options["write"])
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("*.schema.json"):
                if old.name not in files:
                    old.unlink()
            for name, text in files.items():
                (folder / name).write_text(text, encoding="utf-8")
            self.stdout.write(f"{len(files)} schemas in {folder}")
        elif options["check"]:
            folder = Path(options["check"])
            have = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.schema.json")}
            stale = sorted(n for n in {*files, *have} if files.get(n) != have.get(n))
            if stale:
                raise CommandError(
                    f"{len(stale)} schemas differ from the code ({', '.join(stale[:5])}…): "
                    f"run `casecenter outbox schemas --write {folder}`"
                )
            self.stdout.write(f"{len(files)} schemas match the code")
        else:
            for name in files:
                self.stdout.write(name.removesuffix(".schema.json"))
