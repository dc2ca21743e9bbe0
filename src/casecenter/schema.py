"""Field types shared by the API schemas: bounded, clean input at the edge.

PostgreSQL refuses NUL characters in text and over-long values in varchar
columns, and SQLite refuses integers beyond 64 bits: left unchecked, each
would surface as a 500. These types turn them into 422s with a clear message.

A field that takes one of a fixed set of values says which in the OpenAPI
document (:func:`Choice`, :func:`ChoiceFilter`), so a client knows them
without reading the code.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field


def _clean(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value.strip()


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


def _sane_time(value: datetime) -> datetime:
    if not 1990 <= value.year <= 2100:
        raise ValueError("time must be between the years 1990 and 2100")
    return value


def Text(max_length: int, min_length: int = 0):  # noqa: N802 - reads as a type
    return Annotated[
        str, Field(min_length=min_length, max_length=max_length), AfterValidator(_clean)
    ]


def _values(choices: Any, max_length: int) -> list[str]:
    """The values of a ``TextChoices`` class, or of an iterable of strings."""
    values = [str(v) for v in (choices.values if isinstance(choices, type) else choices)]
    too_long = [v for v in values if len(v) > max_length]
    if too_long:
        raise ValueError(f"{too_long} do not fit in max_length={max_length}")
    return values


def Choice(  # noqa: N802 - reads as a type
    choices: type | Iterable[str], max_length: int, *, blank: bool = False
):
    """One of ``choices`` (a ``TextChoices`` class or strings), published as an ``enum``.

    The edge only bounds it: the service checks the value against the same
    choices and refuses any other with its own code and message in both
    languages (``case.kind``: "Unknown case kind: …"), which says more than a
    schema error would. ``blank``: "" is one of the values too (the service
    then fills in a default). The value is taken as sent, not stripped, so
    what the ``enum`` lists is exactly what is accepted.
    """
    values = _values(choices, max_length)
    return Annotated[
        str,
        Field(
            min_length=0 if blank else 1,
            max_length=max_length,
            json_schema_extra={"enum": ["", *values] if blank else values},
        ),
        AfterValidator(_no_nul),
    ]


def ChoiceFilter(choices: type | Iterable[str], max_length: int):  # noqa: N802
    """A query filter that is one of ``choices``, or "" for any: published as an
    ``enum`` with "", and any other value refused here (422) — a filter has no
    service to refuse it, and an unknown value would otherwise match nothing
    without a word."""
    allowed = ["", *_values(choices, max_length)]

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed[1:])}, or empty for any")
        return value

    return Annotated[
        str,
        Field(max_length=max_length, json_schema_extra={"enum": allowed}),
        AfterValidator(check),
    ]


Id = Annotated[int, Field(ge=1, le=2**53)]
Timestamp = Annotated[datetime, AfterValidator(_sane_time)]
#: Paging of list endpoints: at most 200 rows a page.
Limit = Annotated[int, Field(ge=1, le=200)]
Offset = Annotated[int, Field(ge=0, le=10**9)]
