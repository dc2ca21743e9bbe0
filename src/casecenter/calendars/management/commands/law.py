"""``casecenter law``: the legal core from the command line.

Subcommands::

    casecenter law period --start 2026-09-28T10:00+08:00 --length 3 --unit day \
                          [--in-custody] [--json]
    casecenter law id-number 11010519491231002X [--json]
    casecenter law calendar-load notice-2027.json [--json]
    casecenter law calendar-list [--json]

Bad input never ends in a traceback: the message goes to stderr (with
``--json`` also ``{"error": code, "message": ..., "message_zh": ...}`` to
stdout) and the exit status is 2. A start without a UTC offset is refused
rather than read as Beijing time: a timestamp copied from a UTC log would
otherwise move an hour clock by eight hours without anyone noticing.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from casecenter import law
from casecenter.calendars import selectors, services
from casecenter.errors import DomainError

_WHOLE_NUMBER = re.compile(r"-?[0-9]+")
_NOTICE_KEYS = frozenset({"year", "rest_days", "make_up_workdays", "source"})


class Command(BaseCommand):
    help = "Count periods, check ID numbers and manage the work calendar (CPL Art. 105)."
    requires_system_checks: list[str] = []  # no system checks: they import the whole API

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")

        period = sub.add_parser("period", help="when a period ends (CPL Art. 105)")
        period.add_argument(
            "--start",
            required=True,
            help="trigger time, ISO 8601 with a UTC offset or Z, e.g. 2026-09-28T10:00+08:00",
        )
        period.add_argument("--length", required=True, help="a whole number, at least 1")
        period.add_argument("--unit", required=True, help="hour, day, month or workday")
        period.add_argument(
            "--in-custody",
            action="store_true",
            help="the person is in custody (在押): never extended for rest days",
        )
        period.add_argument("--json", action="store_true", help="print one line of JSON")

        id_number = sub.add_parser("id-number", help="check a resident ID number (GB 11643)")
        id_number.add_argument("number")
        id_number.add_argument("--json", action="store_true", help="print one line of JSON")

        load = sub.add_parser("calendar-load", help="load a year's State Council holiday notice")
        load.add_argument(
            "file",
            help='JSON: {"year": 2027, "rest_days": [...], "make_up_workdays": [...], '
            '"source": "..."}',
        )
        load.add_argument("--json", action="store_true", help="print one line of JSON")

        listing = sub.add_parser("calendar-list", help="the years the work calendar knows")
        listing.add_argument("--json", action="store_true", help="print one line of JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        handler = {
            "period": self._period,
            "id-number": self._id_number,
            "calendar-load": self._calendar_load,
            "calendar-list": self._calendar_list,
        }[options["subcommand"]]
        try:
            handler(options)
        except (law.LawError, DomainError) as error:
            self._fail(error.code, error.message_zh, error.message_en, options["json"])

    # --- output -------------------------------------------------------------

    def _print_json(self, payload: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(payload, ensure_ascii=False))

    def _fail(
        self,
        code: str,
        message_zh: str,
        message_en: str,
        as_json: bool,
        extra: dict[str, Any] | None = None,
    ) -> NoReturn:
        if as_json:
            self._print_json(
                {**(extra or {}), "error": code, "message": message_en, "message_zh": message_zh}
            )
        raise CommandError(f"{message_en} / {message_zh} [{code}]", returncode=2)

    # --- subcommands --------------------------------------------------------

    def _period(self, options: dict[str, Any]) -> None:
        text = options["start"]
        try:
            start = datetime.fromisoformat(text)
        except ValueError:
            raise law.InvalidPeriod(
                "period.start",
                f"无法识别起算时间“{text}”，请使用ISO 8601格式，例如2026-09-28T10:00+08:00。",
                f"Cannot read the start {text!r}: use ISO 8601, e.g. 2026-09-28T10:00+08:00.",
            ) from None
        if not _WHOLE_NUMBER.fullmatch(options["length"]):
            raise law.InvalidPeriod(
                "period.length",
                f"期间长度“{options['length']}”不是整数。",
                f"The length {options['length']!r} is not a whole number.",
            )
        unit = options["unit"]
        in_custody = options["in_custody"]
        needs_calendar = unit in ("day", "month", "workday") and not in_custody
        result = law.compute_period(
            start,
            int(options["length"]),
            unit,
            in_custody=in_custody,
            calendar=selectors.work_calendar() if needs_calendar else None,
        )
        if options["json"]:
            self._print_json(result.as_json())
        else:
            self.stdout.write(result.explanation_zh)
            self.stdout.write(result.explanation_en)

    def _id_number(self, options: dict[str, Any]) -> None:
        try:
            parsed = law.parse_id_number(options["number"])
        except law.InvalidIdNumber as error:
            self._fail(
                error.code, error.message_zh, error.message_en, options["json"], {"valid": False}
            )
        if options["json"]:
            self._print_json(
                {
                    "valid": True,
                    "number": parsed.number,
                    "birth_date": parsed.birth_date.isoformat(),
                    "sex": parsed.sex,
                    "region_code": parsed.region_code,
                    "upgraded_from_15": parsed.upgraded_from_15,
                }
            )
            return
        sex_zh, sex_en = ("男", "male") if parsed.sex == "M" else ("女", "female")
        upgraded = " (upgraded from 15 digits)" if parsed.upgraded_from_15 else ""
        self.stdout.write(
            f"有效：{parsed.number}，出生日期{parsed.birth_date.isoformat()}，{sex_zh}，"
            f"地区码{parsed.region_code}"
        )
        self.stdout.write(
            f"valid: {parsed.number}{upgraded}, born {parsed.birth_date.isoformat()}, "
            f"{sex_en}, region code {parsed.region_code}"
        )

    def _calendar_load(self, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise law.InvalidHolidayNotice(
                "calendar.file",
                f"无法读取文件{path}：{error.strerror}",
                f"Cannot read {path}: {error.strerror}",
            ) from None
        except (ValueError, UnicodeDecodeError) as error:
            raise law.InvalidHolidayNotice(
                "calendar.file",
                f"文件{path}不是有效的UTF-8 JSON：{error}",
                f"{path} is not valid UTF-8 JSON: {error}",
            ) from None
        if not isinstance(content, dict) or set(content) != _NOTICE_KEYS:
            # A misspelt key must not load a notice with no make-up days.
            keys = ", ".join(sorted(_NOTICE_KEYS))
            raise law.InvalidHolidayNotice(
                "calendar.file",
                f"文件{path}须为恰好包含以下键的JSON对象：{keys}",
                f"{path} must hold a JSON object with exactly these keys: {keys}",
            )
        notice = services.load_notice(
            None,
            content["year"],
            content["rest_days"],
            content["make_up_workdays"],
            content["source"],
        )
        if options["json"]:
            self._print_json(_notice_json(notice))
            return
        self.stdout.write(
            f"loaded {notice.year}: {notice.source}; rest days {len(notice.rest_days)}, "
            f"make-up working days {len(notice.make_up_workdays)}"
        )

    def _calendar_list(self, options: dict[str, Any]) -> None:
        calendar = selectors.work_calendar()
        years = calendar.package_years
        rows = selectors.notices()
        if options["json"]:
            self._print_json(
                {
                    "calendar": calendar.describe(),
                    "package": {
                        "name": "chinese-calendar",
                        "version": calendar.package_version,
                        "first_year": years[0],
                        "last_year": years[-1],
                    },
                    "notices": [_notice_json(n) for n in rows],
                }
            )
            return
        self.stdout.write(f"chinese-calendar {calendar.package_version}: {years[0]}–{years[-1]}")
        for n in rows:
            by = n.loaded_by or "system"
            self.stdout.write(
                f"{n.year}: {n.source}; rest days {len(n.rest_days)}, make-up working days "
                f"{len(n.make_up_workdays)}; loaded {n.loaded_at.isoformat()} by {by}"
            )


def _notice_json(notice: Any) -> dict[str, Any]:
    return {
        "year": notice.year,
        "rest_days": notice.rest_days,
        "make_up_workdays": notice.make_up_workdays,
        "source": notice.source,
        "loaded_by": str(notice.loaded_by) if notice.loaded_by else None,
        "loaded_at": notice.loaded_at.isoformat(),
    }
