"""Masking (脱敏) of personal information for display, PIPL Art. 28 and 51.

Lists and screens show masked values by default; the full value is read through
an audited selector. These functions are total: any input, including an empty
string, ``None`` or something of an unexpected shape, gives a string and never
an error, because a page must not break on one odd record. When the input is
too short to keep its visible parts and still hide something, everything is
masked: a mask that shows the whole value would be worse than none.
"""

from __future__ import annotations

_MASK = "*"


def _keep_ends(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return _MASK * len(value)
    return value[:head] + _MASK * (len(value) - head - tail) + value[len(value) - tail :]


def mask_id_number(value: str | None) -> str:
    """Keep the region code (6) and the last 4: ``110105********1234``."""
    if not value:
        return ""
    return _keep_ends(value.strip(), 6, 4)


def mask_name(value: str | None) -> str:
    """Keep the first character: ``张三丰`` → ``张**``, ``Alice Smith`` → ``A**********``.

    A one-character name still gets one asterisk, so a mask never shows a name
    in full.
    """
    if not value:
        return ""
    name = value.strip()
    if not name:
        return ""
    return name[0] + _MASK * max(1, len(name) - 1)


def mask_phone(value: str | None) -> str:
    """Keep the first 3 and the last 4: ``13812345678`` → ``138****5678``."""
    if not value:
        return ""
    return _keep_ends(value.strip(), 3, 4)
