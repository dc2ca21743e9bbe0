"""Break-glass: a real reason, a limited time, the supervisors alerted at once,
reads audited with basis break_glass, and a review list with an audited action."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from casecenter.accounts.services import issue_api_token
from casecenter.audit.models import AuditEntry
from casecenter.cases import access, breakglass, selectors, services
from casecenter.cases.models import AccessGrant
from casecenter.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from casecenter.supervision.models import Alert, AlertState
from casecenter.supervision.selectors import visible_alerts
from tests.conftest import valid_id

pytestmark = pytest.mark.django_db
REASON = "嫌疑人今晚在本所另案到案，需核对身份"


@pytest.mark.parametrize(
    "reason",
    [
        "",
        "   ",
        "......",
        "..............................",
        "aaaaaaaaaaaaaaaa",
        "测试测试测试测试测试测试测试测试",
        "ab ab ab ab ab ab ab ab",
        "核对身份",  # a reason, but too short to say whose and why
        "!!!???。。。，，，———",
    ],
)
def test_a_reason_that_says_nothing_is_refused(make_case, officers, reason):
    case = make_case()
    with pytest.raises(InvalidInput) as err:
        breakglass.break_glass(officers["bystander"], case, reason=reason)
    assert err.value.code == "break_glass.reason"
    assert AccessGrant.objects.count() == 0 and Alert.objects.count() == 0


@pytest.mark.parametrize(
    "reason",
    [
        REASON,
        "Suspect of case 17 arrested tonight, check identity",
        "需核对今晚到案嫌疑人的身份信息",
    ],
)
def test_a_real_reason_is_accepted(make_case, officers, reason):
    grant = breakglass.break_glass(officers["bystander"], make_case(), reason=reason)
    assert grant.reason == " ".join(reason.split())


def test_the_grant_lasts_the_configured_hours_then_ends(make_case, officers, settings):
    settings.CASECENTER_BREAK_GLASS_HOURS = 2
    case = make_case()
    grant = breakglass.break_glass(officers["bystander"], case, reason=REASON)
    assert grant.expires_at - grant.granted_at == pytest.approx(
        timedelta(hours=2), abs=timedelta(seconds=5)
    )
    assert access.access_basis(officers["bystander"], case) == "break_glass"
    # two hours later (the row moved back rather than the clock forward)
    AccessGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert access.access_basis(officers["bystander"], case) is None
    with pytest.raises(PermissionDenied):
        selectors.read_case_file(officers["bystander"], case)


def test_the_default_is_four_hours(make_case, officers, settings):
    del settings.CASECENTER_BREAK_GLASS_HOURS
    grant = breakglass.break_glass(officers["bystander"], make_case(), reason=REASON)
    assert grant.expires_at - grant.granted_at == pytest.approx(
        timedelta(hours=4), abs=timedelta(seconds=5)
    )


def test_reads_under_the_grant_are_audited_as_break_glass(make_case, officers):
    case = make_case()
    party = services.add_party(
        officers["lead"], case, role="suspect", name="王五", id_number=valid_id()
    )
    grant = breakglass.break_glass(officers["bystander"], case, reason=REASON)
    selectors.read_case_file(officers["bystander"], case)
    selectors.reveal_id_number(officers["bystander"], party, purpose="核对身份证件")
    reads = list(breakglass.reads_under(grant))
    assert [e.action for e in reads] == ["case.read_personal", "person.reveal_id_number"]
    assert all(
        e.data["basis"] == "break_glass" and e.actor_id == officers["bystander"].pk for e in reads
    )


def test_the_supervisors_are_alerted_at_once_and_nobody_else(make_case, officers):
    case = make_case()
    grant = breakglass.break_glass(officers["bystander"], case, reason=REASON)
    alert = Alert.objects.get(subject=f"break_glass:{grant.pk}")
    assert alert.state == AlertState.OPEN and alert.facts["case"] == case.number
    assert REASON in alert.explanation_zh and "bystander" in alert.title_en
    for who in ("manager", "legal"):
        assert visible_alerts(officers[who]).filter(pk=alert.pk).exists(), who
    for who in ("lead", "partner", "bystander", "stranger", "judge"):
        assert not visible_alerts(officers[who]).filter(pk=alert.pk).exists(), who


def test_a_secret_case_is_never_opened_by_break_glass(make_case, officers):
    case = make_case(secret=True)
    with pytest.raises(PermissionDenied):
        breakglass.break_glass(officers["bystander"], case, reason=REASON)
    assert AccessGrant.objects.count() == 0


def test_the_review_page_lists_and_marks_reviewed_with_an_audit_entry(make_case, officers):
    case = make_case()
    grant = breakglass.break_glass(officers["bystander"], case, reason=REASON)
    selectors.read_case_file(officers["bystander"], case)
    manager = Client()
    manager.force_login(officers["manager"])
    body = manager.get("/cases/break-glass/").content.decode()
    assert case.number in body and REASON in body
    page = manager.get(f"/cases/break-glass/{grant.pk}/")
    assert page.status_code == 200 and "case.read_personal" in page.content.decode()
    r = manager.post(f"/cases/break-glass/{grant.pk}/", {"note": "理由属实，查阅范围适当"})
    assert r.status_code == 302
    grant.refresh_from_db()
    assert (
        grant.reviewed_by == officers["manager"] and grant.review_note == "理由属实，查阅范围适当"
    )
    entry = AuditEntry.objects.get(action="case.break_glass_reviewed")
    assert entry.actor_id == officers["manager"].pk and entry.data["reads"] == 1
    assert Alert.objects.get(subject=f"break_glass:{grant.pk}").state == AlertState.RESOLVED
    assert case.number not in manager.get("/cases/break-glass/").content.decode()
    with pytest.raises(Conflict) as err:
        breakglass.review_grant(officers["legal"], grant, note="再审")
    assert err.value.code == "break_glass.reviewed"


def test_only_the_officers_supervisors_review(make_case, officers):
    case = make_case()
    grant = breakglass.break_glass(officers["bystander"], case, reason=REASON)
    manager = Client()
    manager.force_login(officers["manager"])
    assert 'href="/cases/break-glass/"' in manager.get("/").content.decode()  # in the menu
    for who in ("lead", "bystander", "stranger"):
        client = Client()
        client.force_login(officers[who])
        assert 'href="/cases/break-glass/"' not in client.get("/").content.decode(), who
        assert client.get("/cases/break-glass/").status_code == 403, who
        assert client.get(f"/cases/break-glass/{grant.pk}/").status_code == 404, who
        with pytest.raises(PermissionDenied):
            breakglass.review_grant(officers[who], grant, note="")
    with pytest.raises(NotFound):
        breakglass.get_grant(officers["bystander"], grant.pk)
    assert AccessGrant.objects.get(pk=grant.pk).reviewed_at is None


def test_the_review_api(make_case, officers):
    case = make_case()
    grant = breakglass.break_glass(officers["bystander"], case, reason=REASON)
    _, token = issue_api_token(officers["manager"], name="t")
    manager = Client(headers={"Authorization": f"Bearer {token}"})
    rows = manager.get("/api/cases/break-glass").json()
    assert [(g["id"], g["case_number"], g["reason"]) for g in rows] == [
        (grant.pk, case.number, REASON)
    ]
    review = (f"/api/cases/break-glass/{grant.pk}/review", json.dumps({"note": "已核实"}))
    r = manager.post(*review, content_type="application/json")
    assert r.status_code == 200 and r.json()["reviewed_by"] == str(officers["manager"])
    r = manager.post(*review, content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (409, "break_glass.reviewed")
    assert manager.get("/api/cases/break-glass").json() == []
    assert len(manager.get("/api/cases/break-glass?state=reviewed").json()) == 1
    _, token = issue_api_token(officers["lead"], name="t")
    r = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/cases/break-glass")
    assert r.status_code == 403


def test_the_api_refuses_a_reason_of_dots(make_case, officers):
    case = make_case()
    _, token = issue_api_token(officers["bystander"], name="t")
    r = Client(headers={"Authorization": f"Bearer {token}"}).post(
        f"/api/cases/{case.pk}/break-glass",
        json.dumps({"reason": "......"}),
        content_type="application/json",
    )
    assert r.status_code == 422 and r.json()["code"] == "break_glass.reason"
    assert AccessGrant.objects.count() == 0
