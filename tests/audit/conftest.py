"""Fixtures for the audit log: a small log, the sequencer, and a database administrator's hands."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, transaction

from casecenter.accounts.models import User
from casecenter.audit import sequencer, triggers
from casecenter.audit.merkle import CompactRange
from casecenter.audit.models import AuditCheckpoint, AuditEntry, AuditHead, AuditNode
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


def leaf_hash_of(leaf: str) -> bytes:
    return hashlib.sha256(b"\x00" + leaf.encode("utf-8")).digest()


def edited_leaf(leaf: str, **changes: object) -> str:
    """``leaf`` with some fields changed, still canonical (what a careful attacker writes)."""
    document = {**json.loads(leaf), **changes}
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


@pytest.fixture
def tamper() -> Callable[..., int]:
    """``tamper(seq, **columns)`` rewrites stored columns (seq, leaf, leaf_hash) of one entry."""

    def rewrite(target: int, /, **changes: object) -> int:
        with guard_lifted():
            return AuditEntry.objects.filter(seq=target).update(**changes)

    return rewrite


def rebuild_tree_as_attacker() -> None:
    """Recompute head and nodes from the stored leaves and drop every signed checkpoint.

    What someone with write access but without the log's key does after
    rewriting entries: the database is consistent in itself again, and no
    checkpoint in it contradicts it (they cannot sign a new one).
    """
    tree = CompactRange()
    nodes: list[AuditNode] = []

    def keep(level: int, index: int, value: bytes) -> None:
        if level >= sequencer.NODE_LEVEL:
            nodes.append(AuditNode(level=level, index=index, hash=value))

    leaves = AuditEntry.objects.filter(seq__isnull=False).order_by("seq")
    for leaf in leaves.values_list("leaf", flat=True):
        tree.append(leaf_hash_of(leaf), keep)
    AuditNode.objects.all().delete()
    AuditNode.objects.bulk_create(nodes)
    AuditCheckpoint.objects.all().delete()
    AuditHead.objects.update(size=tree.size, frontier=tree.to_hex(), root=tree.root())


@pytest.fixture(autouse=True)
def every_checkpoint_kept(settings):
    """Keep every batch's checkpoint in the history (production keeps one a minute)."""
    settings.CASECENTER_AUDIT_CHECKPOINT_HISTORY_SECONDS = 0


@pytest.fixture
def make_officer(db) -> Callable[..., User]:
    """A user without a password (no Argon2 hashing: the audit tests never log in)."""

    def make(username: str, **extra: object) -> User:
        extra.setdefault("display_name", username)
        return User.objects.create(username=username, **extra)

    return make


@pytest.fixture
def log(make_officer) -> list[AuditEntry]:
    """Five entries by two officers and the system, sequenced into a signed tree."""
    alice = make_officer("alice")
    bob = make_officer("bob")
    with transaction.atomic():
        written = [
            record(alice, "accounts.user.read", bob, reason="case 12 hand-over"),
            record(bob, "accounts.user.update", bob, data={"changed": ["phone"]}),
            record(None, "calendars.year.load", data={"year": 2025, "days": 365}),
            record(alice, "accounts.user.read", alice, reason="own profile", data={"n": 1.5}),
            record(bob, "accounts.token.create", alice, data={"name": "报表 API"}),
        ]
    sequencer.integrate_all()
    return [AuditEntry.objects.get(pk=entry.pk) for entry in written]


def write_entries(count: int, action: str = "test.bulk") -> None:
    """``count`` waiting entries, written fast (one transaction) for the larger tests."""
    with transaction.atomic():
        for n in range(count):
            record(None, action, data={"n": n})


def database_url() -> str:
    """The test database as a DATABASE_URL a child process can use (skips on :memory:)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        if connection.is_in_memory_db():
            pytest.skip("an in-memory test database cannot be shared: set CASECENTER_TEST_SQLITE")
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    user = quote(s.get("USER") or "", safe="")
    password = quote(s.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{s.get('HOST') or ''}:{s.get('PORT') or 5432}/{s['NAME']}"
