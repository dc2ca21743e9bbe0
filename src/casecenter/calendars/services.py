"""Writes to the work calendar: loading a year's holiday notice."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from casecenter import law
from casecenter.accounts.models import Role
from casecenter.audit.services import record
from casecenter.calendars.models import HolidayNotice
from casecenter.errors import InvalidInput, PermissionDenied
from casecenter.outbox.services import emit

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _may_load(actor: Any) -> bool:
    """Administrators load notices; ``None`` is the system (the command line)."""
    if actor is None:
        return True
    return bool(getattr(actor, "is_superuser", False) or getattr(actor, "role", None) == Role.ADMIN)


def _parse_dates(values: Iterable[date | str], field_zh: str, field_en: str) -> list[date]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise InvalidInput(
            "calendar.bad_dates",
            f"{field_zh}应为日期列表。",
            f"The {field_en} must be a list of dates.",
        )
    days: list[date] = []
    for value in values:
        if isinstance(value, date) and not isinstance(value, datetime):
            day = value
        elif isinstance(value, str) and _ISO_DATE.fullmatch(value):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                day = None
        else:
            day = None
        if day is None:
            raise InvalidInput(
                "calendar.bad_date",
                f"{field_zh}中的“{value}”不是YYYY-MM-DD格式的有效日期。",
                f"{value!r} in the {field_en} is not a real date written YYYY-MM-DD.",
            )
        if day in days:
            raise InvalidInput(
                "calendar.duplicate_date",
                f"{field_zh}中{day.isoformat()}出现了两次。",
                f"{day.isoformat()} appears twice in the {field_en}.",
            )
        days.append(day)
    return sorted(days)


def _notice_facts(notice: HolidayNotice) -> dict[str, Any]:
    return {
        "year": notice.year,
        "rest_days": list(notice.rest_days),
        "make_up_workdays": list(notice.make_up_workdays),
        "source": notice.source,
    }


def load_notice(
    actor: Any,
    year: int,
    rest_days: Iterable[date | str],
    make_up_workdays: Iterable[date | str],
    source: str,
) -> HolidayNotice:
    """Load (or replace) the State Council's holiday notice for ``year``.

    Dates are ``date`` objects or ``YYYY-MM-DD`` strings. Every date must lie in
    ``year``, rest days and make-up working days must not overlap, and make-up
    working days must be Saturdays or Sundays (the rules live in
    ``law.YearNotice``). A notice for a year the package already knows is
    accepted: it overrides the package (a correction). One transaction writes
    the notice, its audit entry (with what it replaced) and an outbox event, so
    that open deadlines ending in that year can be counted again.
    """
    if not _may_load(actor):
        raise PermissionDenied(
            "calendar.permission",
            "只有管理员可以载入节假日通知。",
            "Only an administrator may load a holiday notice.",
        )
    if isinstance(year, bool) or not isinstance(year, int):
        raise InvalidInput("calendar.year", "年份须为整数。", "The year must be a whole number.")
    if not isinstance(source, str) or "\x00" in source:
        raise InvalidInput(
            "calendar.source", "请注明通知的文号。", "Name the notice by its document number."
        )
    rest = _parse_dates(rest_days, "放假日", "rest days")
    make_up = _parse_dates(make_up_workdays, "调休上班日", "make-up working days")
    if not rest:
        raise InvalidInput(
            "calendar.no_rest_days",
            f"{year}年的通知没有任何放假日。",
            f"The notice for {year} lists no rest days.",
        )
    try:
        law.YearNotice(
            year=year,
            rest_days=frozenset(rest),
            make_up_workdays=frozenset(make_up),
            source=source,
        )
    except law.LawError as error:
        raise InvalidInput(error.code, error.message_zh, error.message_en) from None

    with transaction.atomic():
        previous = HolidayNotice.objects.select_for_update().filter(year=year).first()
        replaced = _notice_facts(previous) if previous is not None else None
        notice = previous if previous is not None else HolidayNotice(year=year)
        notice.rest_days = [d.isoformat() for d in rest]
        notice.make_up_workdays = [d.isoformat() for d in make_up]
        notice.source = source.strip()
        notice.loaded_by = actor
        notice.loaded_at = timezone.now()
        notice.save()
        emit("calendar.notice_loaded", year=year)
        record(  # last, as audit.record asks: it holds the log's lock until commit
            actor,
            "calendar.load_notice",
            target=notice,
            reason=notice.source,
            data={**_notice_facts(notice), "replaced": replaced},
        )
    return notice
