"""``flush`` that also works on SQLite once the audit log is append-only.

Django's ``flush`` (run by hand, and after every transactional test) erases a
SQLite table with ``DELETE FROM``, which the audit log's trigger refuses; on
PostgreSQL it uses ``TRUNCATE``, which row triggers do not see. So on SQLite
this command lifts the guard, flushes and installs the guard again, all in one
transaction: a flush erases the audit log on both engines, and nothing else can.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as DjangoFlushCommand
from django.db import connections, transaction

from casecenter.audit import triggers
from casecenter.audit.models import AuditEntry


class Command(DjangoFlushCommand):
    requires_system_checks: list[str] = []  # a flush needs no URLconf, nor the API it imports

    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        table = AuditEntry._meta.db_table
        if connection.vendor != "sqlite" or table not in connection.introspection.table_names():
            super().handle(**options)
            return
        if options["interactive"] and not self._confirmed(connection.settings_dict["NAME"]):
            self.stdout.write("Flush cancelled.")
            return
        with transaction.atomic(using=connection.alias):
            triggers.remove(connection, table)
            super().handle(**{**options, "interactive": False})
            triggers.install(connection, table)

    def _confirmed(self, name: str) -> bool:
        answer = input(
            f'This will IRREVERSIBLY DESTROY all data in the "{name}" database, '
            "the audit log included.\nType 'yes' to continue, or 'no' to cancel: "
        )
        return answer == "yes"
