"""``casecenter totp USERNAME``: the current code of a demo user's authenticator.

Only for the demo authenticator (its secret is published, see demo/mfa.py): a
user who enrolled an authenticator of their own gets nothing from here.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from casecenter.accounts import mfa
from casecenter.accounts.models import User
from casecenter.demo.mfa import current_code, is_demo_device


class Command(BaseCommand):
    help = "Print the current MFA code of a demo user (demo authenticator only)."
    requires_system_checks: list[str] = []  # no system checks: they import the whole API

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["username"]).first()
        device = mfa.totp_device(user) if user is not None else None
        if not is_demo_device(device):
            raise CommandError(
                f"{options['username']} has no demo authenticator: use their own app."
            )
        self.stdout.write(current_code(device))
