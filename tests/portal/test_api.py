"""The portal's staff API: receipts, the public preview, messages and ratings."""

from __future__ import annotations

import pytest
from django.test import Client

from casecenter.portal import services
from casecenter.supervision.models import Deadline

pytestmark = pytest.mark.django_db


def _api(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_issue_a_receipt_and_open_its_link(victim, officers):
    case, party = victim
    r = _api(officers["lead"]).post(
        f"/api/portal/cases/{case.pk}/receipts",
        {"party_id": party.pk, "language": "en"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["language"] == "en" and "/p/t/" in body["link"]
    opened = Client().get(body["link"], follow=True)
    assert "Case progress" in opened.content.decode() or "办案进度" in opened.content.decode()
    bad = _api(officers["lead"]).post(
        f"/api/portal/cases/{case.pk}/receipts",
        {"party_id": party.pk, "language": "fr"},
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["code"] == "receipt.language"


def test_preview_feedback_and_answer(victim, officers):
    case, party = victim
    receipt, _ = services.issue_receipt(officers["lead"], case, party)
    message = services.leave_message(receipt, "请问进展？")
    lead = _api(officers["lead"])
    preview = lead.get(f"/api/portal/cases/{case.pk}/public").json()
    assert [m["title_zh"] for m in preview["milestones"]] == ["已受理"]
    assert "王小明" not in str(preview) and "13812345678" not in str(preview)
    listed = lead.get("/api/portal/feedback").json()
    assert [m["body"] for m in listed["messages"]] == ["请问进展？"]
    r = lead.post(
        f"/api/portal/cases/{case.pk}/messages/{message.pk}/answer",
        {"answer": "正在侦查。"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["answered_by"] == "lead"
    assert Deadline.objects.get(subject=message.subject).state == "met"
    again = lead.post(
        f"/api/portal/cases/{case.pk}/messages/{message.pk}/answer",
        {"answer": "再答"},
        content_type="application/json",
    )
    assert again.status_code == 409 and again.json()["code"] == "message.answered"
    empty = lead.post(
        f"/api/portal/cases/{case.pk}/messages/{message.pk}/answer",
        {"answer": ""},
        content_type="application/json",
    )
    assert empty.status_code == 422


def test_outsiders_get_nothing(victim, officers):
    case, party = victim
    receipt, _ = services.issue_receipt(officers["lead"], case, party)
    services.leave_message(receipt, "私密留言")
    assert (
        _api(officers["stranger"]).get(f"/api/portal/cases/{case.pk}/feedback").status_code == 404
    )
    assert (
        _api(officers["bystander"]).get(f"/api/portal/cases/{case.pk}/feedback").status_code == 404
    )
    assert _api(officers["bystander"]).get("/api/portal/feedback").json()["messages"] == []
