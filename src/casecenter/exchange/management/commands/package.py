"""``casecenter package verify FILE``: check a signed hand-over package (移交材料包);
``package export NUMBER`` writes a stored one as a zip, ``package check NUMBER``
verifies a stored one as its receiver does, ``package key ORG`` prints a key.

Prints each file as OK or with its problem, the signer's key id, and a verdict line
in Chinese and English (``通过 / VERIFIED`` or ``拒绝 / REFUSED: <reasons>``); exits
0 when the package verifies, 1 when it is refused, 2 on a usage error (no such
file, an unreadable key). The format is described in
``casecenter.exchange.manifest`` and docs/package-format.md.

The keys a package may be signed with come from ``trusted_keys``: the organisations'
registered keys and those given with ``--key`` and ``--key-file``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.management.base import BaseCommand, CommandError, CommandParser

from casecenter.exchange.manifest import (
    Verdict,
    key_id,
    load_public_key,
    public_key_b64,
    verify_zip,
)

#: The verdict line names at most this many reasons, then how many more there are.
MAX_REASONS = 5


def registered_keys() -> dict[str, Ed25519PublicKey]:
    """The organisations' keys in this installation's database, if it has one
    (verifying a file works without a database: then there are none)."""
    from django.db import DatabaseError

    from casecenter.exchange import keys

    try:
        return keys.trusted()
    except DatabaseError:
        return {}


def trusted_keys(extra: list[str]) -> dict[str, Ed25519PublicKey]:
    """The public keys a package may be signed with, by key id: the organisations'
    registered keys and the base64 keys given (``--key``, ``--key-file``)."""
    keys: dict[str, Ed25519PublicKey] = registered_keys()
    for text in extra:
        try:
            key = load_public_key(text)
        except ValueError as exc:
            raise CommandError(f"key {text!r}: {exc}", returncode=2) from None
        keys[key_id(key)] = key
    return keys


def read_key_file(path: str) -> list[str]:
    """The base64 keys in a key file: one per line (``#`` comments and blank lines
    ignored), or a PEM public key as ``openssl pkey -pubout`` writes it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read the key file {path}: {exc}", returncode=2) from None
    if "-----BEGIN PUBLIC KEY-----" in text:
        try:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        except ValueError as exc:
            raise CommandError(f"{path}: not a PEM public key: {exc}", returncode=2) from None
        if not isinstance(key, Ed25519PublicKey):
            raise CommandError(f"{path}: not an Ed25519 key", returncode=2)
        return [public_key_b64(key)]
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


class Command(BaseCommand):
    help = (
        "Work with signed hand-over packages (移交材料包): verify a zip, export or check "
        "a stored package, print an organisation's public key."
    )
    requires_system_checks: list[str] = []  # works on a file; needs no database

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        verify = commands.add_parser(
            "verify", help="check a package zip's signature and files; exit 1 if refused"
        )
        verify.add_argument("file", metavar="FILE", help="the package (.zip)")
        verify.add_argument(
            "--key",
            action="append",
            default=[],
            dest="keys",
            metavar="BASE64",
            help="a trusted public key (base64 of its 32 raw bytes); repeatable",
        )
        verify.add_argument(
            "--key-file",
            action="append",
            default=[],
            dest="key_files",
            metavar="PATH",
            help="a file of trusted keys (base64, one per line) or a PEM public key; repeatable",
        )
        verify.add_argument(
            "--trust-embedded",
            action="store_true",
            help="accept the package's own signer.pub (the signer is then not checked)",
        )
        verify.add_argument(
            "--json", action="store_true", dest="as_json", help="print the verdict as JSON"
        )
        export = commands.add_parser(
            "export", help="write a stored package (by its number) as a zip"
        )
        export.add_argument("number", metavar="NUMBER", help="the package number")
        export.add_argument("-o", "--output", default="", help="the zip (default NUMBER.zip)")
        check = commands.add_parser(
            "check",
            help="verify a stored package (by its number) as its receiver does; exit 1 if refused",
        )
        check.add_argument("number", metavar="NUMBER", help="the package number")
        key = commands.add_parser(
            "key", help="print an organisation's public signing key (for --key-file elsewhere)"
        )
        key.add_argument("organisation", metavar="ORG", help="the organisation's code")
        key.add_argument(
            "--rotate", action="store_true", help="retire the key in use and make a new one"
        )

    def handle_key(self, *, organisation: str, rotate: bool, **_: Any) -> None:
        """Print an organisation's public key (made on first use) for verifiers
        outside casecenter; ``--rotate`` retires it and makes a new one."""
        from casecenter.accounts.models import Organisation
        from casecenter.exchange import keys

        org = Organisation.objects.filter(code=organisation).first()
        if org is None:
            raise CommandError(f"no organisation with code {organisation!r}", returncode=2)
        key = keys.rotate(org) if rotate else keys.active_key(org)
        self.stdout.write(f"# {org.code} {org.name} key id {key.key_id}")
        self.stdout.write(key.public_key)

    @staticmethod
    def _stored(number: str) -> Any:
        from casecenter.exchange.models import Package

        package = Package.objects.filter(number=number).first()
        if package is None:
            raise CommandError(f"no package {number!r} / 没有该移交材料", returncode=2)
        return package

    def handle_export(self, *, number: str, output: str, **_: Any) -> None:
        """Write a stored package as the zip a receiver outside casecenter gets
        (audited as an export by the system)."""
        from django.db import transaction

        from casecenter.audit.services import record
        from casecenter.exchange import packaging

        package = self._stored(number)
        target = Path(output or f"{package.number}.zip")
        try:
            packaging.write_zip(package, str(target))
        except ValueError as exc:
            raise CommandError(f"not exported, the package changed: {exc}", returncode=1) from None
        with transaction.atomic():
            record(None, "exchange.package_exported", package, data={"file": str(target)})
        self.stdout.write(f"{target}  {target.stat().st_size} bytes  {package.files_count} files")

    def handle_check(self, *, number: str, **_: Any) -> None:
        """Verify a package as it is stored: the sender's keys, every stored file."""
        from casecenter.exchange import packaging

        verdict = packaging.verify(self._stored(number))
        self._report(verdict, hint=False)
        if not verdict.ok:
            sys.exit(1)

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['subcommand']}")(**options)

    def handle_verify(
        self,
        *,
        file: str,
        keys: list[str],
        key_files: list[str],
        trust_embedded: bool,
        as_json: bool,
        **_: Any,
    ) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file} / 文件不存在", returncode=2)
        given = [*keys, *(key for name in key_files for key in read_key_file(name))]
        trusted = trusted_keys(given)
        try:
            verdict = verify_zip(path, trusted, trust_embedded=trust_embedded)
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc}", returncode=2) from None
        if as_json:
            report = {"file": str(path), **verdict.as_dict()}
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True))
        else:
            self._report(verdict, hint=not trusted and not trust_embedded)
        if not verdict.ok:
            sys.exit(1)

    def _report(self, verdict: Verdict, *, hint: bool) -> None:
        write = self.stdout.write
        manifest = verdict.manifest or {}

        def organisation(role: str) -> str:
            value = manifest.get(role)
            if not isinstance(value, dict):
                return "?"
            return f"{value.get('code', '?')} {value.get('name', '')}".strip()

        if verdict.manifest is not None:
            case = manifest.get("case") if isinstance(manifest.get("case"), dict) else {}
            write(f"材料包 / package  {manifest.get('package', '?')}")
            write(f"发送 / from       {organisation('sender')}")
            write(f"接收 / to         {organisation('receiver')}")
            write(f"案件 / case       {case.get('number', '?')} {case.get('title', '')}".rstrip())
        if verdict.signer_checked:
            standing = "可信密钥 / trusted key"
        elif verdict.signer and not any(p.code == "signer.unknown" for p in verdict.problems):
            standing = "仅包内公钥，未与已知密钥核对 / embedded key only, NOT checked"
        else:
            standing = "未知 / unknown"
        write(f"签名 / signer     {verdict.signer or '?'}  {standing}")

        by_path: dict[str, list[str]] = {}
        general = []
        for problem in verdict.problems:
            line = f"{problem.code}: {problem.message_zh} / {problem.message_en}"
            if problem.path:
                by_path.setdefault(problem.path, []).append(line)
            else:
                general.append(line)
        entries = manifest.get("entries") if isinstance(manifest.get("entries"), list) else []
        paths = [
            e["path"] for e in entries if isinstance(e, dict) and isinstance(e.get("path"), str)
        ]
        write(f"文件 / files      {len(paths)}")
        for path in sorted(set(paths) | set(by_path)):
            lines = by_path.get(path)
            if not lines:
                write(f"  OK    {path}")
            for line in lines or []:
                write(f"  FAIL  {path}  {line}")
        for line in general:
            write(f"  !     {line}")
        if hint and any(p.code == "signer.unknown" for p in verdict.problems):
            write(
                "提示 / hint: 未给出可信公钥（--key、--key-file）/ "
                "no trusted key given (--key, --key-file)"
            )

        if verdict.ok and verdict.signer_checked:
            write("通过 / VERIFIED")
        elif verdict.ok:
            write(
                "通过 / VERIFIED (签名者未与已知密钥核对 / signer not checked against a known key)"
            )
        else:
            reasons = [f"{p.code} {p.path}".strip() for p in verdict.problems]
            shown = "; ".join(reasons[:MAX_REASONS])
            if len(reasons) > MAX_REASONS:
                more = len(reasons) - MAX_REASONS
                shown += f"; 另有 {more} 项 / and {more} more"
            write(f"拒绝 / REFUSED: {shown}")
