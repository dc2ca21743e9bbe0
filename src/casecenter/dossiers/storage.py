"""Dossier files kept by their content (SHA-256) in the ``dossiers`` storage.

The storage is Django's: a local folder by default, an S3-compatible bucket by
setting (``STORAGES["dossiers"]``, see settings.py). A file's name is its hash
(``ab/abcdef…``), so it is written once and never overwritten; the same file
uploaded twice is kept once. An upload is streamed to a temporary file while
it is hashed, so a large scan never sits in memory; its type is then checked
on the whole content (:mod:`casecenter.dossiers.filetypes`) before anything
is kept. A file written before a
transaction that then rolls back stays behind unreferenced — harmless, as its
name is its content.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages

from casecenter.dossiers import filetypes
from casecenter.errors import InvalidInput

CHUNK = 1024 * 1024
#: what a document's file may be, by its first bytes: (content type, suffix); the
#: whole content is then checked to be that type (filetypes.check)
SIGNATURES = [
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"II*\x00", "image/tiff", "tif"),
    (b"MM\x00*", "image/tiff", "tif"),
    (b"PK\x03\x04", "application/ofd", "ofd"),  # OFD (GB/T 33190) is a zip container
]
HTML = ("text/html", "html")  # generated documents only


@dataclass(frozen=True)
class Blob:
    sha256: str
    size: int
    name: str
    content_type: str


def storage():
    return storages["dossiers"]


def max_bytes() -> int:
    return settings.CASECENTER_DOSSIER_MAX_MB * 1024 * 1024


def too_large() -> InvalidInput:
    mb = settings.CASECENTER_DOSSIER_MAX_MB
    error = InvalidInput(
        "document.too_large", f"文件不能超过 {mb} MB。", f"A file may be at most {mb} MB."
    )
    error.status = 413  # Content Too Large
    return error


def sniff(head: bytes) -> tuple[str, str]:
    for magic, content_type, suffix in SIGNATURES:
        if head.startswith(magic):
            return content_type, suffix
    raise InvalidInput(
        "document.file_type",
        "卷宗文件须为 PDF、OFD 或图片（JPEG、PNG、TIFF）。",
        "A dossier file must be a PDF, an OFD or an image (JPEG, PNG, TIFF).",
    )


def put(chunks: Iterable[bytes], *, generated_html: bool = False) -> Blob:
    """Hash and keep a file given as chunks; refused if empty, too large or of a
    type a dossier does not take (``generated_html`` for casecenter's own)."""
    limit = max_bytes()
    digest, size, head = hashlib.sha256(), 0, b""
    with tempfile.TemporaryFile() as spool:
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise too_large()
            if len(head) < 16:
                head += chunk[:16]
            digest.update(chunk)
            spool.write(chunk)
        if size == 0:
            raise InvalidInput("document.empty", "文件为空。", "The file is empty.")
        content_type, suffix = HTML if generated_html else sniff(head)
        if not generated_html:
            filetypes.check(spool, content_type, size)
        sha = digest.hexdigest()
        name = f"{sha[:2]}/{sha}.{suffix}"
        store = storage()
        if not store.exists(name):
            spool.seek(0)
            saved = store.save(name, File(spool))
            if saved != name:  # a storage that renamed it would break content addressing
                store.delete(saved)
                raise RuntimeError(f"storage renamed {name} to {saved}")
    return Blob(sha, size, name, content_type)


def put_bytes(data: bytes, **kwargs) -> Blob:
    return put([data], **kwargs)


def open_blob(name: str) -> IO[bytes]:
    return storage().open(name, "rb")


def read_chunks(name: str) -> Iterator[bytes]:
    with open_blob(name) as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def check(name: str, sha256: str) -> bool:
    """Whether the stored file still has the hash it was stored under."""
    digest = hashlib.sha256()
    for chunk in read_chunks(name):
        digest.update(chunk)
    return digest.hexdigest() == sha256
