"""Upload hardening: a file's type is decided on its whole content, the size cap stops an
upload while it streams, and a download runs nothing in the browser."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.test import RequestFactory
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfWriter

from casecenter.dossiers import filetypes, services, storage, uploads
from casecenter.dossiers.models import Document, Dossier, Version
from casecenter.errors import InvalidInput
from tests.dossiers.conftest import pdf

pytestmark = pytest.mark.django_db


def png(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 20, 20)).save(out, format="JPEG")
    return out.getvalue()


def ofd(with_root: bool = True) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        if with_root:
            archive.writestr("OFD.xml", "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>")
        archive.writestr("Doc_0/Document.xml", "<ofd:Document/>")
    return out.getvalue()


def pdf_with_script() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('x');"),
        }
    )
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def add(officers, dossier, data: bytes, filename: str = "scan.pdf"):
    return services.add_document(
        officers["lead"], dossier, kind="evidence", chunks=[data], filename=filename
    )


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n<html><script>alert(document.cookie)</script></html>",
        b"%PDF-1.4\n% only a header, no objects, no cross-reference table\n",
        pdf("x")[: len(pdf("x")) // 2],  # a real PDF cut in half
        b"\x89PNG\r\n\x1a\n<script>alert(1)</script>",
        png()[:-40],  # a truncated PNG: its header is right, its pixels are missing
        b"\xff\xd8\xff\xe0<!doctype html><body onload=alert(1)>",
        b"II*\x00" + b"\x00" * 64,  # a TIFF header and nothing behind it
        ofd(with_root=False),  # a zip that is not an OFD
        pdf_with_script(),  # a real PDF that would run JavaScript
    ],
)
def test_a_file_is_refused_unless_its_whole_content_is_its_type(officers, dossier, data):
    with pytest.raises(InvalidInput) as refused:
        add(officers, dossier, data)
    assert refused.value.code == "document.file_content"
    assert "PDF、OFD 或图片" in refused.value.message_zh
    assert "PDF, OFD or image" in refused.value.message_en
    assert not Document.objects.exists() and not Version.objects.exists()


def test_markup_a_browser_would_sniff_is_refused_even_in_a_whole_image(officers, dossier):
    from PIL.PngImagePlugin import PngInfo

    text = PngInfo()
    text.add_text("Comment", "<script>alert(document.cookie)</script>")
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="PNG", pnginfo=text)
    with pytest.raises(InvalidInput) as refused:
        add(officers, dossier, out.getvalue(), filename="x.png")
    assert refused.value.code == "document.file_content"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (pdf("whole"), "application/pdf"),
        (png(), "image/png"),
        (jpeg(), "image/jpeg"),
        (ofd(), "application/ofd"),
    ],
)
def test_whole_files_of_each_accepted_type_are_kept(officers, dossier, data, content_type):
    document = add(officers, dossier, data)
    version = document.versions.get()
    assert version.content_type == content_type and version.size == len(data)


def test_an_image_is_shown_inline_in_a_sandbox_and_a_pdf_is_a_download(
    officers, dossier, browser_of
):
    image = add(officers, dossier, png(), filename="现场.png")
    paper = add(officers, dossier, pdf("p"), filename="evil.html")
    lead = browser_of(officers["lead"])
    r = lead.get(f"/dossiers/documents/{image.pk}/file/")
    assert r["Content-Type"] == "image/png" and r["X-Content-Type-Options"] == "nosniff"
    assert r["Content-Disposition"].startswith("inline; ")
    assert r["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
    r = lead.get(f"/dossiers/documents/{paper.pk}/file/")
    # a PDF named .html is saved as .pdf: the name never makes it a web page on the disk
    assert r["Content-Disposition"] == (
        "attachment; filename=\"evil.pdf\"; filename*=UTF-8''evil.pdf"
    )
    assert r["Content-Security-Policy"] == "sandbox" and "no-store" in r["Cache-Control"]


# --- the size cap while the upload streams ---------------------------------------------------

RECEIVED: list[int] = []


class CountingHandler(FileUploadHandler):
    """Stands after the cap and counts the file bytes that got past it."""

    def receive_data_chunk(self, raw_data, start):
        RECEIVED.append(len(raw_data))
        return raw_data

    def file_complete(self, file_size):
        return None


@pytest.fixture
def counted(settings):
    RECEIVED.clear()
    settings.CASECENTER_DOSSIER_MAX_MB = 1
    settings.FILE_UPLOAD_HANDLERS = [
        "casecenter.dossiers.uploads.CappedUploadHandler",
        "tests.dossiers.test_uploads.CountingHandler",
        "django.core.files.uploadhandler.MemoryFileUploadHandler",
        "django.core.files.uploadhandler.TemporaryFileUploadHandler",
    ]
    return RECEIVED


def big() -> bytes:
    return pdf("big") + b"\0" * (3 * 1024 * 1024)


def test_an_upload_past_the_cap_is_stopped_before_its_file_is_written(
    officers, case, browser_of, counted
):
    r = browser_of(officers["lead"]).post(
        f"/cases/{case.pk}/dossier/documents/",
        {"kind": "evidence", "file": SimpleUploadedFile("big.pdf", big())},
        follow=True,
    )
    page = r.content.decode()
    assert r.status_code == 200 and "文件不能超过 1 MB" in page
    assert sum(counted) < 1024 * 1024  # the 3 MB never reached the handlers that store it
    assert not Document.objects.exists() and not Dossier.objects.exists()


def test_the_api_answers_a_stopped_upload_with_413_in_both_languages(api, case, counted):
    r = api("lead").post(
        f"/api/dossiers/cases/{case.pk}/documents",
        {"kind": "evidence", "file": SimpleUploadedFile("big.pdf", big())},
    )
    assert r.status_code == 413 and r.json()["code"] == "document.too_large"
    assert "1 MB" in r.json()["message_zh"] and "1 MB" in r.json()["message_en"]
    assert sum(counted) < 1024 * 1024 and not Document.objects.exists()


def test_the_cap_stops_a_file_whose_length_was_not_announced(settings):
    """A chunked upload announces no length: the bytes themselves are counted."""
    settings.CASECENTER_DOSSIER_MAX_MB = 1
    request = RequestFactory().post("/api/dossiers/cases/1/documents")
    handler = uploads.CappedUploadHandler(request)
    handler.handle_raw_input(None, {}, 0, b"--x")
    handler.new_file("file", "big.pdf", "application/pdf", None)
    chunk = b"\0" * (64 * 1024)
    for n in range(16):
        assert handler.receive_data_chunk(chunk, n * len(chunk)) == chunk
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"\0", 16 * len(chunk))
    assert uploads.refusal(request).code == "document.too_large"


def test_other_uploads_are_not_capped_by_the_dossier_limit(settings):
    settings.CASECENTER_DOSSIER_MAX_MB = 1
    handler = uploads.CappedUploadHandler(RequestFactory().post("/property/items/1/photos/"))
    handler.handle_raw_input(None, {}, 5 * 1024 * 1024, b"--x")
    handler.new_file("photo", "p.jpg", "image/jpeg", None)
    assert handler.receive_data_chunk(b"\0" * (2 * 1024 * 1024), 0) is not None


def test_a_refused_file_leaves_nothing_in_the_storage(officers, dossier):
    data = b"%PDF-1.7\n<html></html>"
    with pytest.raises(InvalidInput):
        add(officers, dossier, data)
    sha = hashlib.sha256(data).hexdigest()
    assert not storage.storage().exists(f"{sha[:2]}/{sha}.pdf")


@examples(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    magic=st.sampled_from([magic for magic, _, _ in storage.SIGNATURES]),
    body=st.binary(max_size=4000),
)
def test_any_bytes_behind_a_known_header_are_accepted_or_refused_never_an_error(magic, body):
    """A forged file is a bilingual refusal (never a 500), whatever its bytes."""
    data = magic + body
    content_type, _ = storage.sniff(data[:16])
    spool = io.BytesIO(data)
    try:
        filetypes.check(spool, content_type, len(data))
    except InvalidInput as refused:
        assert refused.code == "document.file_content"
