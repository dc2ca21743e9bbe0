"""Refuse UPDATE and DELETE on audit entries in the database itself.

The SQL lives in casecenter.audit.triggers so tests (and any later migration
that rebuilds the table on SQLite) install exactly the same guard.
"""

from django.db import migrations

from casecenter.audit import triggers


def install(apps, schema_editor):
    table = apps.get_model("audit", "AuditEntry")._meta.db_table
    for statement in triggers.install_statements(schema_editor.connection.vendor, table):
        schema_editor.execute(statement)


def remove(apps, schema_editor):
    table = apps.get_model("audit", "AuditEntry")._meta.db_table
    for statement in triggers.remove_statements(schema_editor.connection.vendor, table):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
