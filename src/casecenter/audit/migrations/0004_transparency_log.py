"""The audit log becomes a transparency log: a queue, a sequencer, signed checkpoints.

* Entries are written without a lock and wait (``seq`` NULL) until the
  sequencer places them; the leaf (format 2) no longer holds ``seq``, and the
  columns are generated from the stored leaf.
* The entries of the old log (leaf format 1, seq in the leaf, a tree root per
  entry) are copied in their order as waiting entries of format 2, followed by
  one ``audit.log_migrated`` entry naming the old log's size and root; the
  sequencer then integrates them into a fresh tree. No checkpoint was ever
  handed out for the old log, so nothing outside can disagree.
* New tables: tree nodes for proofs, signed checkpoints, the log's keys.
"""

import hashlib
import json
from datetime import UTC, datetime

import django.db.models.deletion  # noqa: F401 - kept for the historical model state
from django.db import migrations, models

import casecenter.audit.models
import casecenter.privacy.fields
from casecenter.audit import triggers

EMPTY_ROOT = hashlib.sha256(b"").digest()
OLD_TRIGGERS = ("audit_entry_no_update", "audit_entry_no_delete")


def _leaf_v2(at, actor_id, actor_name, action, object_type, object_id, reason, data):
    """Leaf format 2, frozen here (casecenter.audit.canonical writes the same)."""
    document = {
        "v": 2,
        "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "reason": reason,
        "data": data,
    }
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _leaf_hash(leaf):
    return hashlib.sha256(b"\x00" + leaf.encode("utf-8")).digest()


def drop_old_guard(apps, schema_editor):
    table = apps.get_model("audit", "AuditEntry")._meta.db_table
    if schema_editor.connection.vendor == "sqlite":
        for name in OLD_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        schema_editor.execute(f'DROP TRIGGER IF EXISTS {triggers.POSTGRES_TRIGGER} ON "{table}"')


def create_time_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(casecenter.audit.models.POSTGRES_AT_FUNCTION_SQL)


def drop_time_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {casecenter.audit.models.POSTGRES_AT_FUNCTION}(text)")


def copy_old_entries(apps, schema_editor):
    alias = schema_editor.connection.alias
    Old = apps.get_model("audit", "AuditEntryV1")
    New = apps.get_model("audit", "AuditEntry")
    Head = apps.get_model("audit", "AuditHead")
    batch = []
    count = 0
    for old in Old.objects.using(alias).order_by("seq").iterator(chunk_size=2000):
        leaf = _leaf_v2(
            old.at, old.actor_id, old.actor_name, old.action,
            old.object_type, old.object_id, old.reason, old.data,
        )
        batch.append(New(leaf=leaf, leaf_hash=_leaf_hash(leaf)))
        count += 1
        if len(batch) == 2000:
            New.objects.using(alias).bulk_create(batch)
            batch = []
    head = Head.objects.using(alias).filter(pk=1).first()
    if count:
        old_root = bytes(head.root).hex() if head is not None else ""
        leaf = _leaf_v2(
            datetime.now(UTC), None, "system", "audit.log_migrated", "", "", "",
            {"leaf_format": 2, "old_size": count, "old_root": old_root},
        )
        batch.append(New(leaf=leaf, leaf_hash=_leaf_hash(leaf)))
    New.objects.using(alias).bulk_create(batch)
    Head.objects.using(alias).update_or_create(
        pk=1, defaults={"size": 0, "frontier": [], "root": EMPTY_ROOT}
    )


def install_guard(apps, schema_editor):
    table = apps.get_model("audit", "AuditEntry")._meta.db_table
    for statement in triggers.install_statements(schema_editor.connection.vendor, table):
        schema_editor.execute(statement)


def remove_guard(apps, schema_editor):
    table = apps.get_model("audit", "AuditEntry")._meta.db_table
    for statement in triggers.remove_statements(schema_editor.connection.vendor, table):
        schema_editor.execute(statement)


def leaf_field(key, kind, output, verbose_name):
    return models.GeneratedField(
        db_persist=True,
        expression=casecenter.audit.models.LeafValue(key, kind),
        output_field=output,
        verbose_name=verbose_name,
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_audit_head_row")]

    operations = [
        migrations.RunPython(drop_old_guard, migrations.RunPython.noop, elidable=False),
        migrations.RemoveIndex(model_name="auditentry", name="audit_entry_object"),
        migrations.RemoveIndex(model_name="auditentry", name="audit_entry_actor"),
        migrations.RemoveConstraint(model_name="auditentry", name="audit_entry_seq_gte_0"),
        migrations.RenameModel(old_name="AuditEntry", new_name="AuditEntryV1"),
        migrations.RunPython(create_time_function, drop_time_function, elidable=False),
        migrations.CreateModel(
            name="AuditEntry",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("seq", models.BigIntegerField(blank=True, null=True, unique=True, verbose_name="sequence number")),
                ("leaf", models.TextField(verbose_name="leaf")),
                ("leaf_hash", models.BinaryField(max_length=32, verbose_name="leaf hash")),
                ("at", leaf_field("at", "at", models.DateTimeField(), "at")),
                ("actor_id", leaf_field("actor_id", "bigint", models.BigIntegerField(null=True), "actor id")),
                ("actor_name", leaf_field("actor_name", "text", models.TextField(), "actor")),
                ("action", leaf_field("action", "text", models.TextField(), "action")),
                ("object_type", leaf_field("object_type", "text", models.TextField(), "object type")),
                ("object_id", leaf_field("object_id", "text", models.TextField(), "object id")),
                ("reason", leaf_field("reason", "text", models.TextField(), "reason")),
                ("data", leaf_field("data", "json", models.JSONField(), "data")),
            ],
            options={
                "verbose_name": "audit entry",
                "verbose_name_plural": "audit entries",
                "ordering": ["id"],
                "indexes": [
                    models.Index(fields=["object_type", "object_id"], name="audit_entry_by_object"),
                    models.Index(fields=["actor_id", "action"], name="audit_entry_by_actor"),
                    models.Index(condition=models.Q(("seq__isnull", True)), fields=["id"], name="audit_queue"),
                ],
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("seq__gte", 0)), name="audit_entry_seq_gte_0"),
                ],
            },
        ),
        migrations.AddField(
            model_name="audithead",
            name="checkpoint",
            field=models.TextField(blank=True, verbose_name="latest signed checkpoint"),
        ),
        migrations.RunPython(copy_old_entries, migrations.RunPython.noop, elidable=False),
        migrations.DeleteModel(name="AuditEntryV1"),
        migrations.RunPython(install_guard, remove_guard, elidable=False),
        migrations.CreateModel(
            name="AuditNode",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("level", models.PositiveSmallIntegerField(verbose_name="level")),
                ("index", models.BigIntegerField(verbose_name="index")),
                ("hash", models.BinaryField(max_length=32, verbose_name="hash")),
            ],
            options={
                "verbose_name": "audit tree node",
                "constraints": [models.UniqueConstraint(fields=("level", "index"), name="audit_node_unique")],
            },
        ),
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("size", models.BigIntegerField(primary_key=True, serialize=False, verbose_name="size")),
                ("root", models.BinaryField(max_length=32, verbose_name="root")),
                ("made_at", models.DateTimeField(verbose_name="made at")),
                ("key_id", models.CharField(max_length=8, verbose_name="signing key")),
                ("note", models.TextField(verbose_name="signed note")),
            ],
            options={"ordering": ["size"], "verbose_name": "audit checkpoint"},
        ),
        migrations.CreateModel(
            name="LogKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, verbose_name="name")),
                ("key_hash", models.CharField(max_length=8, verbose_name="key hash")),
                ("public_key", models.CharField(max_length=64, verbose_name="public key")),
                ("private_key", casecenter.privacy.fields.EncryptedTextField(context="audit.log_key.private")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                ("retired_at", models.DateTimeField(blank=True, null=True, verbose_name="retired at")),
            ],
            options={
                "verbose_name": "log signing key",
                "ordering": ["-created_at"],
                "constraints": [
                    models.UniqueConstraint(fields=("name", "key_hash"), name="audit_log_key_unique"),
                    models.UniqueConstraint(
                        condition=models.Q(("retired_at__isnull", True)),
                        fields=("name",),
                        name="audit_one_active_log_key",
                    ),
                ],
            },
        ),
    ]
