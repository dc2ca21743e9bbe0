"""The dossier size cap, enforced while an upload streams in.

Django writes an uploaded file to memory or a temporary file as it arrives;
without a cap, a 10 GB post to the dossier would be written whole before the
service could count its bytes. :class:`CappedUploadHandler` comes first in
``FILE_UPLOAD_HANDLERS``: on the dossier's upload addresses (the page's and
the API's) it stops a file at its first chunk when the body's announced length
passes the cap, and otherwise the moment its bytes pass the cap
(``StopUpload``: the part already received is closed and deleted by Django,
the rest of the body is read and dropped, nothing reaches the storage). The
refusal is kept on the request (:func:`refusal`); the view and the API answer
it with the bilingual ``document.too_large`` error instead of a missing file.
"""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

from casecenter.dossiers import storage
from casecenter.errors import InvalidInput

#: the paths whose uploads are dossier files (the page's forms and the API)
UPLOAD_PATHS = ("/api/dossiers/",)
UPLOAD_SUFFIXES = ("/dossier/documents/", "/versions/")
#: room for the form's other fields and the multipart framing around the file
OVERHEAD = 64 * 1024
ATTRIBUTE = "casecenter_upload_refused"


def is_dossier_upload(path: str) -> bool:
    return path.startswith(UPLOAD_PATHS) or (
        path.endswith(UPLOAD_SUFFIXES) and ("/dossier" in path)
    )


def refusal(request: HttpRequest) -> InvalidInput | None:
    """The error an upload of ``request`` was stopped with, if it was."""
    return getattr(request, ATTRIBUTE, None)


class CappedUploadHandler(FileUploadHandler):
    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        path = request.path_info if request is not None else ""
        self.limit = storage.max_bytes() if is_dossier_upload(path) else None
        self.received = 0
        self.announced_too_large = False

    def _refuse(self) -> None:
        if self.request is not None:
            setattr(self.request, ATTRIBUTE, storage.too_large())
        raise StopUpload(connection_reset=False)

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # a body announced larger than the cap: its fields (the CSRF token first) are
        # still read, its file is stopped at its first chunk
        self.announced_too_large = bool(
            self.limit is not None and content_length and content_length > self.limit + OVERHEAD
        )
        return None

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.limit is not None and (self.announced_too_large or self.received > self.limit):
            self._refuse()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
