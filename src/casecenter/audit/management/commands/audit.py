"""``casecenter audit``: verify the audit log, show an entry, tail the log.

Subcommands are methods named ``handle_<name>``; ``prove`` and ``sign`` (signed
tree heads and inclusion proofs, a later issue) slot in beside them.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from casecenter.audit.canonical import format_at
from casecenter.audit.models import AuditEntry
from casecenter.audit.verify import verify_log

#: Logs shorter than this verify too fast to need a progress indication.
PROGRESS_MIN_ENTRIES = 10_000


def entry_as_dict(entry: AuditEntry) -> dict[str, Any]:
    """An entry as plain JSON values: its canonical fields plus its two hashes."""
    return {
        "seq": entry.seq,
        "at": format_at(entry.at),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "reason": entry.reason,
        "data": entry.data,
        "leaf_hash": bytes(entry.leaf_hash).hex(),
        "tree_root": bytes(entry.tree_root).hex(),
    }


class Command(BaseCommand):
    help = "Work with the tamper-evident audit log: verify it, show an entry, tail it."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")

        verify = commands.add_parser(
            "verify", help="recompute every leaf and tree root; exit 1 at the first tampered entry"
        )
        verify.add_argument(
            "--json", action="store_true", dest="as_json", help="print the report as JSON"
        )

        show = commands.add_parser("show", help="print one entry as JSON")
        show.add_argument("seq", type=int, help="the entry's sequence number")

        tail = commands.add_parser("tail", help="print the last entries, oldest first")
        tail.add_argument("-n", type=int, default=20, dest="count", help="how many (default 20)")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['subcommand']}")(**options)

    def handle_verify(self, *, as_json: bool = False, verbosity: int = 1, **_: Any) -> None:
        report = verify_log(progress=self._progress if verbosity >= 1 else None)
        if as_json:
            self.stdout.write(_dumps(report.as_dict()))
        elif report.ok:
            self.stdout.write(f"audit log OK: {report.size} entries, root {report.root}")
        elif report.first_bad_seq is None:
            self.stdout.write(f"audit log TAMPERED: {report.problem}")
        else:
            self.stdout.write(
                f"audit log TAMPERED at entry #{report.first_bad_seq}: {report.problem}"
            )
        if not report.ok:
            sys.exit(1)

    def _progress(self, done: int, total: int) -> None:
        """Report every 10 % of a long log on stderr (not entries appended meanwhile)."""
        if total < PROGRESS_MIN_ENTRIES or done > total:
            return
        if done * 10 // total > (done - 1) * 10 // total:  # crossed into the next tenth
            self.stderr.write(f"verified {done}/{total} entries ({done * 100 // total} %)")

    def handle_show(self, *, seq: int, **_: Any) -> None:
        entry = AuditEntry.objects.filter(seq=seq).first()
        if entry is None:
            raise CommandError(f"there is no audit entry #{seq}")
        self.stdout.write(_dumps(entry_as_dict(entry), indent=2))

    def handle_tail(self, *, count: int, **_: Any) -> None:
        if count < 1:
            raise CommandError("-n must be at least 1")
        entries = reversed(list(AuditEntry.objects.order_by("-seq")[:count]))
        for entry in entries:
            target = f"{entry.object_type}:{entry.object_id}" if entry.object_type else "-"
            actor = entry.actor_name
            if entry.actor_id is not None:
                actor += f"[{entry.actor_id}]"
            line = f"#{entry.seq} {format_at(entry.at)} {actor} {entry.action} {target}"
            if entry.reason:
                line += f" — {entry.reason}"
            self.stdout.write(line)


def _dumps(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=indent is None)
