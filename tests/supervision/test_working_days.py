"""Clocks counted in working days: a party's message (``portal.message_reply``),
a policy period tuned to working days, and the provisional clock of a year
whose holiday notice is not loaded yet."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.test import Client

from casecenter.accounts.models import Role
from casecenter.calendars.services import load_notice
from casecenter.errors import InvalidInput
from casecenter.supervision import services, worker
from casecenter.supervision.models import Alert, Deadline, DeadlineState, Rule
from tests.conftest import PASSWORD
from tests.supervision.conftest import post

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
MINUTE = timedelta(minutes=1)


def open_reply_clock(case, trigger: datetime) -> Deadline:
    with transaction.atomic():
        deadline = services.open_deadline(None, "portal.message_reply", case, trigger_at=trigger)
    assert deadline is not None
    return deadline


def test_a_message_left_on_a_friday_falls_due_after_the_third_working_day(make_case):
    friday = datetime(2026, 11, 20, 17, 45, tzinfo=SH)

    deadline = open_reply_clock(make_case(), friday)

    # Sat 21 and Sun 22 are not counted: Mon 23, Tue 24, Wed 25, until 24:00.
    assert deadline.due_at == datetime(2026, 11, 26, 0, 0, tzinfo=SH)
    assert deadline.warn_at == datetime(2026, 11, 25, 0, 0, tzinfo=SH)  # a day ahead
    assert deadline.computation["period"] is None  # the law's own default
    assert deadline.computation["basis"] == "State Council holiday notice"
    assert deadline.computation["en"].startswith("3 working days from 2026-11-20")
    assert deadline.computation["provisional_year"] is None

    assert worker.sweep(now=deadline.due_at - MINUTE) == {"warning": 1, "breach": 0, "timer": 0}
    assert worker.sweep(now=deadline.due_at) == {"warning": 0, "breach": 1, "timer": 0}
    deadline.refresh_from_db()
    assert deadline.state == DeadlineState.BREACHED
    assert Alert.objects.filter(deadline=deadline, kind=Alert.Kind.BREACH).count() == 1


def test_a_message_left_before_national_day_waits_for_the_holiday_to_end(make_case):
    deadline = open_reply_clock(make_case(), datetime(2026, 9, 30, 20, 0, tzinfo=SH))

    # 10-01 to 10-07 are National Day: 10-08, 10-09, then the make-up Saturday 10-10.
    assert deadline.due_at == datetime(2026, 10, 11, 0, 0, tzinfo=SH)


def test_working_days_into_a_year_without_a_notice_run_n_calendar_days_until_it_comes(
    make_case,
):
    deadline = open_reply_clock(make_case(), datetime(2026, 12, 30, 10, 0, tzinfo=SH))

    # Working days of 2027 are unknown: the earliest possible end, 3 calendar days.
    assert deadline.computation["provisional_year"] == 2027
    assert deadline.due_at == datetime(2027, 1, 3, 0, 0, tzinfo=SH)
    assert "3 calendar days" in deadline.computation["en"]
    assert "3个自然日" in deadline.computation["zh"]

    with transaction.atomic():
        load_notice(None, 2027, ["2027-01-01"], [], "test notice 2027")
    worker.run_once(now=datetime(2026, 12, 30, 11, 0, tzinfo=SH))  # relays notice_loaded

    deadline.refresh_from_db()
    # 12-31 works; 01-01 a holiday, 01-02 and 01-03 a weekend; then Mon 01-04, Tue 01-05.
    assert deadline.computation["provisional_year"] is None
    assert deadline.due_at == datetime(2027, 1, 6, 0, 0, tzinfo=SH)


@pytest.fixture
def admin(make_user):
    return make_user("admin", Role.ADMIN)


def test_a_policy_period_may_be_tuned_to_working_days(admin, make_case):
    rule = services.tune_rule(
        admin, Rule.objects.get(code="dossier.return"), policy_length=2, policy_unit="workday"
    )
    assert (rule.policy_length, rule.policy_unit) == (2, "workday")

    with transaction.atomic():
        deadline = services.open_deadline(
            None, "dossier.return", make_case(), trigger_at=datetime(2026, 11, 20, 9, 0, tzinfo=SH)
        )

    assert deadline.due_at == datetime(2026, 11, 25, 0, 0, tzinfo=SH)  # Mon 23, Tue 24
    assert deadline.computation["en"].startswith("2 working days from 2026-11-20")


def test_working_days_beyond_the_longest_period_are_refused(admin):
    with pytest.raises(InvalidInput) as caught:
        services.tune_rule(
            admin,
            Rule.objects.get(code="dossier.return"),
            policy_length=2501,
            policy_unit="workday",
        )

    assert caught.value.code == "rule.period"


def test_the_rules_api_accepts_working_days(admin):
    token = post(Client(), "/api/auth/token", {"username": "admin", "password": PASSWORD})
    client = Client(headers={"Authorization": f"Bearer {token.json()['token']}"})

    r = client.patch(
        "/api/rules/portal.message_reply",
        json.dumps({"policy_length": 5, "policy_unit": "workday"}),
        content_type="application/json",
    )

    assert r.status_code == 200, r.content
    tuned = r.json()["policy_period"]
    assert (tuned["length"], tuned["unit"]) == (5, "workday")
    assert (tuned["text_en"], tuned["text_zh"]) == ("5 working days", "5个工作日")
    default = next(p for p in r.json()["periods"] if p["variant"] == "default")
    assert (default["length"], default["unit"]) == (3, "workday")


def test_the_rule_page_offers_working_days(admin):
    browser = Client()
    browser.force_login(admin)
    assert 'value="workday"' in browser.get("/rules/dossier.return/").content.decode()

    r = browser.post(
        "/rules/dossier.return/",
        {
            "severity": "warning",
            "audience": ["case_management"],
            "warn_before": "1440",
            "escalate_after": "30",
            "enabled": "on",
            "policy_length": "4",
            "policy_unit": "workday",
        },
    )

    assert r.status_code == 302, r.content.decode()
    rule = Rule.objects.get(code="dossier.return")
    assert (rule.policy_length, rule.policy_unit) == (4, "workday")
    assert "4个工作日" in browser.get("/rules/").content.decode()
