"""``casecenter resetpassword USERNAME``: set a password the user must change.

Like an administrator's reset in the admin site: the user's sessions end, their
API tokens are revoked, and the next login leads to the password change. The
password is read from the terminal (twice), never from the command line.
"""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError

from casecenter.accounts.models import User
from casecenter.accounts.services import reset_password
from casecenter.errors import DomainError


class Command(BaseCommand):
    help = "Reset a user's password; the user must change it at the next login."
    requires_system_checks: list[str] = []  # no system checks: they import the whole API

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        first = getpass.getpass("New password: ")
        if first != getpass.getpass("Again: "):
            raise CommandError("the two passwords differ")
        try:
            reset_password(None, user, first)
        except DomainError as exc:
            raise CommandError(exc.message_en) from exc
        self.stdout.write(f"password of {username} reset; it must be changed at the next login")
