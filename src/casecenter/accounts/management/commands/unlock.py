"""``casecenter unlock USERNAME [--ip ADDRESS]``: lift a login lockout (audited)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from casecenter.accounts.services import unlock_account
from casecenter.errors import DomainError


class Command(BaseCommand):
    help = "Lift the login lockout of an account (and of a client address)."
    requires_system_checks: list[str] = []  # no system checks: they import the whole API

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--ip", default=None, help="also unlock this client address")

    def handle(self, *args, username: str, ip: str | None, **options) -> None:
        try:
            cleared = unlock_account(None, username, ip_address=ip)
        except DomainError as exc:
            raise CommandError(exc.message_en) from exc
        self.stdout.write(f"unlocked {username} ({cleared} failure counters cleared)")
