"""Refuse UPDATE and DELETE on audit entries in the database itself (leaf format 1).

The SQL is frozen here as it was when this migration was written: the table of
leaf format 1 allowed no change at all. Migration 0004 rebuilds the table and
installs the current guard from casecenter.audit.triggers.
"""

from django.db import migrations

MESSAGE = "audit log is append-only"
SQLITE_TRIGGERS = ("audit_entry_no_update", "audit_entry_no_delete")
POSTGRES_FUNCTION = "audit_entry_refuse_change"
POSTGRES_TRIGGER = "audit_entry_append_only"


def install_statements(vendor, table):
    if vendor == "sqlite":
        return [
            f"""CREATE TRIGGER IF NOT EXISTS {name} BEFORE {event} ON "{table}"
                BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""
            for name, event in zip(SQLITE_TRIGGERS, ("UPDATE", "DELETE"), strict=True)
        ]
    return [
        f"""CREATE OR REPLACE FUNCTION {POSTGRES_FUNCTION}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
            END
            $$""",
        f'DROP TRIGGER IF EXISTS {POSTGRES_TRIGGER} ON "{table}"',
        f"""CREATE TRIGGER {POSTGRES_TRIGGER} BEFORE UPDATE OR DELETE ON "{table}"
            FOR EACH ROW EXECUTE FUNCTION {POSTGRES_FUNCTION}()""",
    ]


def remove_statements(vendor, table):
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS]
    return [
        f'DROP TRIGGER IF EXISTS {POSTGRES_TRIGGER} ON "{table}"',
        f"DROP FUNCTION IF EXISTS {POSTGRES_FUNCTION}()",
    ]


def install(apps, schema_editor):
    table = apps.get_model("audit", "AuditEntry")._meta.db_table
    for statement in install_statements(schema_editor.connection.vendor, table):
        schema_editor.execute(statement)


def remove(apps, schema_editor):
    table = apps.get_model("audit", "AuditEntry")._meta.db_table
    for statement in remove_statements(schema_editor.connection.vendor, table):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
