"""Loading a year's holiday notice: validation, replacement, audit, one transaction."""

from __future__ import annotations

from datetime import date

import pytest

from casecenter.accounts.models import Role, User
from casecenter.audit.models import AuditEntry
from casecenter.calendars import services
from casecenter.calendars.models import HolidayNotice
from casecenter.errors import InvalidInput, PermissionDenied
from casecenter.outbox.models import OutboxEvent

REST_2031 = ["2031-01-01", "2031-01-02", "2031-01-03"]
MAKE_UP_2031 = ["2031-01-05"]
SOURCE = "国办发明电〔2030〕1号"


@pytest.fixture
def admin_user(db):
    return User.objects.create_user(username="calendar-admin", role=Role.ADMIN)


@pytest.fixture
def officer(db):
    return User.objects.create_user(username="officer", role=Role.CASE_OFFICER)


def audit_entries():
    return list(AuditEntry.objects.filter(action="calendar.load_notice").order_by("id"))


@pytest.mark.django_db
def test_loading_a_notice_stores_sorted_iso_dates_and_who_loaded_it(admin_user):
    notice = services.load_notice(
        admin_user, 2031, ["2031-01-03", date(2031, 1, 1), "2031-01-02"], MAKE_UP_2031, SOURCE
    )

    stored = HolidayNotice.objects.get(year=2031)
    assert stored.pk == notice.pk
    assert stored.rest_days == REST_2031
    assert stored.make_up_workdays == MAKE_UP_2031
    assert stored.source == SOURCE
    assert stored.loaded_by == admin_user


@pytest.mark.django_db
def test_the_system_loads_a_notice_without_a_user():
    notice = services.load_notice(None, 2031, REST_2031, MAKE_UP_2031, SOURCE)

    assert notice.loaded_by is None


@pytest.mark.django_db
def test_loading_a_year_again_replaces_its_notice(admin_user):
    services.load_notice(admin_user, 2031, REST_2031, MAKE_UP_2031, SOURCE)
    services.load_notice(admin_user, 2031, ["2031-01-01"], [], "国办发明电〔2030〕2号")

    assert HolidayNotice.objects.count() == 1
    stored = HolidayNotice.objects.get(year=2031)
    assert stored.rest_days == ["2031-01-01"]
    assert stored.make_up_workdays == []
    first, second = audit_entries()
    assert first.data["replaced"] is None
    assert second.data["replaced"] == {
        "year": 2031,
        "rest_days": REST_2031,
        "make_up_workdays": MAKE_UP_2031,
        "source": SOURCE,
    }


@pytest.mark.django_db
def test_loading_writes_one_audit_entry_naming_the_notice_and_its_source(admin_user):
    notice = services.load_notice(admin_user, 2031, REST_2031, MAKE_UP_2031, SOURCE)

    [entry] = audit_entries()
    assert entry.actor_id == admin_user.pk
    assert (entry.object_type, entry.object_id) == ("calendars.holidaynotice", str(notice.pk))
    assert entry.reason == SOURCE
    assert entry.data == {
        "year": 2031,
        "rest_days": REST_2031,
        "make_up_workdays": MAKE_UP_2031,
        "source": SOURCE,
        "replaced": None,
    }


@pytest.mark.django_db
def test_a_notice_loaded_by_the_system_is_audited_as_the_system():
    services.load_notice(None, 2031, REST_2031, MAKE_UP_2031, SOURCE)

    [entry] = audit_entries()
    assert entry.actor_id is None
    assert entry.actor_name == "system"


@pytest.mark.django_db
def test_loading_emits_an_event_so_open_deadlines_can_be_counted_again(admin_user):
    services.load_notice(admin_user, 2031, REST_2031, MAKE_UP_2031, SOURCE)

    event = OutboxEvent.objects.get(topic="calendar.notice_loaded")
    assert event.payload == {"year": 2031}


@pytest.mark.django_db
def test_a_failure_while_auditing_leaves_no_notice_behind(admin_user, monkeypatch):
    def broken_record(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(services, "record", broken_record)

    with pytest.raises(RuntimeError):
        services.load_notice(admin_user, 2031, REST_2031, MAKE_UP_2031, SOURCE)

    assert not HolidayNotice.objects.exists()
    assert not OutboxEvent.objects.exists()
    assert audit_entries() == []


@pytest.mark.django_db
def test_an_officer_may_not_load_a_notice(officer):
    with pytest.raises(PermissionDenied) as caught:
        services.load_notice(officer, 2031, REST_2031, MAKE_UP_2031, SOURCE)

    assert caught.value.code == "calendar.permission"
    assert not HolidayNotice.objects.exists()
    assert audit_entries() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("year", "rest", "make_up", "source", "code"),
    [
        (2031, ["2030-12-31"], [], SOURCE, "calendar.date_outside_year"),
        (2031, REST_2031, ["2032-01-03"], SOURCE, "calendar.date_outside_year"),
        (2031, ["2031-01-04"], ["2031-01-04"], SOURCE, "calendar.overlap"),
        (2031, REST_2031, ["2031-01-06"], SOURCE, "calendar.make_up_not_weekend"),
        (2031, ["2031-1-1"], [], SOURCE, "calendar.bad_date"),
        (2031, ["2031-02-30"], [], SOURCE, "calendar.bad_date"),
        (2031, ["20310101"], [], SOURCE, "calendar.bad_date"),
        (2031, [20310101], [], SOURCE, "calendar.bad_date"),
        (2031, ["2031-01-01", "2031-01-01"], [], SOURCE, "calendar.duplicate_date"),
        (2031, "2031-01-01", [], SOURCE, "calendar.bad_dates"),
        (2031, [], [], SOURCE, "calendar.no_rest_days"),
        (2031, REST_2031, [], "   ", "calendar.source"),
        (2031, REST_2031, [], None, "calendar.source"),
        (2031, REST_2031, [], "国办\x00发明电", "calendar.source"),
        ("2031", REST_2031, [], SOURCE, "calendar.year"),
        (True, REST_2031, [], SOURCE, "calendar.year"),
    ],
)
def test_an_invalid_notice_is_refused_and_nothing_is_written(
    admin_user, year, rest, make_up, source, code
):
    with pytest.raises(InvalidInput) as caught:
        services.load_notice(admin_user, year, rest, make_up, source)

    assert caught.value.code == code
    assert caught.value.message_zh and caught.value.message_en
    assert not HolidayNotice.objects.exists()
    assert not OutboxEvent.objects.exists()
    assert audit_entries() == []
