"""A case with a dossier, small valid files of the types a dossier takes, and the
clients of the UI and API tests."""

from __future__ import annotations

import pytest

from tests.supervision.conftest import api  # noqa: F401 - the bearer-token API client


def pdf(text: str = "") -> bytes:
    """A small real PDF (one blank page), distinct for each ``text`` (its title):
    the dossier parses a PDF whole, a header is not enough."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": text or "-"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def case(make_case):
    return make_case()


@pytest.fixture
def dossier(case):
    from django.db import transaction

    from casecenter.dossiers import services

    with transaction.atomic():
        return services.dossier_of(case)


@pytest.fixture
def add(officers, dossier):
    """``add(kind, text)`` — the lead officer adds a document."""
    from casecenter.dossiers import services

    def make(kind="evidence", text="x", actor=None, **extra):
        return services.add_document(
            actor or officers["lead"],
            dossier,
            kind=kind,
            chunks=[pdf(text)],
            filename=f"{kind}.pdf",
            **extra,
        )

    return make


# --- the UI and API tests -------------------------------------------------------------
