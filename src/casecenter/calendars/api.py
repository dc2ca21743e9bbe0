"""API: the law package's computations (periods, ID numbers) for other systems."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema

from casecenter import law
from casecenter.calendars.selectors import work_calendar
from casecenter.errors import InvalidInput
from casecenter.schema import Text, Timestamp

router = Router(tags=["law"])


class PeriodQuery(Schema):
    start: Timestamp
    length: int
    unit: law.Unit
    in_custody: bool = False


class PeriodOut(Schema):
    ends_at: datetime
    last_day: date | None
    extended_by_holiday: bool
    calendar: str
    basis: str
    explanation: str


class IdNumberIn(Schema):
    number: Text(30, 1)


class IdNumberOut(Schema):
    number: str
    birth_date: date
    sex: str
    region_code: str
    upgraded_from_15: bool


def _law_error(exc: law.LawError) -> InvalidInput:
    return InvalidInput(exc.code, exc.message_zh, exc.message_en)


@router.get("/period", response=PeriodOut)
def period(request: HttpRequest, query: Query[PeriodQuery]):
    """A statutory period as LAW.md counts it (CPL Art. 105)."""
    try:
        result = law.compute_period(
            query.start,
            query.length,
            query.unit,
            in_custody=query.in_custody,
            calendar=work_calendar(),
        )
    except law.LawError as exc:
        raise _law_error(exc) from exc
    out = result.as_json()
    out["explanation"] = result.explanation_en
    return out


@router.post("/id-number", response=IdNumberOut)
def id_number(request: HttpRequest, payload: IdNumberIn):
    """Check a resident ID number (GB 11643) and read its birth date and sex."""
    try:
        parsed = law.parse_id_number(payload.number)
    except law.LawError as exc:
        raise _law_error(exc) from exc
    return {
        "number": parsed.number,
        "birth_date": parsed.birth_date,
        "sex": parsed.sex,
        "region_code": parsed.region_code,
        "upgraded_from_15": parsed.upgraded_from_15,
    }
