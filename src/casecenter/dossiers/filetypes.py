"""What a dossier file is, decided on its whole content, not on its first bytes.

A header is four bytes anyone can write in front of an HTML page. So a file
whose first bytes say PDF must also parse as a PDF (pypdf reads its
cross-reference table, its catalog and its page tree), an image must decode
whole with Pillow (``verify()`` and then ``load()``), and an OFD must be a zip
with its ``OFD.xml``. On top of that, what a browser would sniff as HTML —
markup in the first KiB — is refused whatever follows, and a PDF that carries
JavaScript (a document-level script or an open action) is refused as well.

Accepted: PDF, OFD (GB/T 33190), JPEG, PNG, TIFF. Every refusal is an
``InvalidInput`` with the code ``document.file_content`` and a message in
both languages.
"""

from __future__ import annotations

import logging
import re
import warnings
import zipfile
from typing import IO

from PIL import Image

from casecenter.errors import InvalidInput

#: markup a browser would take for HTML (or script) if it ever sniffed the file
MARKUP = re.compile(
    rb"<\s*(?:!doctype\s+html|html|head|body|script|iframe|svg|meta|object)\b", re.I
)
SNIFFED = 1024
#: an OFD's zip may not declare more than this many members or bytes per stored byte
OFD_MAX_MEMBERS = 10_000
OFD_MAX_RATIO = 20
IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/tiff": "TIFF"}


def refuse(zh: str, en: str) -> InvalidInput:
    return InvalidInput(
        "document.file_content",
        f"文件内容与其类型不符：{zh}。卷宗只接受完整的 PDF、OFD 或图片（JPEG、PNG、TIFF）。",
        f"The file's content is not what its type says: {en}. A dossier takes whole "
        "PDF, OFD or image (JPEG, PNG, TIFF) files only.",
    )


def check(spool: IO[bytes], content_type: str, size: int) -> None:
    """Refuse ``spool`` (a seekable file of ``size`` bytes) unless its whole content
    is a ``content_type`` a dossier takes; the file position is left anywhere."""
    spool.seek(0)
    if MARKUP.search(spool.read(SNIFFED)):
        raise refuse("文件开头含有网页标记", "it starts with web-page markup")
    spool.seek(0)
    if content_type == "application/pdf":
        _check_pdf(spool)
    elif content_type in IMAGE_FORMATS:
        _check_image(spool, IMAGE_FORMATS[content_type])
    elif content_type == "application/ofd":
        _check_ofd(spool, size)
    else:  # pragma: no cover - storage.sniff names only the types above
        raise refuse("未知类型", "an unknown type")


def _check_pdf(spool: IO[bytes]) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    quiet = logging.getLogger("pypdf")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # pypdf warns about every quirk of a real scan
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(spool, strict=False)
            pages = len(reader.pages)
            catalog = reader.trailer["/Root"].get_object()
            names = catalog.get("/Names")
            names = names.get_object() if names is not None else {}
            action = catalog.get("/OpenAction")
            action = action.get_object() if action is not None else None
            scripted = (
                "/JavaScript" in names
                or "/AA" in catalog
                or (hasattr(action, "get") and action.get("/S") == "/JavaScript")
            )
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError):
        raise refuse("无法解析为 PDF", "it does not parse as a PDF") from None
    finally:
        quiet.setLevel(level)
    if pages < 1:
        raise refuse("PDF 没有页面", "the PDF has no page")
    if scripted:
        raise refuse("PDF 含有脚本", "the PDF carries JavaScript")


def _check_image(spool: IO[bytes], expected: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a forged image's quirks: refused, not logged
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(spool) as image:
                if image.format != expected:
                    raise refuse("图片格式与文件头不符", "the image format is not its header's")
                image.verify()
            spool.seek(0)
            with Image.open(spool) as image:
                image.load()  # decodes every pixel: a truncated or forged image fails here
    except InvalidInput:
        raise
    except Exception:  # Pillow's decoders raise many kinds; each means: not an image
        raise refuse("无法完整解码为图片", "it does not decode whole as an image") from None


def _check_ofd(spool: IO[bytes], size: int) -> None:
    try:
        with zipfile.ZipFile(spool) as archive:
            infos = archive.infolist()
            declared = sum(info.file_size for info in infos)
            if len(infos) > OFD_MAX_MEMBERS or declared > OFD_MAX_RATIO * max(size, 1):
                raise refuse("OFD 包含的内容过多", "the OFD declares too much content")
            if "OFD.xml" not in {info.filename for info in infos}:
                raise refuse("OFD 缺少 OFD.xml", "the OFD has no OFD.xml")
            if archive.testzip() is not None:
                raise refuse("OFD 已损坏", "the OFD is damaged")
    except InvalidInput:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, ValueError):
        raise refuse("无法解析为 OFD", "it does not open as an OFD") from None
