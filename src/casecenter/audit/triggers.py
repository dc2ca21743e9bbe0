"""Database triggers that make the audit entry table append-only.

One change is allowed: the sequencer's, giving a waiting entry its place —
``seq`` from ``NULL`` to a number, with the leaf, its hash and the id
unchanged (the other columns are generated from the leaf). Nothing else: no
edit, no renumbering, no deletion.

The Merkle tree makes tampering *evident*; these triggers make the ordinary
mistakes *impossible*: an ORM ``update()``, a stray ``DELETE`` in a shell, a
cascade. A database administrator can still drop or disable them (that is what
``casecenter audit verify`` is for), but never by accident.

Both engines raise an integrity error, so Django raises
:class:`django.db.IntegrityError` on either:

* SQLite: ``BEFORE UPDATE`` / ``BEFORE DELETE`` triggers doing
  ``SELECT RAISE(ABORT, …)``.
* PostgreSQL: one plpgsql function raising SQLSTATE 23000 and a
  ``BEFORE UPDATE OR DELETE … FOR EACH ROW`` trigger. ``TRUNCATE`` is not
  refused — Django's test flush needs it — so production must not grant
  ``TRUNCATE`` on the table to the application's role.

Installed by migration 0002. On SQLite, Django applies most ``AlterField``
operations by rebuilding the table, which drops its triggers: any later
migration that alters :class:`~casecenter.audit.models.AuditEntry` must call
:func:`install` again (the tests check that the guard is in place).
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

MESSAGE = "audit log is append-only"

SQLITE_TRIGGERS = ("audit_entry_no_update", "audit_entry_no_delete")
POSTGRES_FUNCTION = "audit_entry_refuse_change"
POSTGRES_TRIGGER = "audit_entry_append_only"


#: The only UPDATE the guard lets through, in SQL both engines understand.
_SEQUENCING = (
    "OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.id = OLD.id "
    "AND NEW.leaf = OLD.leaf AND NEW.leaf_hash = OLD.leaf_hash"
)


def _sqlite_install(table: str) -> list[str]:
    no_update, no_delete = SQLITE_TRIGGERS
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {no_update} BEFORE UPDATE ON "{table}"
            WHEN NOT ({_SEQUENCING})
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {no_delete} BEFORE DELETE ON "{table}"
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    ]


def _postgres_install(table: str) -> list[str]:
    return [
        f"""CREATE OR REPLACE FUNCTION {POSTGRES_FUNCTION}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND {_SEQUENCING} THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
            END
            $$""",
        f'DROP TRIGGER IF EXISTS {POSTGRES_TRIGGER} ON "{table}"',
        f"""CREATE TRIGGER {POSTGRES_TRIGGER} BEFORE UPDATE OR DELETE ON "{table}"
            FOR EACH ROW EXECUTE FUNCTION {POSTGRES_FUNCTION}()""",
    ]


def install_statements(vendor: str, table: str) -> list[str]:
    """The SQL that installs the guard on ``table`` for a database ``vendor``."""
    if vendor == "sqlite":
        return _sqlite_install(table)
    if vendor == "postgresql":
        return _postgres_install(table)
    raise NotImplementedError(f"no append-only triggers for {vendor}")


def remove_statements(vendor: str, table: str) -> list[str]:
    """The SQL that removes the guard (used only to reverse the migration)."""
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS]
    if vendor == "postgresql":
        return [
            f'DROP TRIGGER IF EXISTS {POSTGRES_TRIGGER} ON "{table}"',
            f"DROP FUNCTION IF EXISTS {POSTGRES_FUNCTION}()",
        ]
    raise NotImplementedError(f"no append-only triggers for {vendor}")


def install(connection: BaseDatabaseWrapper, table: str = "audit_auditentry") -> None:
    """Install (or re-install) the guard; idempotent."""
    with connection.cursor() as cursor:
        for statement in install_statements(connection.vendor, table):
            cursor.execute(statement)


def remove(connection: BaseDatabaseWrapper, table: str = "audit_auditentry") -> None:
    with connection.cursor() as cursor:
        for statement in remove_statements(connection.vendor, table):
            cursor.execute(statement)
