"""``casecenter demo``: migrate, load the demo world once, print logins, serve the UI
(``casecenter serve``, as in production) with the worker beside it."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.urls import NoReverseMatch, reverse

from casecenter.accounts.models import Organisation, User
from casecenter.demo import custody
from casecenter.demo.data import DEMO_PASSWORD, USERS, DemoBuilder, load
from casecenter.demo.fasttrack import ensure_ready_case
from casecenter.demo.mfa import DEMO_TOTP_SECRET, ensure_demo_authenticators
from casecenter.demo.property import CountExercise, count_exercise


class Command(BaseCommand):
    help = (
        "Set up the embedded demo: migrate, load demo data (once), add clocks that come "
        "due in the next minutes, serve on 127.0.0.1:8000 with the worker running."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="only load the data")
        parser.add_argument("--cases", type=int, default=300, help="how many incidents to load")
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address to serve on")

    def handle(self, *args, **options):
        call_command("migrate", verbosity=0, interactive=False)
        if Organisation.objects.exists():
            self.stdout.write("Demo data is already loaded.")
        else:
            count = max(1, min(options["cases"], 100_000))
            self.stdout.write(f"Loading {count} demo incidents and cases…")
            load(count, progress=self._progress)
        users = {u.username: u for u in User.objects.all()}
        if "zhangwei" in users:
            DemoBuilder(seed=None).live_scenario(users)
            self.stdout.write(
                "Live scenario added: log in as zhangwei — a detention clock warns in about "
                "90 s and another breaches in about 150 s (the bell in the header)."
            )
        ready = ensure_ready_case(DemoBuilder(seed=None), users)
        if ready is not None:
            self.stdout.write(
                f"Fast track (速裁): {ready.number} {ready.title} waits for a newcomer — "
                "log in as zhangwei and open it (docs/fasttrack.md walks all four organisations)."
            )
        edges = custody.edge_cases()
        if edges is not None:
            self.stdout.write(edges)
        exercise = count_exercise(create=True)  # opened again after a newcomer signed off
        if exercise is not None:
            self._print_property(exercise)
        witnesses = self._audit_log()
        self._print_logins()
        if options["no_serve"]:
            return
        host, _, port = options["addr"].rpartition(":")
        local = host in ("", "0.0.0.0")  # noqa: S104 - a listen address, read not bound
        url = f"http://{'127.0.0.1' if local else host}:{port}"
        # the worker sends the parties' notifications: their links point at this server
        env = {
            **os.environ,
            "CASECENTER_PUBLIC_URL": os.environ.get("CASECENTER_PUBLIC_URL", url),
            "CASECENTER_AUDIT_WITNESSES": " ".join(witnesses),
        }
        worker = subprocess.Popen([sys.executable, "-m", "casecenter.cli", "worker"], env=env)
        self.stdout.write(f"Worker started (pid {worker.pid}).")
        # the custody area's devices (wristbands, badges, cameras) over the HTTP path
        simulator = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [
                *(sys.executable, "-m", "casecenter.cli", "simulate", "--center", "hd-zx"),
                *("--via", "http", "--url", url, "--user", "zhaogang"),
                *("--speed", "60", "--minutes", "0", "--seed", "1", "--verbosity", "0"),
                *custody.simulator_options(),  # the broken cameras of the demo's history
            ]
        )
        self.stdout.write(
            f"Device simulator started (pid {simulator.pid}): people move through the "
            f"custody area at /custody/ (60× speed)."
        )
        self.stdout.write(f"Serving the UI on {url}/ (Ctrl-C stops all three)")
        try:
            # the production server (casecenter serve): SIGTERM or Ctrl-C stops it
            # gracefully, then the two children below
            call_command("serve", host=host or "127.0.0.1", port=int(port))
        finally:
            for child in (simulator, worker):
                child.terminate()
                child.wait(10)

    def _audit_log(self) -> list[str]:
        """Sequence the demo's audit entries and sign a head; the witness folder beside the data.

        Unless ``CASECENTER_AUDIT_WITNESSES`` says otherwise, the demo's checkpoints
        go to ``<data folder>-witness/`` — what a second machine or another
        organisation would keep in production (docs/audit-log.md).
        """
        from casecenter.audit import sequencer

        witnesses = list(settings.CASECENTER_AUDIT_WITNESSES)
        if not witnesses:
            data = settings.CASECENTER_DATA_DIR
            witnesses = [data.with_name(data.name + "-witness").as_uri()]
        placed = sequencer.integrate_all(witnesses=witnesses)
        self.stdout.write(
            f"Audit log: {placed} new entries sequenced and signed; its checkpoints are "
            f"witnessed in {' '.join(witnesses)} "
            "(casecenter audit verify --checkpoint <that folder>/checkpoint)."
        )
        return witnesses

    def _progress(self, done: int, total: int) -> None:
        percent = 100 * done // total
        if percent == getattr(self, "_last_percent", -1):
            return
        self._last_percent = percent
        if sys.stderr.isatty():
            filled = 40 * done // total
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (40 - filled)}] {done}/{total}")
            if done == total:
                sys.stderr.write("\n")
        elif percent % 10 == 0:
            sys.stderr.write(f"{percent}% ({done}/{total})\n")
        sys.stderr.flush()

    def _print_property(self, exercise: CountExercise) -> None:
        def path(name: str, *args: object) -> str:
            try:
                return reverse(name, args=args)
            except NoReverseMatch:  # the property pages are not installed
                return "/property/"

        write = self.stdout.write
        write(
            f"\nProperty (涉案财物): log in as zhaogang, the center's custodian. A count of the "
            f"property room is open at {path('property-count', exercise.count.pk)} with every "
            f"shelf scanned but {exercise.shelf}; scan these labels there (type each, Enter), "
            "then sign off:"
        )
        for label, item in zip(exercise.labels, [None, *exercise.found], strict=True):
            write(f"  {label:<20} {item.description if item else '(the shelf label)'}")
        lost, misplaced = exercise.lost, exercise.misplaced
        write(
            f"Signing off shows 1 missing ({lost.number}, {lost.description}: recorded on "
            f"{exercise.shelf}, not there) and 1 misplaced ({misplaced.number}: recorded on "
            f"{misplaced.location.code}, found on {exercise.shelf})."
        )
        write(
            f"To follow one item: as zhangwei register a seized item on a case, print its "
            f"label, and as zhaogang scan it at {path('property-scan')} to receive, store, "
            "check it out for appraisal and back. Docs: docs/property.md"
        )

    def _print_logins(self) -> None:
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
        for username, name, _sex, role, org, _unit in USERS:
            self.stdout.write(f"  {username:<10} {name:<6} {role.label} · {org}")
        with_mfa = ensure_demo_authenticators()  # also for a world loaded before MFA
        if with_mfa:
            names = ", ".join(sorted(u.username for u in with_mfa))
            self.stdout.write(
                f"MFA: {names} are asked for a code after the password. Get it with "
                "`casecenter totp USERNAME`, "
                f"or add the demo key {DEMO_TOTP_SECRET} to an authenticator app "
                "(demo only: the key is public)."
            )
