"""``casecenter simulate``: a day of the custody area's devices, over HTTP or MQTT."""

from __future__ import annotations

import json
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from casecenter.accounts.models import Organisation, OrganisationKind, User
from casecenter.accounts.services import issue_api_token, revoke_api_token
from casecenter.devices import protocol
from casecenter.devices.gateway import HttpLink, MqttLink, Refused, play
from casecenter.devices.simulator import Breakdown, World, load_world, open_people


class Command(BaseCommand):
    help = (
        "Play a realistic day of a center's wristbands, badges and cameras through the "
        "HTTP endpoint or MQTT (people in the area walk the zones, vital signs, battery, "
        "cameras answering casecenter's commands)."
    )
    requires_system_checks: list[str] = []  # no system checks: they import the whole API

    def add_arguments(self, parser):
        parser.add_argument("--center", help="the center's code (default: the only center)")
        parser.add_argument("--via", choices=["http", "mqtt"], default="http")
        parser.add_argument(
            "--url",
            help="http://host:port of casecenter (--via http) or mqtt://host:port "
            "(--via mqtt, default CASECENTER_MQTT_URL)",
        )
        parser.add_argument("--token", help="bearer token of a gateway account (--via http)")
        parser.add_argument(
            "--user",
            help="instead of --token: issue a token for this custody-staff account "
            "for the run (revoked at the end)",
        )
        parser.add_argument("--speed", type=float, default=60.0, help="60 = a minute a second")
        parser.add_argument(
            "--minutes", type=float, default=24 * 60, help="simulated minutes (0: until stopped)"
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--tick",
            type=float,
            default=0.5,
            help="seconds between sends: the events of a tick go in one request (one batch)",
        )
        parser.add_argument("--client-id", default=None, help="MQTT client id of the gateway")
        parser.add_argument(
            "--silent-camera",
            action="append",
            default=[],
            metavar="CODE",
            help="a camera that never answers a command (repeatable); its room is kept as it is",
        )
        parser.add_argument(
            "--camera-fault",
            action="append",
            default=[],
            metavar="CODE=FAULT",
            help="a camera that answers every command 'not recording' with this fault code, "
            "e.g. ZX-CAM-HH-5-1=disk_full (repeatable)",
        )

    def handle(self, *args, **options):
        center = self._center(options["center"])
        world = load_world(center)
        breakdown = self._breakdown(world, options["silent_camera"], options["camera_fault"])
        token_row = None
        if options["via"] == "http":
            url = options["url"] or "http://127.0.0.1:8000"
            token = options["token"]
            if not token:
                if not options["user"]:
                    raise CommandError("--via http needs --token or --user")
                user = User.objects.filter(username=options["user"], is_active=True).first()
                if user is None:
                    raise CommandError(f"no active user {options['user']!r}")
                token_row, token = issue_api_token(user, name="casecenter simulate")
            link = HttpLink(url, token, center)
        else:
            try:
                link = MqttLink(
                    options["url"] or settings.CASECENTER_MQTT_URL,
                    center,
                    options["client_id"] or f"casecenter-simulate-{center}",
                )
            except (ValueError, ConnectionError) as exc:
                raise CommandError(str(exc)) from exc
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        if options["verbosity"] > 0:
            self.stdout.write(
                f"Simulating {center}: {len(world.people)} people in the area, "
                f"{sum(map(len, world.zones.values()))} zones, {len(world.badges)} badges, "
                f"via {options['via']} at {options['speed']:g}x."
            )
            for camera in sorted(breakdown.silent):
                self.stdout.write(f"  camera {camera} never answers")
            for camera, fault in sorted(breakdown.faults.items()):
                self.stdout.write(f"  camera {camera} answers with the fault {fault}")
        try:
            played = play(
                world,
                link,
                seed=options["seed"],
                speed=max(options["speed"], 0.01),
                minutes=max(options["minutes"], 0),
                people=lambda: open_people(center),
                tick=min(max(options["tick"], 0.01), 5.0),
                stop=stop,
                breakdown=breakdown,
            )
        except Refused as exc:
            raise CommandError(f"casecenter refused the events: {exc}") from exc
        finally:
            link.close()
            if token_row is not None:
                revoke_api_token(token_row.user, token_row)
        if options["verbosity"] > 0:
            self.stdout.write(json.dumps(vars(played)))

    def _breakdown(self, world: World, silent: list[str], faults: list[str]) -> Breakdown:
        """The broken cameras asked for, each one of the center's."""
        faulty: dict[str, str] = {}
        for item in faults:
            camera, _, fault = item.partition("=")
            if not protocol.FAULT_RE.fullmatch(fault):
                raise CommandError(
                    f"--camera-fault {item!r}: say CODE=FAULT, the fault 1-40 of a-z 0-9 _ . -"
                )
            faulty[camera] = fault
        unknown = sorted((set(silent) | set(faulty)) - set(world.cameras))
        if unknown:
            raise CommandError(f"{world.center} has no camera {', '.join(unknown)}")
        if set(silent) & set(faulty):
            raise CommandError("a camera is either silent or faulty, not both")
        return Breakdown(silent=frozenset(silent), faults=faulty)

    def _center(self, code: str | None) -> str:
        centers = Organisation.objects.filter(kind=OrganisationKind.CASE_CENTER)
        if code:
            if not centers.filter(code=code).exists():
                raise CommandError(f"no center with the code {code!r}")
            return code
        codes = list(centers.values_list("code", flat=True))
        if len(codes) != 1:
            raise CommandError(f"say which center: --center one of {codes}")
        return codes[0]
