"""The canonical bytes of an audit entry: exactly what its Merkle leaf commits to.

An entry's leaf data is the UTF-8 encoding of one JSON object::

    {"action":…,"actor_id":…,"actor_name":…,"at":…,"data":…,"object_id":…,
     "object_type":…,"reason":…,"seq":…}

written with sorted keys, ``separators=(",", ":")``, ``ensure_ascii=False`` and
``allow_nan=False`` — so the same entry always gives the same bytes, and anyone
can recompute them from an exported entry with any JSON library.

* ``at`` is ISO 8601 in UTC with exactly six fractional digits and a ``Z``
  (``2025-03-01T08:00:00.000000Z``). Both SQLite (text) and PostgreSQL
  (``timestamptz``) keep microseconds, which is all a Python datetime holds, so
  the stored value reads back to the same string.
* ``data`` must survive a trip through the database unchanged, or a verify
  would report an untouched entry as tampered. SQLite keeps JSON as text, but
  PostgreSQL's ``jsonb`` re-prints numbers in its own way: ``1e16`` comes back
  as the integer ``10000000000000000`` and ``-0.0`` as ``0.0``. So
  :func:`normalise_data` turns such floats into what the database will return
  (integral floats of magnitude ≥ 10¹⁶ into ints, ``-0.0`` into ``0.0``),
  turns tuples into lists, and refuses what no database keeps: non-string
  keys, NaN and infinities, other types, and strings with NUL characters or
  lone surrogates (PostgreSQL rejects the first, UTF-8 the second). The same
  NUL/surrogate rule applies to every text field of an entry.

Changing this encoding changes every leaf hash: it would need a new version
field in the leaf and a migration path, never an edit in place.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeAlias

JSONValue: TypeAlias = None | bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"]

#: The keys of the canonical object, i.e. the columns an entry's leaf covers.
LEAF_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "reason",
    "data",
)

#: Floats at least this large are all integers and print in exponent form,
#: which PostgreSQL's numeric turns into plain integer digits.
_EXPONENT_FORM_FLOATS = 1e16


def format_at(at: datetime) -> str:
    """``at`` as ISO 8601 UTC with microseconds: ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("an audit timestamp must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_text(value: str, what: str) -> str:
    """Refuse text that a database or UTF-8 cannot keep unchanged."""
    if "\x00" in value:
        raise ValueError(f"{what} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{what} is not valid Unicode text") from exc
    return value


def normalise_data(value: object, where: str = "data") -> JSONValue:
    """A copy of ``value`` in the form both databases return unchanged (see module doc)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} is {value!r}, which JSON cannot hold")
        if value == 0.0:
            return 0.0
        if abs(value) >= _EXPONENT_FORM_FLOATS:
            return int(value)
        return float(value)
    if isinstance(value, str):
        # str.__str__ gives a plain str even for enum-like subclasses, as JSON writes them
        return check_text(str.__str__(value), where)
    if isinstance(value, Mapping):
        result: dict[str, JSONValue] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a non-string key {key!r}")
            plain_key = check_text(str.__str__(key), f"a key in {where}")
            result[plain_key] = normalise_data(item, f"{where}.{plain_key}")
        return result
    if isinstance(value, list | tuple):
        return [normalise_data(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise TypeError(f"{where} is a {type(value).__name__}, which is not JSON")


def leaf_data(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor_name: str,
    action: str,
    object_type: str,
    object_id: str,
    reason: str,
    data: object,
) -> bytes:
    """The canonical bytes of one entry (its Merkle leaf data)."""
    document = {
        "seq": seq,
        "at": format_at(at),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "reason": reason,
        "data": data,
    }
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def entry_leaf_data(entry: Any) -> bytes:
    """The canonical bytes of anything with the :data:`LEAF_FIELDS` as attributes."""
    return leaf_data(**{name: getattr(entry, name) for name in LEAF_FIELDS})
