"""Clocks of a partner organisation's own records: no police case, the
organisation's own people hear of them, nobody else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from casecenter.accounts.models import Organisation, OrganisationKind, Role
from casecenter.supervision import selectors, services, subjects
from casecenter.supervision.models import Alert, Deadline, DeadlineState
from casecenter.supervision.worker import run_once


@pytest.fixture
def procuratorate(db):
    return Organisation.objects.create(
        code="jc", kind=OrganisationKind.PROCURATORATE, name="检察院"
    )


@pytest.fixture
def prosecutor(make_user, orgs, procuratorate):
    orgs["procuratorate"] = procuratorate
    return make_user("prosecutor", Role.PROSECUTOR, org="procuratorate")


def open_review(procuratorate, hours_ago: float = 0) -> Deadline:
    with transaction.atomic():
        return services.open_deadline(
            None,
            "fast_track.review",
            None,
            trigger_at=timezone.now() - timedelta(hours=hours_ago),
            organisation=procuratorate,
            subject="matter:7",
            reference="JC-2026-0001",
        )


def test_a_clock_without_a_case_belongs_to_its_organisation(procuratorate, prosecutor, officers):
    deadline = open_review(procuratorate)
    assert deadline.case_id is None and deadline.organisation == procuratorate
    assert deadline.shown_reference == "JC-2026-0001"
    assert list(selectors.open_clocks(prosecutor)) == [deadline]
    # the police's review never shows the procuratorate's clocks, nor theirs the police's
    assert deadline not in selectors.open_clocks(officers["manager"])
    assert deadline not in selectors.open_clocks(officers["judge"])


def test_its_breach_alerts_the_organisations_own_role_only(procuratorate, prosecutor, officers):
    deadline = open_review(procuratorate, hours_ago=24 * 40)  # 10 days are long gone
    run_once()
    deadline.refresh_from_db()
    assert deadline.state == DeadlineState.BREACHED
    alert = Alert.objects.get(deadline=deadline, kind="breach")
    assert alert.organisation == procuratorate and alert.case is None
    assert "JC-2026-0001" in alert.title_zh
    assert list(selectors.visible_alerts(prosecutor)) == [
        *Alert.objects.filter(deadline=deadline).order_by("-raised_at", "-id")
    ]
    for other in ("manager", "legal", "judge", "lead"):
        assert not selectors.visible_alerts(officers[other]).filter(pk=alert.pk).exists()


def test_it_is_met_by_its_subject(procuratorate):
    deadline = open_review(procuratorate)
    other = open_review(procuratorate)
    Deadline.objects.filter(pk=other.pk).update(subject="matter:8")
    with transaction.atomic():
        met = services.meet_deadlines(None, None, ["fast_track.review"], subject="matter:7")
    assert [d.pk for d in met] == [deadline.pk]
    deadline.refresh_from_db()
    other.refresh_from_db()
    assert deadline.state == DeadlineState.MET and other.state == DeadlineState.RUNNING


def test_a_clock_without_a_case_must_say_what_it_is_about(procuratorate):
    with transaction.atomic(), pytest.raises(ValueError):
        services.open_deadline(
            None, "fast_track.review", None, trigger_at=timezone.now(), organisation=procuratorate
        )
    with transaction.atomic(), pytest.raises(ValueError):
        services.meet_deadlines(None, None, ["fast_track.review"])
    # and the database refuses such a row whoever writes it
    deadline = open_review(procuratorate)
    with pytest.raises(IntegrityError), transaction.atomic():
        Deadline.objects.filter(pk=deadline.pk).update(subject="")


def test_its_page_is_the_one_its_app_registered(procuratorate, monkeypatch):
    deadline = open_review(procuratorate)
    monkeypatch.setitem(subjects.PAGES, "matter", "case-detail")  # any URL taking an id
    assert subjects.page(deadline) == "/cases/7/"
    monkeypatch.delitem(subjects.PAGES, "matter")
    assert subjects.page(deadline) == ""


def test_only_the_legal_affairs_of_a_case_extend_and_a_caseless_clock_is_not_theirs(
    procuratorate, officers
):
    from casecenter.errors import PermissionDenied

    deadline = open_review(procuratorate)
    with pytest.raises(PermissionDenied):
        services.extend_deadline(
            officers["legal"], deadline, variant="long_sentence", reason="量刑可能超过一年"
        )


def test_a_case_clock_about_a_record_opens_the_records_page(make_case, monkeypatch):
    """A specialised unit's clock on a station's case: the unit cannot open the case,
    so its alert leads to the request; a plain case clock leads to the case."""
    case = make_case()
    with transaction.atomic():
        about = services.open_deadline(
            None, "response.level1", case, trigger_at=timezone.now(), subject="assistance:5"
        )
        plain = services.open_deadline(None, "filing.review", case, trigger_at=timezone.now())
    monkeypatch.setitem(subjects.PAGES, "assistance", "case-list-of-a-kind")  # unknown name
    assert subjects.page(about) == f"/cases/{case.pk}/#clocks"  # no such page: the case
    monkeypatch.setitem(subjects.PAGES, "assistance", "fasttrack-detail")  # any URL with an id
    assert subjects.page(about) == "/fast-track/5/"
    assert subjects.page(plain) == f"/cases/{case.pk}/#clocks"
