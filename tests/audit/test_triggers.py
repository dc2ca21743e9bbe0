"""The database keeps the audit log append-only: one change allowed, the sequencer's.

A waiting entry may be given its place (``seq`` from NULL to a number, with
``id``, ``leaf`` and ``leaf_hash`` unchanged). Every other UPDATE and every
DELETE is refused by a trigger; the generated columns cannot be written at
all, not even with the trigger lifted.
"""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from casecenter.audit import sequencer
from casecenter.audit.models import AuditEntry
from casecenter.audit.services import record
from casecenter.audit.verify import verify_log

from .conftest import edited_leaf, guard_lifted, leaf_hash_of

pytestmark = pytest.mark.django_db

TABLE = AuditEntry._meta.db_table
GENERATED = ("at", "actor_id", "actor_name", "action", "object_type", "object_id", "reason", "data")


def refused(action) -> None:
    with pytest.raises(IntegrityError, match="audit log is append-only"), transaction.atomic():
        action()


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


@pytest.fixture
def waiting(log) -> AuditEntry:
    """An entry written after the five sequenced ones, not placed yet."""
    with transaction.atomic():
        entry = record(None, "test.waiting", data={"n": 1})
    assert entry.seq is None
    return AuditEntry.objects.get(pk=entry.pk)


def test_the_generated_columns_are_exactly_the_entrys_fields():
    generated = {f.name for f in AuditEntry._meta.concrete_fields if f.generated}
    assert generated == set(GENERATED)


# --- the one change allowed ---------------------------------------------------------------


def test_giving_a_waiting_entry_its_place_is_allowed(waiting):
    assert AuditEntry.objects.filter(pk=waiting.pk).update(seq=5) == 1
    assert AuditEntry.objects.get(pk=waiting.pk).seq == 5


def test_the_sequencer_places_entries_through_the_guard(waiting):
    assert sequencer.integrate_all() == 1
    waiting.refresh_from_db()
    assert waiting.seq == 5
    assert verify_log().ok


# --- everything else ----------------------------------------------------------------------


def test_renumbering_a_sequenced_entry_is_refused(log):
    refused(lambda: AuditEntry.objects.filter(seq=1).update(seq=100))
    refused(lambda: AuditEntry.objects.filter(seq=4).update(seq=None))
    refused(lambda: sql(f'UPDATE "{TABLE}" SET seq = seq + 10'))  # noqa: S608


def test_changing_the_leaf_or_its_hash_is_refused_placed_or_waiting(log, waiting):
    for entry in (log[1], waiting):
        forged = edited_leaf(entry.leaf, reason="edited")
        refused(lambda e=entry, f=forged: AuditEntry.objects.filter(pk=e.pk).update(leaf=f))
        refused(
            lambda e=entry, f=forged: AuditEntry.objects.filter(pk=e.pk).update(
                leaf=f, leaf_hash=leaf_hash_of(f)
            )
        )
        refused(lambda e=entry: AuditEntry.objects.filter(pk=e.pk).update(leaf_hash=bytes(32)))


def test_placing_an_entry_while_changing_it_is_refused(waiting):
    forged = edited_leaf(waiting.leaf, reason="edited")
    refused(lambda: AuditEntry.objects.filter(pk=waiting.pk).update(seq=5, leaf=forged))
    refused(lambda: AuditEntry.objects.filter(pk=waiting.pk).update(seq=5, leaf_hash=bytes(32)))
    refused(lambda: AuditEntry.objects.filter(pk=waiting.pk).update(seq=5, id=waiting.pk + 1000))


def test_changing_an_entrys_id_is_refused(log):
    refused(lambda: AuditEntry.objects.filter(seq=2).update(id=10_000))


def test_saving_an_entry_is_refused_even_unchanged(log, waiting):
    for entry in (AuditEntry.objects.get(seq=1), waiting):
        refused(entry.save)
    changed = AuditEntry.objects.get(seq=1)
    changed.leaf = edited_leaf(changed.leaf, reason="edited")
    refused(changed.save)


def test_deleting_entries_is_refused(log, waiting):
    refused(lambda: AuditEntry.objects.filter(seq=4).delete())
    refused(lambda: AuditEntry.objects.filter(pk=waiting.pk).delete())
    refused(lambda: AuditEntry.objects.all().delete())


def test_raw_sql_update_and_delete_are_refused(log):
    refused(lambda: sql(f'UPDATE "{TABLE}" SET leaf_hash = leaf_hash WHERE seq = 1'))  # noqa: S608
    refused(lambda: sql(f'DELETE FROM "{TABLE}" WHERE seq = 1'))  # noqa: S608


def test_the_orm_never_writes_a_generated_column(log):
    """Django leaves generated fields out of an UPDATE: nothing is written, nothing refused."""
    assert AuditEntry.objects.filter(seq=1).update(reason="edited") == 0
    assert AuditEntry.objects.get(seq=1).reason == ""


@pytest.mark.parametrize("column", GENERATED)
def test_generated_columns_cannot_be_written_even_with_the_guard_lifted(log, column):
    value = {"at": "2025-01-01 00:00:00", "actor_id": 1, "data": '{"x": 1}'}.get(column, "edited")
    update = f'UPDATE "{TABLE}" SET "{column}" = %s WHERE seq = 1'  # noqa: S608
    insert = (
        f'INSERT INTO "{TABLE}" (leaf, leaf_hash, "{column}") '  # noqa: S608
        f'SELECT leaf, leaf_hash, %s FROM "{TABLE}" WHERE seq = 1'
    )
    with guard_lifted():
        for statement, problem in (
            (update, "generated column|can only be updated to DEFAULT"),
            (insert, "generated column|non-DEFAULT value"),
        ):
            with pytest.raises(DatabaseError, match=problem), transaction.atomic():
                sql(statement, [value])
    assert AuditEntry.objects.get(seq=1).leaf == log[1].leaf


def test_after_refusals_the_log_is_untouched_and_still_grows(log):
    refused(lambda: AuditEntry.objects.update(leaf_hash=bytes(32)))
    with transaction.atomic():
        record(None, "test.after_refusal")
    sequencer.integrate_all()
    report = verify_log()
    assert (report.ok, report.size) == (True, 6)
    assert [e.leaf for e in AuditEntry.objects.filter(seq__lt=5).order_by("seq")] == [
        e.leaf for e in log
    ]


@pytest.mark.django_db(transaction=True)
def test_flush_erases_the_log_and_keeps_the_guard():
    """Django's flush (used after transactional tests) works on both engines."""
    from django.core.management import call_command

    with transaction.atomic():
        record(None, "test.before_flush")
    sequencer.integrate_all()
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEntry.objects.exists()
    with transaction.atomic():
        entry = record(None, "test.after_flush")
    assert sequencer.integrate_all() == 1
    assert AuditEntry.objects.get(pk=entry.pk).seq == 0
    assert verify_log().ok
    refused(lambda: AuditEntry.objects.filter(pk=entry.pk).update(seq=7))
    refused(lambda: AuditEntry.objects.all().delete())
