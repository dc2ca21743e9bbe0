"""The database itself refuses to change or delete audit entries."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from casecenter.audit.models import AuditEntry
from casecenter.audit.services import record
from casecenter.audit.verify import verify_log

pytestmark = pytest.mark.django_db

TABLE = AuditEntry._meta.db_table


def refused(action) -> None:
    with pytest.raises(IntegrityError, match="audit log is append-only"), transaction.atomic():
        action()


def test_orm_update_of_an_entry_is_refused(log):
    refused(lambda: AuditEntry.objects.filter(seq=1).update(reason="edited"))


def test_saving_a_changed_entry_is_refused(log):
    entry = AuditEntry.objects.get(seq=1)
    entry.reason = "edited"
    refused(entry.save)


def test_deleting_entries_is_refused(log):
    refused(lambda: AuditEntry.objects.filter(seq=4).delete())
    refused(lambda: AuditEntry.objects.all().delete())


def test_raw_sql_update_and_delete_are_refused(log):
    def run(sql: str):
        with connection.cursor() as cursor:
            cursor.execute(sql)

    refused(lambda: run(f"UPDATE {TABLE} SET reason = 'edited' WHERE seq = 1"))
    refused(lambda: run(f"DELETE FROM {TABLE} WHERE seq = 1"))


def test_after_refusals_the_log_is_untouched_and_still_grows(log):
    refused(lambda: AuditEntry.objects.update(reason="edited"))
    with transaction.atomic():
        record(None, "test.after_refusal")
    report = verify_log()
    assert (report.ok, report.size) == (True, 6)
    assert AuditEntry.objects.filter(reason="edited").count() == 0


@pytest.mark.django_db(transaction=True)
def test_flush_erases_the_log_and_keeps_the_guard():
    """Django's flush (used after transactional tests) works on both engines."""
    from django.core.management import call_command

    with transaction.atomic():
        record(None, "test.before_flush")
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEntry.objects.exists()
    with transaction.atomic():
        entry = record(None, "test.after_flush")
    assert entry.seq == 0
    refused(lambda: AuditEntry.objects.update(reason="edited"))
