"""The fast track's organisations and case serve the package tests too."""

import pytest  # noqa: E402

from tests.fasttrack.conftest import (  # noqa: F401 - fixtures
    api,
    drunk_driving,
    partners,
    ready_to_submit,
    started,
)


@pytest.fixture(autouse=True)
def own_dossier_storage(settings, tmp_path):
    """These tests change stored files behind casecenter's back: each gets its own
    folder, so a file forged here (its name is its content's hash) is never what
    another test finds under that name."""
    settings.STORAGES = {
        **settings.STORAGES,
        "dossiers": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "dossiers")},
        },
    }
