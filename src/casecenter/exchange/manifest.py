"""The signed hand-over package (移交材料包): a case dossier's documents as files, with
a manifest of their SHA-256 hashes signed with Ed25519 by the sending organisation.

Police, procuratorate, court and legal aid hand a dossier over as a package. The
receiver checks that the sender signed it and that not a byte of it changed since;
systems outside casecenter get it as a zip and can check it with Python and the
``cryptography`` package, or with OpenSSL 3 and coreutils (docs/package-format.md).
This module works on bytes and files only: no Django, no database.

The zip (format ``casecenter-package/1``)
-----------------------------------------
Every member is stored uncompressed (method 0, "stored"); a member compressed
any other way is refused.

``manifest.json``
    The manifest (below) as UTF-8 JSON. The signature covers exactly these bytes.
``manifest.sig``
    The signature: 64 bytes of Ed25519 (RFC 8032, "pure" Ed25519: no pre-hash, no
    context) over the bytes of ``manifest.json``, in base64 (RFC 4648, standard
    alphabet, padded) and a newline.
``signer.pub``
    The signer's public key: its 32 raw bytes (RFC 8032) in base64 and a newline.
    For information only: a verifier trusts a key it got from the sending
    organisation some other way, never this copy, unless told to (and says so).
``files/<path>``
    One member for each entry of the manifest, holding the document's bytes.
    Nothing else: a member not listed is an unexpected file.

Member names are relative POSIX paths: never empty, never starting with ``/``,
no ``\\`` or ``:``, no control character, no empty, ``.`` or ``..`` part (so no
``//`` and no trailing ``/``), and no name twice. A zip with any other name is
refused, never extracted.

The manifest
------------
A JSON object::

    {"case": {"number": "ZGC-XS-2026-00042", "title": "电动车被盗案"},
     "created_at": "2026-03-02T10:15:00+08:00",
     "entries": [{"kind": "interrogation_record",
                  "path": "documents/0003-interrogation_record-v2.pdf",
                  "sha256": "9f86d0…(64 hex digits)", "size": 48213,
                  "title": "讯问笔录（第二次）"}],
     "format": "casecenter-package/1",
     "hash": "sha256",
     "package": "ZGC-YJ-2026-0007",
     "receiver": {"code": "HDJ-JCY", "kind": "procuratorate", "name": "海淀区人民检察院"},
     "request": "提请批准逮捕",
     "sender": {"code": "HDJ-ZGC", "kind": "police_station", "name": "中关村派出所"},
     "signer": "5f0c1e2d3a4b6978"}

``format`` is ``casecenter-package/1`` and ``hash`` is ``sha256``. ``package`` names
the hand-over; ``sender`` and ``receiver`` are organisations (``code``, ``name``,
``kind``); ``case`` is the case (at least its ``number``); ``request`` says what is
asked of the receiver; ``created_at`` is an ISO 8601 time with its UTC offset.
``signer`` is the key id of the signing key: the first 16 hex digits (lower case)
of the SHA-256 of its 32 raw bytes, a fingerprint people can read to each other.
``extra``, when present, is an object with anything else the sender adds. Each
entry names a file: ``path`` (under ``files/`` in the zip, same rules as member
names), ``sha256`` (64 lower-case hex digits of its content), ``size`` (bytes),
``kind`` and ``title``. Entries are sorted by path, no path appears twice and none
is the folder of another (``a`` beside ``a/b``: they could not both be extracted).

The manifest is written canonically: keys sorted, no whitespace (separators
``,`` and ``:``), non-ASCII characters as themselves (not ``\\u`` escapes), UTF-8,
and only strings, integers, booleans, null, arrays and objects (no floats: their
text differs between JSON libraries). ``canonical()`` makes these bytes. The
signature is checked over the bytes as received, never over a re-serialisation,
so a verifier outside Python needs no canonical JSON; casecenter also refuses a
manifest that is not canonical (``manifest.malformed``), so a package has one
form.

The signer is part of the signed bytes: ``build_manifest`` takes it (``signer=
key_id(public_key)``) and ``sign`` refuses to sign a manifest that names another
key, so a signature cannot be passed off as another key's.

Verifying
---------
1. Take a public key you trust; its key id must equal the manifest's ``signer``
   (else ``signer.unknown``).
2. Check the Ed25519 signature from ``manifest.sig`` over ``manifest.json``
   (else ``signature.invalid``).
3. Parse ``manifest.json``; check ``format`` and the entries
   (else ``manifest.malformed``; a path breaking the rules is ``path.unsafe``).
4. For each entry, ``files/<path>`` must exist (``file.missing``), be stored
   uncompressed and unencrypted (``file.unreadable``), have ``size`` bytes
   (``file.size``; then its hash is not compared) and hash to ``sha256``
   (``file.changed``).
5. Every member under ``files/`` must be an entry, and there is no member
   besides ``manifest.json``, ``manifest.sig``, ``signer.pub`` and ``files/…``
   (``file.unexpected``).

Only when all pass is the package what the sender signed. ``verify`` reports
every problem, not just the first, hashing files in 1 MiB chunks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import re
import stat
import struct
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

FORMAT = "casecenter-package/1"
HASH = "sha256"
CHUNK = 1024 * 1024  #: files are hashed and copied this many bytes at a time

MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
PUBLIC_KEY_NAME = "signer.pub"
FILES_PREFIX = "files/"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024  #: a larger manifest.json is refused unread
MAX_SMALL_MEMBER_BYTES = 4096  #: manifest.sig and signer.pub are far smaller

REQUIRED_KEYS = (
    "format",
    "hash",
    "package",
    "sender",
    "receiver",
    "case",
    "request",
    "created_at",
    "signer",
    "entries",
)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_BAD_CHARACTER = re.compile(r"[\x00-\x1f\x7f\\:]")


# --- paths and entries ----------------------------------------------------------------


def path_problem(path: object) -> tuple[str, str] | None:
    """Why ``path`` may not name a file of a package, in Chinese and English; None if it
    may: a relative POSIX path with no empty, ``.`` or ``..`` part, no backslash, colon
    or control character."""
    if not isinstance(path, str) or not path:
        return "路径为空", "the path is empty"
    if path.startswith("/"):
        return "路径是绝对路径", "the path is absolute"
    if _BAD_CHARACTER.search(path):
        return (
            "路径含反斜杠、冒号或控制字符",
            "the path has a backslash, colon or control character",
        )
    parts = path.split("/")
    if "" in parts:
        return "路径有空的部分（// 或结尾的 /）", "the path has an empty part (// or a trailing /)"
    if "." in parts or ".." in parts:
        return "路径含 . 或 ..", "the path has a . or .. part"
    return None


@dataclass(frozen=True)
class Entry:
    """One file of a package (材料): where it is, its hash and size, what it is."""

    path: str
    sha256: str
    size: int
    kind: str
    title: str


def digest(stream: IO[bytes]) -> tuple[str, int]:
    """The SHA-256 (hex) and size of a stream's remaining bytes, read in 1 MiB chunks."""
    hasher, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        hasher.update(chunk)
        size += len(chunk)
    return hasher.hexdigest(), size


def _check_entry(entry: Entry) -> None:
    if not isinstance(entry, Entry):
        raise ValueError(f"an entry must be an Entry, not {type(entry).__name__}")
    reason = path_problem(entry.path)
    if reason:
        raise ValueError(f"unsafe path {entry.path!r}: {reason[1]}")
    if not isinstance(entry.sha256, str) or not _HEX64.fullmatch(entry.sha256):
        raise ValueError(f"{entry.path}: sha256 must be 64 lower-case hex digits")
    if isinstance(entry.size, bool) or not isinstance(entry.size, int) or entry.size < 0:
        raise ValueError(f"{entry.path}: size must be a whole number of bytes")
    if not isinstance(entry.kind, str) or not isinstance(entry.title, str):
        raise ValueError(f"{entry.path}: kind and title must be text")


def _folder_clash(paths: set[str]) -> str | None:
    """A path that is also the folder of another (``a`` beside ``a/b``: the two could
    not both be extracted), or None."""
    for path in sorted(paths):
        parts = path.split("/")
        for n in range(1, len(parts)):
            if "/".join(parts[:n]) in paths:
                return "/".join(parts[:n])
    return None


def entries_of(manifest: Mapping[str, Any]) -> list[Entry]:
    """The entries of a manifest made by ``build_manifest``, checked again."""
    entries = [Entry(**item) for item in manifest["entries"]]
    for entry in entries:
        _check_entry(entry)
    return entries


# --- the manifest ---------------------------------------------------------------------


def _check_plain_json(value: object, where: str) -> None:
    """Refuse what would not come back from JSON as it went in, or whose text
    differs between JSON libraries (floats)."""
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_plain_json(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where}: keys must be text, not {key!r}")
            _check_plain_json(item, f"{where}.{key}")
    else:
        raise ValueError(f"{where}: {type(value).__name__} is not allowed in a manifest")


def _check_organisation(role: str, value: object) -> None:
    if not isinstance(value, dict) or not all(
        isinstance(value.get(key), str) for key in ("code", "name", "kind")
    ):
        raise ValueError(f"{role} must be a dict with code, name and kind as text")
    if not value["code"]:
        raise ValueError(f"{role} has an empty code")


def build_manifest(
    *,
    package: str,
    sender: dict[str, Any],
    receiver: dict[str, Any],
    case: dict[str, Any],
    request: str,
    created_at: str,
    entries: Iterable[Entry],
    signer: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest of a package, ready for ``sign``; ``signer`` is ``key_id`` of the key
    that will sign it. Raises ``ValueError`` naming what is wrong."""
    if not isinstance(package, str) or not package:
        raise ValueError("package must be a non-empty text")
    _check_organisation("sender", sender)
    _check_organisation("receiver", receiver)
    if not isinstance(case, dict) or not isinstance(case.get("number"), str):
        raise ValueError("case must be a dict with its number as text")
    if not isinstance(request, str):
        raise ValueError("request must be text")
    try:
        aware = datetime.fromisoformat(created_at).tzinfo is not None
    except (TypeError, ValueError):
        raise ValueError(f"created_at {created_at!r} is not an ISO 8601 time") from None
    if not aware:
        raise ValueError(f"created_at {created_at!r} has no UTC offset")
    if not isinstance(signer, str) or not _KEY_ID.fullmatch(signer):
        raise ValueError("signer must be a key id: 16 lower-case hex digits (key_id())")
    if extra is not None and not isinstance(extra, dict):
        raise ValueError("extra must be a dict")
    listed = sorted(entries, key=lambda entry: getattr(entry, "path", ""))
    for entry in listed:
        _check_entry(entry)
    paths = {entry.path for entry in listed}
    if len(paths) < len(listed):
        twice = next(a.path for a, b in zip(listed, listed[1:], strict=False) if a.path == b.path)
        raise ValueError(f"the path {twice!r} is listed twice")
    clash = _folder_clash(paths)
    if clash:
        raise ValueError(f"{clash!r} is a file and also the folder of another file")
    manifest = {
        "format": FORMAT,
        "hash": HASH,
        "package": package,
        "sender": sender,
        "receiver": receiver,
        "case": case,
        "request": request,
        "created_at": created_at,
        "signer": signer,
        "entries": [asdict(entry) for entry in listed],
    }
    if extra is not None:
        manifest["extra"] = extra
    _check_plain_json(manifest, "manifest")
    canonical(manifest)  # text that cannot be UTF-8 (a lone surrogate) fails here, not later
    return manifest


def canonical(manifest: Mapping[str, Any]) -> bytes:
    """The manifest's signed bytes: JSON, sorted keys, no whitespace, UTF-8 as is."""
    text = json.dumps(
        manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


# --- keys and signing -------------------------------------------------------------------


def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """The key's fingerprint: the first 16 hex digits of SHA-256 of its 32 raw bytes."""
    return hashlib.sha256(_raw(public_key)).hexdigest()[:16]


def public_key_b64(public_key: Ed25519PublicKey) -> str:
    return base64.b64encode(_raw(public_key)).decode("ascii")


def _b64decode(text: str | bytes, length: int, what: str) -> bytes:
    try:
        data = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not base64") from None
    if len(data) != length:
        raise ValueError(f"{what} must be {length} bytes, not {len(data)}")
    return data


def load_public_key(b64: str | bytes) -> Ed25519PublicKey:
    """A public key from the base64 of its 32 raw bytes (``ValueError`` if it is not)."""
    return Ed25519PublicKey.from_public_bytes(_b64decode(b64, 32, "the public key"))


def keyring(public_keys: Iterable[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    """Trusted keys as ``verify`` wants them: by key id."""
    return {key_id(key): key for key in public_keys}


def private_key_bytes(private_key: Ed25519PrivateKey) -> bytes:
    """The private key's 32 raw bytes (keep them secret)."""
    return private_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def load_private_key(data: bytes) -> Ed25519PrivateKey:
    if len(data) != 32:
        raise ValueError(f"a private key is 32 bytes, not {len(data)}")
    return Ed25519PrivateKey.from_private_bytes(data)


def sign(manifest: Mapping[str, Any], private_key: Ed25519PrivateKey) -> str:
    """The base64 signature of the manifest's canonical bytes. The manifest must name
    this key as its ``signer`` (``ValueError`` otherwise)."""
    expected = key_id(private_key.public_key())
    if manifest.get("signer") != expected:
        raise ValueError(
            f"the manifest names signer {manifest.get('signer')!r}, this key is {expected}"
        )
    return base64.b64encode(private_key.sign(canonical(manifest))).decode("ascii")


# --- verifying --------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One reason a package is refused; ``path`` names the file, or is ""."""

    code: str
    path: str
    message_zh: str
    message_en: str


@dataclass(frozen=True)
class Verdict:
    """The outcome of a verification. ``signer_checked`` is False when the signer was
    not checked against a key the caller trusts (unknown, or only the package's own
    embedded key was accepted); ``ok`` then still says whether all else held."""

    ok: bool
    problems: list[Problem] = field(default_factory=list)
    signer: str = ""
    manifest: dict[str, Any] | None = None
    signer_checked: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "signer": self.signer,
            "signer_checked": self.signer_checked,
            "problems": [asdict(problem) for problem in self.problems],
            "manifest": self.manifest,
        }


def _malformed(zh: str, en: str) -> Problem:
    return Problem("manifest.malformed", "", zh, en)


def _shown(value: object) -> str:
    """A value as a message quotes it: never a whole hostile megabyte."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _parse(manifest_bytes: bytes, problems: list[Problem]) -> dict[str, Any] | None:
    """The manifest as a dict, or None if it is not a JSON object at all."""
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError, JSONDecodeError
        problems.append(_malformed("清单不是 UTF-8 JSON", f"the manifest is not UTF-8 JSON: {exc}"))
        return None
    if not isinstance(manifest, dict):
        problems.append(_malformed("清单不是 JSON 对象", "the manifest is not a JSON object"))
        return None
    try:
        same = canonical(manifest) == manifest_bytes
    except ValueError:  # a lone surrogate from a \\u escape cannot be UTF-8
        same = False
    if not same:
        problems.append(
            _malformed("清单不是规范格式", "the manifest is not in canonical form (keys, spaces)")
        )
    missing = [key for key in REQUIRED_KEYS if key not in manifest]
    if missing:
        problems.append(
            _malformed(
                f"清单缺少 {', '.join(missing)}", f"the manifest has no {', '.join(missing)}"
            )
        )
    if "format" in manifest and manifest["format"] != FORMAT:
        problems.append(
            _malformed(
                f"未知格式 {_shown(manifest['format'])}",
                f"unknown format {_shown(manifest['format'])}; this verifier reads {FORMAT}",
            )
        )
    if "hash" in manifest and manifest["hash"] != HASH:
        problems.append(
            _malformed(
                f"未知哈希算法 {_shown(manifest['hash'])}",
                f"unknown hash {_shown(manifest['hash'])}",
            )
        )
    return manifest


def _check_signature(
    manifest_bytes: bytes,
    signature_b64: str | bytes,
    signer: object,
    trusted: Mapping[str, Ed25519PublicKey],
    problems: list[Problem],
) -> bool:
    """Check the signature over the bytes as received; True if the signer is trusted."""
    if not isinstance(signer, str) or not _KEY_ID.fullmatch(signer):
        problems.append(
            _malformed("清单没有有效的签名密钥标识", "the manifest has no valid signer")
        )
        return False
    key = trusted.get(signer)
    if key is None or key_id(key) != signer:
        problems.append(
            Problem(
                "signer.unknown",
                "",
                f"签名密钥 {signer} 不是可信密钥",
                f"the signing key {signer} is not a trusted key",
            )
        )
        return False
    try:
        key.verify(_b64decode(signature_b64, 64, "the signature"), manifest_bytes)
    except (ValueError, InvalidSignature):
        problems.append(
            Problem(
                "signature.invalid",
                "",
                "签名无效：清单已被改动或签名不属于该密钥",
                "the signature is invalid: the manifest was changed or not signed by this key",
            )
        )
    return True


def _listed_entries(manifest: dict[str, Any], problems: list[Problem]) -> list[Entry]:
    """The well-formed entries with safe paths; every other one is a problem."""
    items = manifest.get("entries")
    if not isinstance(items, list):
        if "entries" in manifest:
            problems.append(_malformed("entries 不是列表", "entries is not a list"))
        return []
    entries: list[Entry] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        malformed = _malformed(f"第 {i + 1} 项格式不对", f"entry #{i + 1} is malformed")
        try:
            entry = Entry(**item)
        except TypeError:  # not an object, or not these five fields
            problems.append(malformed)
            continue
        reason = path_problem(entry.path) if isinstance(entry.path, str) else None
        if reason:
            problems.append(Problem("path.unsafe", entry.path, *reason))
            continue
        try:
            _check_entry(entry)
        except ValueError:
            problems.append(malformed)
            continue
        if entry.path in seen:
            problems.append(_malformed(f"{entry.path} 列出两次", f"{entry.path} is listed twice"))
        else:
            seen.add(entry.path)
            entries.append(entry)
    if [entry.path for entry in entries] != sorted(entry.path for entry in entries):
        problems.append(_malformed("条目未按路径排序", "the entries are not sorted by path"))
    clash = _folder_clash(seen)
    if clash:
        problems.append(
            _malformed(f"{clash} 既是文件又是文件夹", f"{clash} is both a file and a folder")
        )
    return entries


def _hash_at_most(stream: IO[bytes], limit: int) -> tuple[str, int]:
    """SHA-256 and size of the stream, reading no more than ``limit + 1`` bytes: a
    size past ``limit`` means "larger" and its hash does not matter."""
    hasher, size = hashlib.sha256(), 0
    while size <= limit and (chunk := stream.read(min(CHUNK, limit + 1 - size))):
        hasher.update(chunk)
        size += len(chunk)
    return hasher.hexdigest(), size


def _check_file(entry: Entry, open_file: Callable[[str], IO[bytes] | None]) -> Problem | None:
    path = entry.path
    try:
        stream = open_file(path)
        if stream is None:
            return Problem("file.missing", path, "缺少该文件", "the file is missing")
        with stream:
            actual, size = _hash_at_most(stream, entry.size)
    except OSError as exc:
        return Problem("file.unreadable", path, "无法读取该文件", f"the file cannot be read: {exc}")
    if size != entry.size:
        if size > entry.size:  # read no further than one byte past
            zh = f"文件超过清单所列的 {entry.size} 字节"
            en = f"the file has more than the {entry.size} bytes the manifest says"
        else:
            zh = f"文件为 {size} 字节，清单为 {entry.size} 字节"
            en = f"the file has {size} bytes, the manifest says {entry.size}"
        return Problem("file.size", path, zh, en)
    if actual != entry.sha256:
        return Problem(
            "file.changed", path, "内容与清单不符（哈希不同）", "the content differs (SHA-256)"
        )
    return None


def verify(
    manifest_bytes: bytes,
    signature_b64: str | bytes,
    trusted: Mapping[str, Ed25519PublicKey],
    open_file: Callable[[str], IO[bytes] | None],
    listed_files: Iterable[str],
) -> Verdict:
    """Verify a package: its manifest's bytes as received, its signature, the keys
    trusted (by key id), ``open_file(path)`` giving a file's bytes (None if missing;
    closed here) and the paths of all files the package holds. Every problem found
    is reported."""
    problems: list[Problem] = []
    manifest = _parse(manifest_bytes, problems)
    if manifest is None:
        return Verdict(ok=False, problems=problems)
    signer = manifest.get("signer")
    checked = _check_signature(manifest_bytes, signature_b64, signer, trusted, problems)
    entries = _listed_entries(manifest, problems)
    for entry in sorted(entries, key=lambda entry: entry.path):
        problem = _check_file(entry, open_file)
        if problem:
            problems.append(problem)
    items = manifest.get("entries")
    named = {
        item.get("path")
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict) and isinstance(item.get("path"), str)
    }
    for path in sorted(set(listed_files) - named):
        reason = path_problem(path)
        if reason:
            problems.append(Problem("path.unsafe", path, *reason))
        else:
            problems.append(
                Problem(
                    "file.unexpected", path, "清单未列出该文件", "the manifest does not list it"
                )
            )
    return Verdict(
        ok=not problems,
        problems=problems,
        signer=signer if isinstance(signer, str) else "",
        manifest=manifest,
        signer_checked=checked,
    )


# --- the zip ----------------------------------------------------------------------------


def _zip_time(created_at: object) -> tuple[int, int, int, int, int, int]:
    """The package's creation time in the sender's wall-clock time (zip has no zones)."""
    try:
        when = datetime.fromisoformat(str(created_at))
    except ValueError:
        return (1980, 1, 1, 0, 0, 0)
    if when.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (when.year, when.month, when.day, when.hour, when.minute, when.second)


def _member(name: str, when: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, when)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--, when extracted
    return info


def _copy_checked(source: IO[bytes], sink: IO[bytes], entry: Entry) -> None:
    """Copy a document into the zip, refusing it if it is not what was hashed."""
    hasher, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK):
        size += len(chunk)
        if size > entry.size:
            break
        hasher.update(chunk)
        sink.write(chunk)
    if size != entry.size or hasher.hexdigest() != entry.sha256:
        raise ValueError(f"{entry.path} is not the file that was hashed: it changed since")


def write_zip(
    target: str | os.PathLike[str] | BinaryIO,
    manifest: Mapping[str, Any],
    signature_b64: str,
    public_key: Ed25519PublicKey,
    open_entry: Callable[[Entry], IO[bytes]],
) -> None:
    """Write the package as a zip to a path or a binary file. ``open_entry(entry)``
    gives each document's bytes (closed here); they are copied in 1 MiB chunks and
    checked against the manifest. A signature that is not this key's over this
    manifest, or a document that changed since it was hashed, is a ``ValueError``
    (and a zip written to a path is removed)."""
    data = canonical(manifest)
    if manifest.get("signer") != key_id(public_key):
        raise ValueError(f"the manifest is not signed by key {key_id(public_key)}")
    try:
        public_key.verify(_b64decode(signature_b64, 64, "the signature"), data)
    except InvalidSignature:
        raise ValueError("the signature does not match the manifest") from None
    entries = entries_of(manifest)
    when = _zip_time(manifest.get("created_at"))
    written = Path(target) if isinstance(target, str | os.PathLike) else None
    try:
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(_member(MANIFEST_NAME, when), data)
            archive.writestr(_member(SIGNATURE_NAME, when), signature_b64 + "\n")
            archive.writestr(_member(PUBLIC_KEY_NAME, when), public_key_b64(public_key) + "\n")
            for entry in entries:
                info = _member(FILES_PREFIX + entry.path, when)
                info.file_size = entry.size  # lets zipfile choose ZIP64 for a huge file
                with open_entry(entry) as source, archive.open(info, "w") as sink:
                    _copy_checked(source, sink, entry)
    except BaseException:
        if written is not None:
            written.unlink(missing_ok=True)
        raise


class _StoredMember(io.RawIOBase):
    """The bytes of one stored zip member, read straight from the archive (no
    extraction, no reliance on the zip's CRC: the manifest's SHA-256 decides)."""

    def __init__(self, archive: IO[bytes], start: int, length: int) -> None:
        self._archive, self._position, self._left = archive, start, length

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        count = self._left if size is None or size < 0 else min(size, self._left)
        if count <= 0:
            return b""
        self._archive.seek(self._position)
        data = self._archive.read(count)
        self._position += len(data)
        self._left = self._left - len(data) if data else 0  # a truncated archive ends here
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _open_member(archive: IO[bytes], info: zipfile.ZipInfo) -> _StoredMember:
    """A member's bytes; ``OSError`` if it is encrypted, compressed or inconsistent."""
    if info.flag_bits & 0x1:
        raise OSError("it is encrypted")
    if info.header_offset < 0:
        raise OSError("its offset is outside the zip")
    if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
        raise OSError(f"it is compressed (method {info.compress_type}); packages store files")
    archive.seek(info.header_offset)
    header = archive.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise OSError("its local header is missing")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    if archive.read(name_length) != info.orig_filename.encode(encoding):
        raise OSError("its local header names another file")
    start = info.header_offset + 30 + name_length + extra_length
    return _StoredMember(archive, start, info.compress_size)


def _read_member(archive: IO[bytes], info: zipfile.ZipInfo, limit: int) -> bytes:
    with _open_member(archive, info) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"it is larger than {limit} bytes")
    return data


#: What zipfile raises on a file that is not a readable zip (NotImplementedError: a
#: version or compression method it does not read — one flipped byte makes one).
_NOT_A_ZIP = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    OSError,
    EOFError,
    ValueError,
    struct.error,
)


@dataclass(frozen=True)
class ZipLimits:
    """What a package zip may declare at most (docs/package-format.md, "Limits");
    a zip past either is refused before anything in it is read or hashed."""

    members: int = 10_000
    total_bytes: int = 8192 * 1024 * 1024


def default_limits() -> ZipLimits:
    """The limits of the settings (``CASECENTER_PACKAGE_MAX_MEMBERS``,
    ``CASECENTER_PACKAGE_MAX_TOTAL_MB``) inside casecenter, else the defaults."""
    try:
        from django.conf import settings

        if settings.configured:
            return ZipLimits(
                members=int(getattr(settings, "CASECENTER_PACKAGE_MAX_MEMBERS", 10_000)),
                total_bytes=int(getattr(settings, "CASECENTER_PACKAGE_MAX_TOTAL_MB", 8192))
                * 1024
                * 1024,
            )
    except ImportError:  # pragma: no cover - the module is usable without Django
        pass
    return ZipLimits()


#: file types a member may never be (the high 16 bits of its external attributes
#: are a Unix st_mode): a symlink or a device file is not a document
_FORBIDDEN_MODES = {
    stat.S_IFLNK: ("符号链接", "a symbolic link"),
    stat.S_IFCHR: ("字符设备", "a character device"),
    stat.S_IFBLK: ("块设备", "a block device"),
    stat.S_IFIFO: ("命名管道", "a named pipe"),
    stat.S_IFSOCK: ("套接字", "a socket"),
}


def _zip_structure(archive: IO[bytes], zipped: zipfile.ZipFile, limits: ZipLimits) -> list[Problem]:
    """What makes a zip unsafe to read at all, found from its headers alone: too many
    members or declared bytes, a member's bytes past the end of the file or the
    start of the central directory, two members sharing bytes (an "overlap" zip
    bomb: one stretch of bytes hashed again and again under many names), and a
    member that is a symlink or a device. Nothing is hashed when one is found."""
    infos = zipped.infolist()
    archive.seek(0, os.SEEK_END)
    end_of_file = archive.tell()
    if len(infos) > limits.members:
        return [
            Problem(
                "zip.limits",
                "",
                f"zip 中有 {len(infos)} 个成员，超过上限 {limits.members}",
                f"the zip has {len(infos)} members, more than the limit of {limits.members}",
            )
        ]
    declared = sum(max(info.file_size, info.compress_size) for info in infos)
    if declared > limits.total_bytes:
        return [
            Problem(
                "zip.limits",
                "",
                f"zip 声明的内容共 {declared} 字节，超过上限 {limits.total_bytes}",
                f"the zip declares {declared} bytes, more than the limit of {limits.total_bytes}",
            )
        ]
    problems: list[Problem] = []
    central = getattr(zipped, "start_dir", end_of_file)
    spans: list[tuple[int, int, str]] = []
    for info in infos:
        name = info.orig_filename
        kind = _FORBIDDEN_MODES.get(stat.S_IFMT(info.external_attr >> 16))
        if kind is not None:
            problems.append(
                Problem(
                    "zip.file_mode",
                    name,
                    f"该成员是{kind[0]}，不是文件",
                    f"the member is {kind[1]}, not a file",
                )
            )
        start = info.header_offset
        archive.seek(start)
        header = archive.read(30) if start >= 0 else b""
        if len(header) == 30 and header[:4] == b"PK\x03\x04":
            name_length, extra_length = struct.unpack("<HH", header[26:30])
            end = start + 30 + name_length + extra_length + info.compress_size
        else:
            end = start + 30
        if start < 0 or end > min(central, end_of_file):
            problems.append(
                Problem(
                    "zip.truncated",
                    name,
                    "该成员声明的大小超出了 zip 文件",
                    "the member's declared size runs past the end of the zip",
                )
            )
        spans.append((start, end, name))
    spans.sort()
    for (_, end, before), (start, _, after) in zip(spans, spans[1:], strict=False):
        if start < end:
            problems.append(
                Problem(
                    "zip.overlap",
                    after,
                    f"该成员与 {before} 占用相同的字节",
                    f"the member shares bytes with {before}",
                )
            )
    return problems


def verify_zip(
    path: str | os.PathLike[str] | BinaryIO,
    trusted: Mapping[str, Ed25519PublicKey] | None = None,
    *,
    trust_embedded: bool = False,
    limits: ZipLimits | None = None,
) -> Verdict:
    """Verify a package zip (a path or a seekable binary file) without extracting it.
    ``trust_embedded`` accepts the zip's own ``signer.pub`` as trusted: the verdict
    then has ``signer_checked`` False unless the key is also in ``trusted``. A file
    that is not a readable zip is ``manifest.malformed``; a zip past ``limits``
    (:func:`default_limits`), with overlapping members, sizes past its end or a
    symlink or device member is refused before anything is hashed; only a path
    that cannot be opened raises (``OSError``)."""
    limits = limits or default_limits()
    if isinstance(path, str | os.PathLike):
        with open(path, "rb") as archive:
            return _verify_archive(archive, dict(trusted or {}), trust_embedded, limits)
    return _verify_archive(path, dict(trusted or {}), trust_embedded, limits)


def _verify_archive(
    archive: IO[bytes],
    trusted: dict[str, Ed25519PublicKey],
    trust_embedded: bool,
    limits: ZipLimits,
) -> Verdict:
    try:
        zipped = zipfile.ZipFile(archive)
        infos = zipped.infolist()
        unsafe = _zip_structure(archive, zipped, limits)
    except _NOT_A_ZIP as exc:
        problem = _malformed("不是可读的 zip 文件", f"not a readable zip file: {exc}")
        return Verdict(ok=False, problems=[problem])
    if unsafe:
        return Verdict(ok=False, problems=unsafe)
    problems: list[Problem] = []
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.orig_filename  # zipfile's filename stops at a NUL; the archive's does not
        reason = path_problem(name.removesuffix("/") if info.is_dir() else name)
        if reason:
            problems.append(Problem("path.unsafe", name, *reason))
        elif name in members:
            problems.append(
                Problem("path.unsafe", name, "zip 中该名称出现两次", "the name is in the zip twice")
            )
        elif not info.is_dir():
            members[name] = info
    files = {
        name.removeprefix(FILES_PREFIX): info
        for name, info in members.items()
        if name.startswith(FILES_PREFIX)
    }
    for name in sorted(set(members) - {MANIFEST_NAME, SIGNATURE_NAME, PUBLIC_KEY_NAME}):
        if not name.startswith(FILES_PREFIX):
            problems.append(
                Problem("file.unexpected", name, "不属于该格式的文件", "not a member of the format")
            )

    def read(name: str, limit: int) -> bytes | None:
        info = members.get(name)
        if info is None:
            return None
        try:
            return _read_member(archive, info, limit)
        except OSError as exc:
            problems.append(_malformed(f"无法读取 {name}", f"{name} cannot be read: {exc}"))
            return None

    manifest_bytes = read(MANIFEST_NAME, MAX_MANIFEST_BYTES)
    if manifest_bytes is None:
        if MANIFEST_NAME not in members:
            problems.append(_malformed("zip 中没有 manifest.json", "the zip has no manifest.json"))
        return Verdict(ok=False, problems=problems)
    signature = read(SIGNATURE_NAME, MAX_SMALL_MEMBER_BYTES) or b""
    keys = dict(trusted)
    embedded = read(PUBLIC_KEY_NAME, MAX_SMALL_MEMBER_BYTES) if trust_embedded else None
    if embedded is not None:
        try:
            key = load_public_key(embedded)
        except ValueError:
            pass  # an unreadable embedded key trusts nothing: the signer stays unknown
        else:
            keys.setdefault(key_id(key), key)

    def open_file(path: str) -> IO[bytes] | None:
        info = files.get(path)
        return None if info is None else cast(IO[bytes], _open_member(archive, info))

    verdict = verify(manifest_bytes, signature, keys, open_file, files)
    problems.extend(verdict.problems)
    return replace(
        verdict,
        ok=not problems,
        problems=problems,
        signer_checked=verdict.signer_checked and verdict.signer in trusted,
    )
