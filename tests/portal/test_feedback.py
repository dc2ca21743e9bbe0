"""Ratings, messages with staff answers and their reply clock, notifications, the staff side."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from casecenter.audit.models import AuditEntry
from casecenter.cases import services as cases
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.measures import services as measures
from casecenter.portal import selectors, services
from casecenter.portal.models import Message, Notification, Rating
from casecenter.supervision import worker
from casecenter.supervision.models import Alert, Deadline

pytestmark = pytest.mark.django_db


def _file(case, officer):
    case.refresh_from_db()
    return cases.transition_case(officer, case, "file", expected_version=case.version)


def _opened(receipt, token=None) -> Client:
    """A public browser that opened the receipt (by number and phone digits)."""
    client = Client()
    r = client.post("/p/", {"number": receipt.number, "last4": "5678"})
    assert r.status_code == 302
    return client


# --- ratings ---------------------------------------------------------------


def test_a_party_rates_each_reached_milestone_once(receipt):
    first = selectors.milestones(receipt.case)[0]
    rating = services.rate(receipt, milestone=first.key, stars=4, comment="态度很好")
    assert rating.stars == 4 and rating.case == receipt.case
    with pytest.raises(Conflict) as twice:
        services.rate(receipt, milestone=first.key, stars=1)
    assert twice.value.code == "rating.twice"
    with pytest.raises(InvalidInput) as unreached:
        services.rate(receipt, milestone="case:999999", stars=5)
    assert unreached.value.code == "rating.milestone"
    for bad in (0, 6, True, "5"):
        with pytest.raises(InvalidInput):
            services.rate(receipt, milestone=first.key, stars=bad)
    assert Rating.objects.count() == 1


def test_a_new_milestone_can_be_rated_and_comments_are_encrypted(receipt, officers):
    _file(receipt.case, officers["lead"])
    keys = [m.key for m in selectors.milestones(receipt.case)]
    assert len(keys) == 2
    services.rate(receipt, milestone=keys[1], stars=2, comment="进展太慢了")
    with connection.cursor() as cur:
        cur.execute("SELECT comment FROM portal_rating")
        (stored,) = cur.fetchone()
    assert "进展太慢" not in stored
    assert Rating.objects.get().comment == "进展太慢了"


def test_a_revoked_receipt_can_no_longer_rate_or_write(receipt, officers):
    services.issue_receipt(officers["lead"], receipt.case, receipt.party)  # reissued
    key = selectors.milestones(receipt.case)[0].key
    with pytest.raises(PermissionDenied):
        services.rate(receipt, milestone=key, stars=5)
    with pytest.raises(PermissionDenied):
        services.leave_message(receipt, "还能留言吗？")
    assert not Rating.objects.exists() and not Message.objects.exists()


# --- messages and their reply clock ----------------------------------------------


def test_a_message_starts_a_three_working_day_reply_clock_met_by_the_answer(receipt, officers):
    message = services.leave_message(receipt, "请问什么时候能拿回电动车？")
    clock = Deadline.objects.get(rule_id=services.REPLY_RULE, subject=message.subject)
    assert clock.party == receipt.party and clock.state == "running"
    assert clock.due_at - clock.trigger_at >= timedelta(days=3)
    answered = services.answer_message(officers["partner"], message, "车辆鉴定后即可发还。")
    clock.refresh_from_db()
    assert clock.state == "met" and answered.answered_by == officers["partner"]
    with pytest.raises(Conflict) as again:
        services.answer_message(officers["lead"], message, "再答一次")
    assert again.value.code == "message.answered"
    message.refresh_from_db()
    assert message.answer == "车辆鉴定后即可发还。"


def test_answering_one_message_leaves_the_other_clock_running(receipt, officers):
    first = services.leave_message(receipt, "第一条")
    second = services.leave_message(receipt, "第二条")
    services.answer_message(officers["lead"], second, "答复第二条")
    states = dict(
        Deadline.objects.filter(rule_id=services.REPLY_RULE).values_list("subject", "state")
    )
    assert states == {first.subject: "running", second.subject: "met"}


def test_an_unanswered_message_raises_an_alert_when_its_clock_runs_out(receipt, officers):
    message = services.leave_message(receipt, "没人回复吗？")
    clock = Deadline.objects.get(subject=message.subject)
    worker.run_once(now=clock.due_at + timedelta(minutes=1))
    alert = Alert.objects.get(deadline=clock, kind="breach")
    assert alert.rule_id == "portal.message_reply" and alert.case == receipt.case


def test_only_the_case_officers_and_supervisors_answer(receipt, officers):
    message = services.leave_message(receipt, "你好")
    for outsider in ("bystander", "stranger", "judge"):
        with pytest.raises(PermissionDenied):
            services.answer_message(officers[outsider], message, "我来答")
    services.answer_message(officers["manager"], message, "所里案管答复")
    assert Message.objects.get().answered_by == officers["manager"]


def test_bad_messages_are_refused_and_change_nothing(receipt):
    for body, code in (("   ", "message.empty"), ("长" * 1001, "message.too_long")):
        with pytest.raises(InvalidInput) as refused:
            services.leave_message(receipt, body)
        assert refused.value.code == code
    assert not Message.objects.exists() and not Deadline.objects.filter(subject__gt="").exists()


def test_a_receipt_may_leave_only_a_few_messages_a_day(receipt):
    limit = services.MESSAGE_LIMIT[0]
    for n in range(limit):
        services.leave_message(receipt, f"第{n}条")
    for _ in range(2):
        with pytest.raises(InvalidInput) as refused:
            services.leave_message(receipt, "再来一条")
        assert refused.value.code == "message.limit"
    assert Message.objects.count() == limit
    assert Deadline.objects.filter(rule_id=services.REPLY_RULE).count() == limit


# --- the public page: forms, CSRF, escaping ---------------------------------------


def test_the_party_rates_and_writes_from_the_public_page(receipt, officers):
    browser = _opened(receipt)
    key = selectors.milestones(receipt.case)[0].key
    r = browser.post(
        f"/p/case/{receipt.pk}/rate/", {"milestone": key, "stars": "5", "comment": "好"}
    )
    assert r.status_code == 302
    r = browser.post(f"/p/case/{receipt.pk}/message/", {"body": "什么时候结案？"})
    page = browser.get("/p/case/").content.decode()
    assert "5" in page and "什么时候结案？" in page and 'data-testid="rated"' in page
    services.answer_message(officers["lead"], Message.objects.get(), "预计下月。")
    page = browser.get("/p/case/").content.decode()
    assert "预计下月。" in page


def test_a_browser_cannot_write_under_a_receipt_it_did_not_open(receipt):
    stranger = Client()
    r = stranger.post(f"/p/case/{receipt.pk}/message/", {"body": "冒充当事人"})
    assert r.status_code == 302 and r.url.endswith("/p/")
    assert not Message.objects.exists()


def test_every_portal_form_needs_its_csrf_token(receipt, officers):
    message = services.leave_message(receipt, "csrf")
    public = Client(enforce_csrf_checks=True)
    public.post("/p/", {"number": receipt.number, "last4": "5678"})  # 403 too, but try on
    session = _opened(receipt).cookies
    public.cookies.update(session)
    key = selectors.milestones(receipt.case)[0].key
    rated = public.post(f"/p/case/{receipt.pk}/rate/", {"milestone": key, "stars": "3"})
    assert rated.status_code == 403
    assert public.post(f"/p/case/{receipt.pk}/message/", {"body": "x"}).status_code == 403
    staff = Client(enforce_csrf_checks=True)
    staff.force_login(officers["lead"])
    url = f"/cases/{receipt.case_id}/messages/{message.pk}/answer/"
    assert staff.post(url, {"answer": "x"}).status_code == 403
    assert Rating.objects.count() == 0 and Message.objects.count() == 1
    assert Message.objects.get().answered_at is None


def test_markup_in_messages_and_answers_is_shown_as_text(receipt, officers):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    message = services.leave_message(receipt, evil)
    services.answer_message(officers["lead"], message, f"答复 {evil}")
    key = selectors.milestones(receipt.case)[0].key
    services.rate(receipt, milestone=key, stars=1, comment=evil)
    public = _opened(receipt).get("/p/case/").content.decode()
    staff = Client()
    staff.force_login(officers["lead"])
    pages = [
        public,
        staff.get(f"/cases/{receipt.case_id}/").content.decode(),
        staff.get("/feedback/").content.decode(),
    ]
    for page in pages:
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;" in page


# --- the staff side ---------------------------------------------------------------


def test_the_station_list_puts_unanswered_messages_first(receipt, officers, make_case):
    old = services.leave_message(receipt, "旧留言")
    services.answer_message(officers["lead"], old, "已答复")
    waiting = services.leave_message(receipt, "待答复")
    seen = selectors.station_feedback(officers["manager"])
    assert [m.pk for m in seen.messages] == [waiting.pk, old.pk]
    assert selectors.station_feedback(officers["bystander"]).messages == []
    assert selectors.station_feedback(officers["stranger"]).messages == []
    assert AuditEntry.objects.filter(action="portal.feedback_listed").count() == 3
    staff = Client()
    staff.force_login(officers["manager"])
    page = staff.get("/feedback/").content.decode()
    assert page.index("待答复") < page.index("旧留言")


def test_the_staff_answer_from_the_case_page(receipt, officers):
    message = services.leave_message(receipt, "请回电")
    staff = Client()
    staff.force_login(officers["lead"])
    page = staff.get(f"/cases/{receipt.case_id}/").content.decode()
    assert 'data-testid="feedback-card"' in page and "请回电" in page
    r = staff.post(f"/cases/{receipt.case_id}/messages/{message.pk}/answer/", {"answer": "已回电"})
    assert r.status_code == 302
    message.refresh_from_db()
    assert message.answer == "已回电"
    outsider = Client()
    outsider.force_login(officers["stranger"])
    r = outsider.post(f"/cases/{receipt.case_id}/messages/{message.pk}/answer/", {"answer": "x"})
    assert r.status_code == 404


def test_the_case_page_previews_exactly_the_public_timeline(receipt, officers):
    _file(receipt.case, officers["lead"])
    staff = Client()
    staff.force_login(officers["lead"])
    page = staff.get(f"/cases/{receipt.case_id}/").content.decode()
    preview = page[page.index('data-testid="public-preview"') :]
    public = _opened(receipt).get("/p/case/").content.decode()

    def steps(html: str) -> list[str]:
        return re.findall(r'data-milestone="([^"]+)"', html)

    assert steps(preview) == steps(public) == [m.key for m in selectors.milestones(receipt.case)]
    assert "已立案" in preview


# --- notifications ----------------------------------------------------------------


def test_each_public_milestone_is_told_once_by_sms_and_email(receipt, officers, caplog):
    _file(receipt.case, officers["lead"])
    with caplog.at_level(logging.INFO, logger="casecenter.sms"):
        worker.relay_outbox()
        worker.relay_outbox()  # handing the same events over again tells nobody twice
    sms = [r.getMessage() for r in caplog.records if r.name == "casecenter.sms"]
    assert len(sms) == 1 and "138****5678" in sms[0] and "已立案" in sms[0]
    assert f"/p/?n={receipt.number}" in sms[0]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["wang@example.cn"]
    assert "已立案" in mail.outbox[0].subject
    channels = sorted(Notification.objects.values_list("channel", flat=True))
    assert channels == ["email", "sms"]


def test_notifications_speak_the_language_of_the_receipt(receipt, officers):
    english, _ = services.issue_receipt(
        officers["lead"], receipt.case, receipt.party, language="en"
    )
    _file(receipt.case, officers["lead"])
    worker.relay_outbox()
    assert "Case opened" in mail.outbox[0].subject and english.number in mail.outbox[0].body
    note = Notification.objects.get(channel="sms")
    assert note.receipt == english and "Follow it at" in note.text


def test_measures_and_answers_are_told_and_internal_steps_are_not(receipt, officers):
    case = receipt.case
    _file(case, officers["lead"])
    worker.relay_outbox()
    mail.outbox.clear()
    suspect = cases.add_party(officers["lead"], case, role="suspect", name="李四")
    case.refresh_from_db()
    cases.assign_officer(officers["lead"], case, officers["bystander"], "assisting")
    worker.relay_outbox()
    assert mail.outbox == []  # a person added, an officer assigned: nothing public
    measures.start_measure(
        officers["lead"],
        case,
        suspect,
        "summons",
        started_at=timezone.now(),
        officers=[officers["lead"], officers["partner"]],
    )
    message = services.leave_message(receipt, "有进展吗")
    services.answer_message(officers["lead"], message, "已传唤嫌疑人")
    worker.relay_outbox()
    subjects = [m.subject for m in mail.outbox]
    assert any("已采取强制措施" in s for s in subjects)
    assert any("您的留言已答复" in s for s in subjects)
    assert all("李四" not in m.body and "已传唤嫌疑人" not in m.body for m in mail.outbox)


def test_no_notifications_without_contact_or_for_a_revoked_receipt(make_case, officers):
    case = make_case()
    silent = cases.add_party(officers["lead"], case, role="reporter", name="无联系方式")
    services.issue_receipt(officers["lead"], case, silent)
    _file(case, officers["lead"])
    worker.relay_outbox()
    assert mail.outbox == [] and not Notification.objects.exists()


def test_a_failing_gateway_is_recorded_and_does_not_stop_the_relay(receipt, officers, settings):
    settings.CASECENTER_SMS_BACKEND = "tests.portal.test_feedback.BrokenGateway"
    _file(receipt.case, officers["lead"])
    worker.relay_outbox()
    sms = Notification.objects.get(channel="sms")
    assert sms.sent_at is None and "gateway down" in sms.error
    assert Notification.objects.get(channel="email").sent_at is not None


class BrokenGateway:
    def send(self, phone: str, text: str) -> None:
        raise ConnectionError("gateway down")


def test_a_receipt_issued_after_a_step_is_not_told_of_it(make_case, officers):
    case = make_case()
    _file(case, officers["lead"])
    party = cases.add_party(
        officers["lead"], case, role="victim", name="后来者", phone="13700001111"
    )
    services.issue_receipt(officers["lead"], case, party)
    worker.relay_outbox()
    assert not Notification.objects.exists()  # the receipt already shows "case opened"
