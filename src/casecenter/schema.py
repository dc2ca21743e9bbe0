"""Field types shared by the API schemas: bounded, clean input at the edge.

PostgreSQL refuses NUL characters in text and over-long values in varchar
columns, and SQLite refuses integers beyond 64 bits: left unchecked, each
would surface as a 500. These types turn them into 422s with a clear message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field


def _clean(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value.strip()


def _sane_time(value: datetime) -> datetime:
    if not 1990 <= value.year <= 2100:
        raise ValueError("time must be between the years 1990 and 2100")
    return value


def Text(max_length: int, min_length: int = 0):  # noqa: N802 - reads as a type
    return Annotated[
        str, Field(min_length=min_length, max_length=max_length), AfterValidator(_clean)
    ]


Id = Annotated[int, Field(ge=1, le=2**53)]
Timestamp = Annotated[datetime, AfterValidator(_sane_time)]
#: Paging of list endpoints: at most 200 rows a page.
Limit = Annotated[int, Field(ge=1, le=200)]
Offset = Annotated[int, Field(ge=0, le=10**9)]
