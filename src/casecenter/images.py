"""Photos kept by their content: checked to be an image, stored under their SHA-256.

Used for seized items' photos and for the belongings handed in at the custody
area's entry. A name that is the content's hash is never overwritten, the same
picture is kept once, and a file written before a transaction that rolls back
stays behind unreferenced — harmless, as its name is its content.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from PIL import Image

from casecenter.errors import InvalidInput

MAX_BYTES = 10 * 1024 * 1024
#: Pillow's name of an image format -> the content type it is served as, its file suffix.
#: (MPO is how Pillow names the multi-picture JPEG many phone cameras write.)
TYPES = {
    "JPEG": ("image/jpeg", "jpg"),
    "MPO": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}


@dataclass(frozen=True)
class Stored:
    sha256: str
    name: str  # in default_storage
    content_type: str
    size: int


def image_format(data: bytes) -> str:
    """Pillow's name of the image's format, if Pillow can open and verify it."""
    not_an_image = InvalidInput(
        "photo.not_image",
        "只能上传图片（JPEG、PNG、WebP、GIF）。",
        "Only images may be uploaded (JPEG, PNG, WebP, GIF).",
    )
    try:
        with Image.open(io.BytesIO(data)) as image:
            found = image.format or ""
            image.verify()
    except Exception:  # any decoder error of an untrusted file means "not an image we take"
        raise not_an_image from None
    if found not in TYPES:
        raise not_an_image
    return found


def read_checked(uploaded_file: Any) -> tuple[bytes, str, str, str]:
    """The upload's bytes, SHA-256, content type and suffix; refused if too large or
    not an image."""
    too_large = InvalidInput(
        "photo.too_large", "照片不能超过 10 MB。", "A photo may be at most 10 MB."
    )
    if (getattr(uploaded_file, "size", 0) or 0) > MAX_BYTES:
        raise too_large
    data = b"".join(uploaded_file.chunks())
    if len(data) > MAX_BYTES:
        raise too_large
    content_type, suffix = TYPES[image_format(data)]
    return data, hashlib.sha256(data).hexdigest(), content_type, suffix


def store(folder: str, data: bytes, digest: str, suffix: str, content_type: str) -> Stored:
    """Write ``data`` once under ``folder/ab/abcdef….suffix``."""
    name = f"{folder}/{digest[:2]}/{digest}.{suffix}"
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(data))
        if saved != name:  # the same picture arrived at the same moment: keep one copy
            default_storage.delete(saved)
    return Stored(digest, name, content_type, len(data))


def response(field_file: Any, content_type: str) -> FileResponse:
    """Serve a stored photo as the image type it was checked to be, in a sandbox
    (like a dossier's image: it can run and fetch nothing even if it were not a
    picture), never stored by the browser (a seized item's or a detainee's photo
    is personal data: docs/security.md)."""
    try:
        content = field_file.open("rb")
    except OSError:
        raise Http404 from None
    served = FileResponse(content, content_type=content_type)
    served["X-Content-Type-Options"] = "nosniff"
    served["Cache-Control"] = "private, no-store"
    served["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    )
    return served
