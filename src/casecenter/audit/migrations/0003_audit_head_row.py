"""Create the AuditHead row that every append locks.

Creating it here, before any append can run, means appends never race to
create it; record() re-creates it only for an empty log (e.g. after a flush).
"""

import hashlib

from django.db import migrations

EMPTY_ROOT = hashlib.sha256(b"").digest()


def create_head(apps, schema_editor):
    AuditHead = apps.get_model("audit", "AuditHead")
    AuditHead.objects.using(schema_editor.connection.alias).get_or_create(
        pk=1, defaults={"size": 0, "frontier": [], "root": EMPTY_ROOT}
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]

    operations = [migrations.RunPython(create_head, migrations.RunPython.noop, elidable=False)]
