"""The demo's property: every state of the chain, and the planted discrepancy works."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings

from casecenter.audit.sequencer import integrate_all
from casecenter.audit.verify import verify_log
from casecenter.cases.models import Assignment
from casecenter.demo import property as demo_property
from casecenter.demo.data import load
from casecenter.property import services
from casecenter.property.models import Appraisal, CustodyEvent, Item, ItemState, StockTake
from casecenter.supervision.models import Deadline
from tests.conftest import FAST_HASHERS

pytestmark = pytest.mark.django_db

INCIDENTS = 100  # enough cases for every state, quick enough for the suite


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker):
    """Loaded once for the module (a minute on PostgreSQL), rolled back after it;
    each test runs in a savepoint of its own (``db``), so none sees another's writes."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS),
        transaction.atomic(),
    ):
        yield load(INCIDENTS)
        transaction.set_rollback(True)


@pytest.fixture
def demo(demo_world, db):
    return demo_world


def test_the_demo_has_items_in_every_state_seized_by_two_officers_and_clocks_breached(demo):
    assert set(Item.objects.values_list("state", flat=True)) == set(ItemState.values)
    assert set(CustodyEvent.objects.values_list("kind", flat=True)) == set(CustodyEvent.Kind.values)
    assert set(Appraisal.objects.values_list("state", flat=True)) == {"requested", "done"}
    assert StockTake.objects.filter(state=StockTake.State.SIGNED).count() == 1
    disposals = CustodyEvent.objects.filter(kind="disposed")
    assert {e.data["approved_by"] for e in disposals} == {demo["sunli"].pk}
    for item in Item.objects.select_related("case"):
        team = Assignment.objects.filter(case=item.case, role__in=["lead", "assisting"])
        assert sorted(item.seized_by) == sorted(team.values_list("user", flat=True))
    drugs = CustodyEvent.objects.filter(item__category="drugs", to_location__isnull=False)
    assert set(drugs.values_list("to_location__room__kind", flat=True)) == {"drug_store"}
    overdue = Deadline.objects.filter(state="breached", closed_at__isnull=True)
    assert overdue.filter(rule_id="property.hand_over", item__state="seized").exists()
    assert overdue.filter(rule_id="property.return", item__state="checked_out").exists()


def test_scanning_the_printed_shelf_list_shows_one_missing_and_one_misplaced(demo):
    exercise = demo_property.count_exercise()
    assert exercise is not None and exercise.count.state == StockTake.State.OPEN
    assert exercise.lost.location.code == exercise.shelf
    assert exercise.misplaced.location.code != exercise.shelf
    for label in exercise.labels:
        services.record_scan(demo["zhaogang"], exercise.count, label)
    count = services.sign_off(demo["zhaogang"], exercise.count)
    assert count.result["missing"] == [exercise.lost.number]
    assert count.result["misplaced"] == [
        {
            "number": exercise.misplaced.number,
            "expected": exercise.misplaced.location.code,
            "found": exercise.shelf,
        }
    ]
    assert count.result["unexpected"] == []
    assert count.result["matched"] == len(count.expected) - 2
    # the next start of the demo opens the exercise again
    again = demo_property.count_exercise(create=True)
    assert again is not None and again.count.pk != count.pk and again.labels == exercise.labels
    integrate_all()
    report = verify_log()
    assert report.ok, report.problem
