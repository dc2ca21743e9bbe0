"""Fixtures for the audit log: a small log, and a database administrator's hands."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.db import connection, transaction

from casecenter.accounts.models import User
from casecenter.audit import triggers
from casecenter.audit.models import AuditEntry
from casecenter.audit.services import record


@contextmanager
def guard_lifted() -> Iterator[None]:
    """Edit the log behind the application's back, as a database administrator can.

    SQLite: drop the triggers, then put them back. PostgreSQL: disable the
    table's user triggers, then enable them again.
    """
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in triggers.SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER {name}")
        else:
            cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
    try:
        yield
    finally:
        if connection.vendor == "sqlite":
            triggers.install(connection, table)
        else:
            with connection.cursor() as cursor:
                cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')


@pytest.fixture
def tamper() -> Callable[..., int]:
    """``tamper(seq, **changes)`` rewrites columns of one entry with the guard lifted."""

    def rewrite(target: int, /, **changes: object) -> int:
        with guard_lifted():
            return AuditEntry.objects.filter(seq=target).update(**changes)

    return rewrite


@pytest.fixture
def make_officer(db) -> Callable[..., User]:
    """A user without a password (no Argon2 hashing: the audit tests never log in)."""

    def make(username: str, **extra: object) -> User:
        extra.setdefault("display_name", username)
        return User.objects.create(username=username, **extra)

    return make


@pytest.fixture
def log(make_officer) -> list[AuditEntry]:
    """Five entries by two officers and the system, about users and nothing."""
    alice = make_officer("alice")
    bob = make_officer("bob")
    with transaction.atomic():
        return [
            record(alice, "accounts.user.read", bob, reason="case 12 hand-over"),
            record(bob, "accounts.user.update", bob, data={"changed": ["phone"]}),
            record(None, "calendars.year.load", data={"year": 2025, "days": 365}),
            record(alice, "accounts.user.read", alice, reason="own profile", data={"n": 1.5}),
            record(bob, "accounts.token.create", alice, data={"name": "报表 API"}),
        ]
