"""``casecenter audit``: the transparency log from the command line.

    audit verify [--checkpoint FILE]… [--key VKEY]… [--json]
    audit sequence [--once]           integrate waiting entries (the worker does it too)
    audit checkpoint [--out FILE]     the latest signed checkpoint
    audit prove SEQ [--out FILE]      an inclusion proof bundle against the latest checkpoint
    audit check-proof FILE --key VKEY offline: no database, only the log's public key
    audit public-key                  the log's verifier keys (retired ones too)
    audit rotate-key                  retire the signing key, make a new one
    audit show SEQ | audit tail [-n 20]

As a witness of other organisations' logs (docs/witness.md):

    audit witness-key                 this casecenter's witness verifier key
    audit witness-log add ORIGIN VKEY…  follow a log (or trust more of its keys)
    audit witness-log list            the logs followed and what was cosigned of each
    audit witness-log show ORIGIN [--out FILE]   the latest cosigned checkpoint

No system checks: the command never needs the URLconf or the API, so it starts
in a fraction of a second (``bench/cli_startup.py``).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

#: Logs shorter than this verify too fast to need a progress bar.
PROGRESS_MIN_ENTRIES = 100_000


def entry_as_dict(entry: Any) -> dict[str, Any]:
    """An entry as plain JSON: its place, its leaf's fields and its leaf hash."""
    from casecenter.audit.canonical import parse_leaf

    return {
        "seq": entry.seq,
        "id": entry.id,
        **{k: v for k, v in parse_leaf(entry.leaf).items() if k != "v"},
        "leaf": entry.leaf,
        "leaf_hash": bytes(entry.leaf_hash).hex(),
    }


class _Bar:
    """A tqdm progress bar on stderr, opened on the first report of a long job."""

    def __init__(self, command: BaseCommand, what: str, minimum: int, verbosity: int) -> None:
        self.command, self.what, self.minimum, self.verbosity = command, what, minimum, verbosity
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.verbosity < 1 or total < self.minimum:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=self.what, unit=" entries", unit_scale=True)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _read(path: str) -> str:
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None


def _write(path: str | None, text: str, stdout: Any) -> None:
    if path is None or path == "-":
        stdout.write(text, ending="")
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc}") from None


def _keys(values: list[str], files: list[str]) -> list[Any]:
    from casecenter.audit import note

    texts = list(values)
    for path in files:
        texts += [line.strip() for line in _read(path).splitlines() if line.strip()]
    keys = []
    for text in texts:
        try:
            keys.append(note.parse_verifier_key(text))
        except note.NoteError as exc:
            raise CommandError(f"bad verifier key {text[:40]!r}: {exc}") from None
    return keys


class Command(BaseCommand):
    help = "The tamper-evident audit log: verify, sequence, checkpoints, proofs, keys."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")

        verify = commands.add_parser(
            "verify",
            help="recompute the log; exit 1 naming the first problem (tampering, truncation)",
        )
        verify.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="FILE",
            help="a signed checkpoint kept outside the database; the log must extend it "
            "(repeatable; - reads standard input)",
        )
        self._add_key_options(verify, "trust these keys instead of those in the database")
        verify.add_argument(
            "--json", action="store_true", dest="as_json", help="print the report as JSON"
        )

        sequence = commands.add_parser(
            "sequence", help="integrate waiting entries into the tree, forever (or --once)"
        )
        sequence.add_argument("--once", action="store_true", help="until none waits, then exit")

        checkpoint = commands.add_parser("checkpoint", help="print the latest signed checkpoint")
        checkpoint.add_argument("--out", metavar="FILE", help="write it to FILE")

        prove = commands.add_parser(
            "prove", help="an inclusion proof of entry SEQ against the latest checkpoint (JSON)"
        )
        prove.add_argument("seq", type=int, help="the entry's sequence number")
        prove.add_argument("--out", metavar="FILE", help="write it to FILE")

        check = commands.add_parser(
            "check-proof", help="verify a proof bundle offline with only the log's public key"
        )
        check.add_argument("file", metavar="FILE", help="the proof bundle (- for stdin)")
        self._add_key_options(check, "the log's verifier key (required, repeatable)")
        check.add_argument("--origin", help="require the checkpoint to be of this log")

        commands.add_parser("public-key", help="print the log's verifier keys, newest last")
        commands.add_parser("rotate-key", help="retire the signing key and make a new one")

        show = commands.add_parser("show", help="print one entry as JSON")
        show.add_argument("seq", type=int, help="the entry's sequence number")

        tail = commands.add_parser("tail", help="print the last entries, oldest first")
        tail.add_argument("-n", type=int, default=20, dest="count", help="how many (default 20)")

        commands.add_parser(
            "witness-key", help="print this casecenter's witness verifier key (made on first use)"
        )
        witnessed = commands.add_parser(
            "witness-log", help="the other organisations' logs this casecenter witnesses"
        )
        actions = witnessed.add_subparsers(dest="action", required=True, metavar="ACTION")
        add = actions.add_parser(
            "add", help="witness the log ORIGIN signed by VKEY (again: trust more of its keys)"
        )
        add.add_argument(
            "origin", metavar="ORIGIN", help="the log's origin, its checkpoints' first line"
        )
        add.add_argument("vkeys", nargs="*", metavar="VKEY", help="the log's verifier keys")
        add.add_argument(
            "--key-file",
            action="append",
            default=[],
            metavar="FILE",
            help="verifier keys, one per line",
        )
        actions.add_parser("list", help="the logs witnessed, their cosigned size and time")
        show = actions.add_parser("show", help="the latest checkpoint cosigned of a log")
        show.add_argument("origin", metavar="ORIGIN")
        show.add_argument("--out", metavar="FILE", help="write it to FILE (for audit verify)")

    @staticmethod
    def _add_key_options(parser: Any, text: str) -> None:
        parser.add_argument("--key", action="append", default=[], metavar="VKEY", help=text)
        parser.add_argument(
            "--key-file",
            action="append",
            default=[],
            metavar="FILE",
            help="verifier keys, one per line",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "handle_" + options["subcommand"].replace("-", "_"))(**options)

    # -- verify ------------------------------------------------------------------------

    def handle_verify(
        self,
        *,
        checkpoint: list[str],
        key: list[str],
        key_file: list[str],
        as_json: bool = False,
        verbosity: int = 1,
        **_: Any,
    ) -> None:
        from casecenter.audit.verify import GivenCheckpoint, verify_log

        given = [GivenCheckpoint(path, _read(path)) for path in checkpoint]
        trusted = _keys(key, key_file) if key or key_file else None
        bar = _Bar(self, "verify", PROGRESS_MIN_ENTRIES, 0 if as_json else verbosity)
        try:
            report = verify_log(progress=bar, checkpoints=given, keys=trusted)
        finally:
            bar.close()
        if as_json:
            self.stdout.write(_dumps(report.as_dict()))
        elif report.ok:
            line = f"audit log OK: {report.size} entries, root {report.root}"
            if report.checkpoints:
                line += f"; consistent with {report.checkpoints} signed checkpoints"
            if report.waiting:
                line += f"; {report.waiting} entries waiting to be sequenced"
            self.stdout.write(line)
        elif report.first_bad_seq is None:
            self.stdout.write(f"audit log TAMPERED: {report.problem}")
        else:
            self.stdout.write(
                f"audit log TAMPERED at entry #{report.first_bad_seq}: {report.problem}"
            )
        if not report.ok:
            sys.exit(1)

    # -- sequence ----------------------------------------------------------------------

    def handle_sequence(self, *, once: bool, verbosity: int = 1, **_: Any) -> None:
        from casecenter.audit import sequencer, witness
        from casecenter.audit.models import AuditEntry

        witness.folders()  # a bad witness setting stops here, not on the first batch
        if once:
            waiting = AuditEntry.objects.filter(seq__isnull=True).count()
            bar = _Bar(self, "sequence", PROGRESS_MIN_ENTRIES, verbosity)
            placed = 0
            while (done := sequencer.integrate()) is not None:
                placed += done.count
                bar(min(placed, waiting), max(waiting, placed))
            bar.close()
            if verbosity:
                self.stdout.write(f"{placed} entries sequenced")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        report = (
            (lambda d: self.stdout.write(f"tree size {d.size} (+{d.count})"))
            if (verbosity > 1)
            else None
        )
        sequencer.run(stop, on_batch=report)

    # -- checkpoints and proofs --------------------------------------------------------

    def handle_checkpoint(self, *, out: str | None, **_: Any) -> None:
        from casecenter.audit.models import AuditHead

        head = AuditHead.objects.filter(pk=AuditHead.SINGLETON_PK).first()
        if head is None or not head.checkpoint:
            raise CommandError(
                "no signed checkpoint yet: the log has no sequenced entry "
                "(run `casecenter audit sequence --once` or the worker)"
            )
        _write(out, head.checkpoint, self.stdout)

    def handle_prove(self, *, seq: int, out: str | None, **_: Any) -> None:
        from casecenter.audit import proofs
        from casecenter.audit.models import AuditEntry, AuditHead

        head = AuditHead.objects.filter(pk=AuditHead.SINGLETON_PK).first()
        entry = AuditEntry.objects.filter(seq=seq).only("seq", "leaf").first()
        if entry is None or head is None or not 0 <= seq < head.size:
            raise CommandError(f"entry #{seq} is not in the log (yet): nothing to prove")
        try:
            bundle = proofs.bundle(seq, entry.leaf, head.checkpoint, head.size)
        except proofs.ProofError as exc:
            raise CommandError(str(exc)) from None
        _write(out, _dumps(bundle, indent=2) + "\n", self.stdout)

    def handle_check_proof(
        self, *, file: str, key: list[str], key_file: list[str], origin: str | None, **_: Any
    ) -> None:
        from casecenter.audit import proofs

        keys = _keys(key, key_file)
        if not keys:
            raise CommandError("give the log's verifier key with --key or --key-file")
        try:
            checked = proofs.check_bundle(_read(file), keys, origin)
        except proofs.BadProof as exc:
            self.stdout.write(f"proof FAILED: {exc}")
            sys.exit(1)
        entry = checked.entry
        self.stdout.write(
            f"proof OK: entry #{checked.index} ({entry.get('action', '?')} by "
            f"{entry.get('actor_name', '?')} at {entry.get('at', '?')}) is in the log "
            f"{checked.checkpoint.origin} of {checked.checkpoint.size} entries, "
            f"signed by {', '.join(checked.signed_by)}"
        )

    # -- keys --------------------------------------------------------------------------

    def handle_public_key(self, **_: Any) -> None:
        from casecenter.audit import signing

        signing.active_key()
        for verifier in signing.verifiers():
            self.stdout.write(verifier.verifier_key())

    def handle_rotate_key(self, **_: Any) -> None:
        from casecenter.audit import signing

        key = signing.rotate()
        self.stdout.write(f"new log key {key}; the retired keys still verify what they signed")
        self.stdout.write(signing.verifier(key).verifier_key())

    # -- witnessing other logs ---------------------------------------------------------

    def handle_witness_key(self, **_: Any) -> None:
        from casecenter.audit import witness_server

        self.stdout.write(witness_server.verifier_key())

    def handle_witness_log(self, *, action: str, **options: Any) -> None:
        getattr(self, "_witness_log_" + action)(**options)

    def _witness_log_add(
        self, *, origin: str, vkeys: list[str], key_file: list[str], **_: Any
    ) -> None:
        from casecenter.audit import note, witness_server

        texts = list(vkeys)
        for path in key_file:
            texts += [line.strip() for line in _read(path).splitlines() if line.strip()]
        try:
            row = witness_server.follow_log(None, origin, texts)
        except (ValueError, note.NoteError) as exc:
            raise CommandError(str(exc)) from None
        count = len(witness_server.log_verifiers(row.verifier_keys))
        self.stdout.write(
            f"witnessing {row.origin}: {count} key(s), cosigned size {row.size}; its operator "
            f"adds this witness as https://<this host>/witness#{witness_server.verifier_key()}"
        )

    def _witness_log_list(self, **_: Any) -> None:
        from casecenter.audit.models import WitnessedLog

        for row in WitnessedLog.objects.order_by("origin"):
            when = (
                row.updated_at.isoformat(timespec="seconds") if row.checkpoint else "never cosigned"
            )
            keys = len([k for k in row.verifier_keys.splitlines() if k.strip()])
            self.stdout.write(f"{row.origin}\tsize {row.size}\tupdated {when}\t{keys} key(s)")

    def _witness_log_show(self, *, origin: str, out: str | None, **_: Any) -> None:
        from casecenter.audit.models import WitnessedLog

        row = WitnessedLog.objects.filter(origin=origin).first()
        if row is None:
            raise CommandError(f"this casecenter does not witness the log {origin!r}")
        if not row.checkpoint:
            raise CommandError(f"no checkpoint of {origin!r} cosigned yet")
        _write(out, row.checkpoint, self.stdout)

    # -- reading -----------------------------------------------------------------------

    def handle_show(self, *, seq: int, **_: Any) -> None:
        from casecenter.audit.models import AuditEntry

        entry = AuditEntry.objects.filter(seq=seq).first()
        if entry is None:
            raise CommandError(f"there is no audit entry #{seq}")
        self.stdout.write(_dumps(entry_as_dict(entry), indent=2))

    def handle_tail(self, *, count: int, **_: Any) -> None:
        from casecenter.audit.canonical import format_at
        from casecenter.audit.models import AuditEntry

        if count < 1:
            raise CommandError("-n must be at least 1")
        for entry in reversed(list(AuditEntry.objects.order_by("-id")[:count])):
            target = f"{entry.object_type}:{entry.object_id}" if entry.object_type else "-"
            actor = entry.actor_name
            if entry.actor_id is not None:
                actor += f"[{entry.actor_id}]"
            place = f"#{entry.seq}" if entry.seq is not None else "(waiting)"
            line = f"{place} {format_at(entry.at)} {actor} {entry.action} {target}"
            if entry.reason:
                line += f" — {entry.reason}"
            self.stdout.write(line)


def _dumps(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=indent is None)
