"""The demo's dossiers: documents in every review state, readable files, a late loan."""

from __future__ import annotations

import pytest

from casecenter.cases.models import CaseState
from casecenter.demo.data import load
from casecenter.dossiers import storage
from casecenter.dossiers.models import Document, Loan, ReviewState, Version
from casecenter.supervision.models import Alert, Deadline

pytestmark = pytest.mark.django_db


def test_the_demo_has_dossiers_in_every_review_state_and_an_overdue_loan():
    load(100)
    states = set(Document.objects.values_list("review_state", flat=True))
    assert {ReviewState.PENDING, ReviewState.APPROVED, ReviewState.RETURNED} <= states
    # corrected documents keep both versions; every stored file still has its hash
    assert Version.objects.filter(number=2).exists()
    for version in Version.objects.order_by("?")[:20]:
        assert storage.check(version.storage_name, version.sha256)
    # every transferred case has its approved opinion (the guard let it through)
    for document in Document.objects.filter(dossier__case__state=CaseState.TRANSFERRED):
        assert document.review_state in (ReviewState.APPROVED, ReviewState.NOT_REQUIRED)
    late = Loan.objects.filter(returned_at__isnull=True).order_by("lent_at").first()
    assert late is not None
    clock = Deadline.objects.get(rule_id="dossier.return", subject=f"loan:{late.pk}")
    assert clock.state == "breached"
    assert Alert.objects.filter(rule_id="dossier.return").exists()
