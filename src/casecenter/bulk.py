"""Many rows of one model updated in one round trip.

Django's ``bulk_update`` builds one ``CASE WHEN`` expression per object and
field, which costs more in Python than the database spends on it (the device
ingester updates a hundred wristbands and stays per batch). ``update_rows``
sends one plain ``UPDATE … WHERE id = %s`` with ``executemany`` instead
(psycopg pipelines it; SQLite runs it in-process), each value prepared by its
field as Django would.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def update_rows(objs: Sequence[Model], fields: Sequence[str]) -> int:
    """Write ``fields`` of each object to its row; returns how many objects."""
    if not objs:
        return 0
    meta = type(objs[0])._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608 - names from the model
        quote(meta.db_table),
        ", ".join(f"{quote(f.column)} = %s" for f in columns),
        quote(meta.pk.column),
    )
    rows = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns] + [obj.pk]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    return len(rows)
