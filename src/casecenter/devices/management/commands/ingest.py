"""``casecenter ingest``: wristbands, badges and cameras over MQTT into custody state."""

from __future__ import annotations

import json
import logging
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from casecenter.devices.ingest import Ingester


class Command(BaseCommand):
    help = (
        "Subscribe to the device topics (QoS 1, persistent session), apply events in "
        "batches, acknowledge after commit, publish camera commands."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default=None, help="mqtt://host:port (default: CASECENTER_MQTT_URL)"
        )
        parser.add_argument(
            "--client-id",
            default="casecenter-ingest",
            help="fixed MQTT client id: the broker keeps this session's messages while it is away",
        )
        parser.add_argument("--batch", type=int, default=500, help="messages per transaction")
        parser.add_argument(
            "--linger-ms", type=int, default=50, help="wait at most this long to fill a batch"
        )
        parser.add_argument(
            "--resend-after",
            type=float,
            default=3.0,
            help="seconds before an unconfirmed camera command is sent again",
        )
        parser.add_argument(
            "--session-expiry",
            type=int,
            default=7 * 86_400,
            help="seconds the broker keeps the session while the ingester is away",
        )
        parser.add_argument(
            "--share",
            default=None,
            metavar="GROUP",
            help="share the devices with the other ingesters of GROUP (MQTT 5 shared "
            "subscription; each its own --client-id). Default: CASECENTER_MQTT_SHARE_GROUP, "
            "empty = not shared",
        )

    def handle(self, *args, **options):
        if options["verbosity"] > 1:
            logging.getLogger("casecenter.devices").setLevel(logging.INFO)
        try:
            ingester = Ingester(
                options["url"] or settings.CASECENTER_MQTT_URL,
                client_id=options["client_id"],
                batch=min(max(options["batch"], 1), 10_000),
                linger=min(max(options["linger_ms"], 0), 10_000) / 1000,
                resend_after=max(options["resend_after"], 0.5),
                session_expiry=max(options["session_expiry"], 0),
                share_group=(
                    settings.CASECENTER_MQTT_SHARE_GROUP
                    if options["share"] is None
                    else options["share"]
                ),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        signal.signal(signal.SIGTERM, lambda *_: ingester.stop())
        signal.signal(signal.SIGINT, lambda *_: ingester.stop())
        totals = ingester.run()
        if options["verbosity"] > 0:
            self.stdout.write(json.dumps(totals.as_dict()))
