"""The four organisations of a fast track and a drunk-driving case ready for it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tests.conftest import valid_id
from tests.dossiers.conftest import pdf
from tests.supervision.conftest import api  # noqa: F401 - the bearer-token API client


@pytest.fixture
def partners(orgs, make_user):
    """Procuratorate, legal aid and detention centre beside the fixtures' court, each
    with its people; a second court that nothing is ever handed to."""
    from casecenter.accounts.models import Organisation, OrganisationKind, Role

    def org(code, kind, name):
        orgs[code] = Organisation.objects.create(code=code, kind=kind, name=name)
        return orgs[code]

    org("jc", OrganisationKind.PROCURATORATE, "海淀区人民检察院")
    org("fyzx", OrganisationKind.LEGAL_AID, "法律援助中心")
    org("fy2", OrganisationKind.COURT, "另一法院")
    org("zx", OrganisationKind.CASE_CENTER, "执法办案管理中心")
    return {
        "prosecutor": make_user("prosecutor", Role.PROSECUTOR, org="jc"),
        "lawyer": make_user("lawyer", Role.DUTY_LAWYER, org="fyzx"),
        "lawyer2": make_user("lawyer2", Role.DUTY_LAWYER, org="fyzx"),
        "other_judge": make_user("other_judge", Role.JUDGE, org="fy2"),
        "orgs": orgs,
    }


@pytest.fixture
def drunk_driving(make_case, officers, partners):
    """A dangerous-driving case under investigation, its adult suspect caught three
    hours ago, the registration form approved: ready for the fast track."""
    from casecenter.cases import services as cases
    from casecenter.dossiers import services as dossiers
    from casecenter.dossiers.models import Review

    lead, partner, legal = officers["lead"], officers["partner"], officers["legal"]
    case = make_case(category="dangerous_driving", title="马某危险驾驶案")
    suspect = cases.add_party(lead, case, role="suspect", name="马明", id_number=valid_id())
    form = dossiers.generate(lead, case, "registration_form")
    dossiers.review(legal, form, decision=Review.Decision.APPROVED, version=1)
    case.refresh_from_db()
    case = cases.transition_case(lead, case, "file", expected_version=case.version)
    case = cases.transition_case(
        lead, case, "start_investigation", expected_version=case.version, officers=[lead, partner]
    )
    with transaction.atomic():
        dossiers.add_document(
            lead, dossiers.dossier_of(case), kind="interrogation_record", chunks=[pdf("笔录")]
        )
    case.captured_at = timezone.now() - timedelta(hours=3)
    case.suspect = suspect
    return case


@pytest.fixture
def started(drunk_driving, officers):
    from casecenter.fasttrack import services

    return services.start(
        officers["lead"],
        drunk_driving,
        suspect=drunk_driving.suspect,
        captured_at=drunk_driving.captured_at,
        admits_guilt=True,
        facts_clear=True,
        expected_sentence_months=2,
        no_exclusion=True,
    )


@pytest.fixture
def ready_to_submit(started, officers):
    """The fast-track opinion generated and every document approved."""
    from casecenter.dossiers import services as dossiers
    from casecenter.dossiers.models import Document, Review, ReviewState

    dossiers.generate(officers["lead"], started.case, "fast_track_opinion")
    for document in Document.objects.filter(
        dossier__case=started.case, review_state=ReviewState.PENDING
    ):
        dossiers.review(
            officers["legal"],
            document,
            decision=Review.Decision.APPROVED,
            version=document.versions_count,
        )
    return started
