"""The matrix's world: built once per module, rolled back when the module ends."""

from __future__ import annotations

import pytest
from django.db import transaction


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    from tests.security.world import build

    with django_db_blocker.unblock(), transaction.atomic():
        yield build()
        transaction.set_rollback(True)
