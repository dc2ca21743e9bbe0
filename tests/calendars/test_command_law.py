"""``casecenter law``: exact JSON for the worked examples, exit status 2 on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO

import chinese_calendar
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from casecenter.calendars.models import HolidayNotice
from casecenter.calendars.services import load_notice

PACKAGE = f"chinese-calendar {chinese_calendar.__version__}"


def run(*args: str) -> str:
    out = StringIO()
    call_command("law", *args, stdout=out)
    return out.getvalue()


def run_failing(*args: str) -> tuple[CommandError, str]:
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("law", *args, stdout=out)
    return caught.value, out.getvalue()


def period_json(*args: str) -> dict:
    output = run("period", *args, "--json")
    assert output.count("\n") == 1  # one line
    return json.loads(output)


# --- period ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--start", "2026-09-28T10:00+08:00", "--length", "3", "--unit", "day"],
            {
                "ends_at": "2026-10-09T00:00:00+08:00",
                "last_day": "2026-10-08",
                "extended_by_holiday": True,
                "calendar": PACKAGE,
                "basis": "CPL Art. 105",
            },
        ),
        (
            ["--start", "2026-09-28T10:00+08:00", "--length", "3", "--unit", "day", "--in-custody"],
            {
                "ends_at": "2026-10-02T00:00:00+08:00",
                "last_day": "2026-10-01",
                "extended_by_holiday": False,
                "calendar": "not consulted (in custody)",
                "basis": "CPL Art. 105",
            },
        ),
        (
            ["--start", "2026-10-03T09:00+08:00", "--length", "7", "--unit", "day"],
            {
                "ends_at": "2026-10-11T00:00:00+08:00",
                "last_day": "2026-10-10",
                "extended_by_holiday": False,
                "calendar": PACKAGE,
                "basis": "CPL Art. 105",
            },
        ),
        (
            ["--start", "2026-03-15T11:00+08:00", "--length", "2", "--unit", "month"]
            + ["--in-custody"],
            {
                "ends_at": "2026-05-16T00:00:00+08:00",
                "last_day": "2026-05-15",
                "extended_by_holiday": False,
                "calendar": "not consulted (in custody)",
                "basis": "CPL Art. 105; MPS-C (months)",
            },
        ),
        (
            ["--start", "2026-09-30T22:00+08:00", "--length", "24", "--unit", "hour"]
            + ["--in-custody"],
            {
                "ends_at": "2026-10-01T22:00:00+08:00",
                "last_day": None,
                "extended_by_holiday": False,
                "calendar": "not consulted (hours)",
                "basis": "CPL Art. 105",
            },
        ),
    ],
)
def test_period_prints_the_worked_examples_as_exact_json(args, expected):
    assert period_json(*args) == expected


@pytest.mark.django_db
def test_period_counts_working_days():
    # Friday 2026-11-20: Mon 23, Tue 24, Wed 25
    args = ["--start", "2026-11-20T16:00+08:00", "--length", "3", "--unit", "workday"]

    assert period_json(*args) == {
        "ends_at": "2026-11-26T00:00:00+08:00",
        "last_day": "2026-11-25",
        "extended_by_holiday": False,
        "calendar": PACKAGE,
        "basis": "State Council holiday notice",
    }
    assert run("period", *args).splitlines() == [
        "自2026-11-20起3个工作日：最后一日2026-11-25（其间2个休息日不计），"
        "期间至该日24时届满（国务院办公厅节假日安排通知）。",
        "3 working days from 2026-11-20: last day 2026-11-25 (2 rest days in between not "
        "counted); the period ends at 24:00 that day (State Council holiday notice).",
    ]


@pytest.mark.django_db
def test_period_counts_working_days_with_a_loaded_notice():
    load_notice(None, 2027, ["2027-01-01"], [], "test notice 2027")

    result = period_json("--start", "2026-12-30T10:00+08:00", "--length", "3", "--unit", "workday")

    assert result["last_day"] == "2027-01-05"  # 12-31, then Mon 01-04 and Tue 01-05
    assert result["calendar"] == f"{PACKAGE} + notices 2027"


@pytest.mark.django_db
def test_period_refuses_working_days_in_custody():
    error, output = run_failing(
        "period",
        "--start",
        "2026-11-20T16:00+08:00",
        "--length",
        "3",
        "--unit",
        "workday",
        "--in-custody",
        "--json",
    )

    assert error.returncode == 2
    assert json.loads(output)["error"] == "period.workday_custody"


@pytest.mark.django_db
def test_period_accepts_a_trailing_z():
    result = period_json("--start", "2026-09-28T02:00:00Z", "--length", "3", "--unit", "day")

    assert result["last_day"] == "2026-10-08"


@pytest.mark.django_db
def test_period_without_json_prints_the_explanation_in_chinese_and_english():
    output = run("period", "--start", "2026-09-28T10:00+08:00", "--length", "3", "--unit", "day")

    assert output.splitlines() == [
        "自2026-09-28起3日：最后一日2026-10-01为休息日，顺延至其后第一个工作日2026-10-08，"
        "期间至该日24时届满（《刑事诉讼法》第一百零五条）。",
        "3 days from 2026-09-28: last day 2026-10-01 is a rest day, extended to the first "
        "working day 2026-10-08; the period ends at 24:00 that day (CPL Art. 105).",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "length", "unit", "code"),
    [
        ("2026-09-28T10:00", "3", "day", "period.naive_start"),
        ("yesterday", "3", "day", "period.start"),
        ("2026-09-31T10:00+08:00", "3", "day", "period.start"),
        ("2026-09-28T10:00+08:00", "3", "week", "period.unit"),
        ("2026-09-28T10:00+08:00", "0", "day", "period.length"),
        ("2026-09-28T10:00+08:00", "-1", "day", "period.length"),
        ("2026-09-28T10:00+08:00", "three", "day", "period.length"),
        ("2026-09-28T10:00+08:00", "2.5", "day", "period.length"),
        ("2030-12-30T10:00+08:00", "3", "day", "calendar.unknown_year"),
        ("2026-12-30T10:00+08:00", "3", "workday", "calendar.unknown_year"),
        ("2026-09-28T10:00+08:00", "2501", "workday", "period.length"),
    ],
)
def test_period_bad_input_exits_2_with_a_json_error(start, length, unit, code):
    error, output = run_failing(
        "period", "--start", start, "--length", length, "--unit", unit, "--json"
    )

    assert error.returncode == 2
    payload = json.loads(output)
    assert payload["error"] == code
    assert payload["message"] and payload["message_zh"]
    assert code in str(error) and payload["message"] in str(error)


@pytest.mark.django_db
def test_period_bad_input_without_json_prints_nothing_on_stdout():
    error, output = run_failing(
        "period", "--start", "2026-09-28T10:00", "--length", "3", "--unit", "day"
    )

    assert error.returncode == 2
    assert output == ""
    assert "+08:00" in str(error)


@pytest.mark.django_db
def test_period_in_2031_becomes_computable_once_its_notice_is_loaded(tmp_path):
    args = ["--start", "2030-12-30T10:00+08:00", "--length", "3", "--unit", "day"]
    error, _ = run_failing("period", *args, "--json")
    assert error.returncode == 2
    notice = tmp_path / "notice-2031.json"
    notice.write_text(
        json.dumps(
            {
                "year": 2031,
                "rest_days": ["2031-01-01", "2031-01-02", "2031-01-03"],
                "make_up_workdays": ["2031-01-05"],
                "source": "国办发明电〔2030〕1号",
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )

    run("calendar-load", str(notice))

    assert period_json(*args) == {
        "ends_at": "2031-01-06T00:00:00+08:00",
        "last_day": "2031-01-05",
        "extended_by_holiday": True,
        "calendar": f"{PACKAGE} + notices 2031",
        "basis": "CPL Art. 105",
    }


def test_bad_input_from_the_shell_exits_2_without_a_traceback(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "casecenter.settings",
        "CASECENTER_DATA_DIR": str(tmp_path),
    }  # a fresh install: embedded, not migrated
    env.pop("DATABASE_URL", None)
    completed = subprocess.run(
        [sys.executable, "-m", "casecenter.cli", "law", "period", "--start", "2026-09-28T10:00"]
        + ["--length", "3", "--unit", "day", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 2, completed.stderr
    assert json.loads(completed.stdout)["error"] == "period.naive_start"
    assert "+08:00" in completed.stderr
    assert "Traceback" not in completed.stderr


# --- id-number --------------------------------------------------------------------


def test_id_number_prints_its_facts_as_json():
    assert json.loads(run("id-number", "11010519491231002x", "--json")) == {
        "valid": True,
        "number": "11010519491231002X",
        "birth_date": "1949-12-31",
        "sex": "F",
        "region_code": "110105",
        "upgraded_from_15": False,
    }


def test_id_number_upgrades_a_fifteen_digit_number():
    result = json.loads(run("id-number", "110105491231002", "--json"))

    assert result["number"] == "11010519491231002X"
    assert result["upgraded_from_15"] is True


def test_id_number_without_json_is_readable():
    output = run("id-number", "440524188001010014")

    assert "1880-01-01" in output and "male" in output and "440524" in output


def test_an_invalid_id_number_exits_2_with_valid_false():
    error, output = run_failing("id-number", "110105194912310021", "--json")

    assert error.returncode == 2
    payload = json.loads(output)
    assert payload["valid"] is False
    assert payload["error"] == "id_number.check_digit"
    assert "expected X" in payload["message"]


# --- calendar-load and calendar-list -------------------------------------------


def write(tmp_path, content) -> str:
    path = tmp_path / "notice.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return str(path)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("{not json", "calendar.file"),
        ([2031], "calendar.file"),
        (  # a misspelt key must not load a notice without its make-up days
            {"year": 2031, "rest_days": ["2031-01-01"], "makeup_workdays": [], "source": "x"},
            "calendar.file",
        ),
        (
            {"year": 2031, "rest_days": ["2031-01-01"], "make_up_workdays": ["2031-01-06"]}
            | {"source": "x"},
            "calendar.make_up_not_weekend",
        ),
    ],
)
def test_calendar_load_refuses_a_bad_file_with_exit_2(tmp_path, content, code):
    error, output = run_failing("calendar-load", write(tmp_path, content), "--json")

    assert error.returncode == 2
    assert json.loads(output)["error"] == code
    assert not HolidayNotice.objects.exists()


@pytest.mark.django_db
def test_calendar_load_of_a_missing_file_exits_2(tmp_path):
    error, _ = run_failing("calendar-load", str(tmp_path / "nowhere.json"))

    assert error.returncode == 2
    assert "calendar.file" in str(error)


@pytest.mark.django_db
def test_calendar_list_shows_the_package_years_and_loaded_notices(tmp_path):
    notice = {
        "year": 2031,
        "rest_days": ["2031-01-01"],
        "make_up_workdays": [],
        "source": "国办发明电〔2030〕1号",
    }
    run("calendar-load", write(tmp_path, notice))

    listing = json.loads(run("calendar-list", "--json"))
    text = run("calendar-list")

    assert listing["calendar"] == f"{PACKAGE} + notices 2031"
    assert listing["package"]["first_year"] == 2004
    assert listing["package"]["last_year"] == 2026
    assert [n["year"] for n in listing["notices"]] == [2031]
    assert listing["notices"][0]["loaded_by"] is None
    assert text.splitlines()[0] == f"{PACKAGE}: 2004–2026"
    assert text.splitlines()[1].startswith(
        "2031: 国办发明电〔2030〕1号; rest days 1, make-up working days 0"
    )
