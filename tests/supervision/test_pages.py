"""The supervision UI through Django's test client: the case page's measures and
clocks cards, the alerts pages, the deadline review, the rule catalogue, the bell."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from casecenter.accounts.models import Role
from casecenter.cases.services import add_party
from casecenter.measures.models import Measure
from casecenter.supervision import worker
from casecenter.supervision.models import Alert, AlertState, Deadline, DeadlineState, Rule
from tests.conftest import valid_id

pytestmark = pytest.mark.django_db


def browser_of(user, language: str = "") -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


def local(at) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def suspect(make_case, officers):
    case = make_case()
    party = add_party(officers["lead"], case, role="suspect", name="张三", id_number=valid_id())
    return case, party


def breach(detention) -> None:
    due = Deadline.objects.get(measure=detention, rule_id="detention.to_house").due_at
    worker.run_once(now=due + timedelta(minutes=1))


# --- the case page -------------------------------------------------------------


def test_case_page_shows_measures_and_clocks_in_chinese(detention, officers):
    page = browser_of(officers["lead"]).get(f"/cases/{detention.case_id}/").content.decode()
    assert 'id="measures"' in page and "强制措施" in page
    assert "刑事拘留" in page and "张三" in page
    assert 'id="clocks"' in page and "拘留后送看守所羁押" in page  # rule name, Chinese
    assert "《刑事诉讼法》第85条" in page  # the basis as a Chinese reader cites it
    to_house = Deadline.objects.get(measure=detention, rule_id="detention.to_house")
    assert to_house.computation["zh"] in page
    assert timezone.localtime(to_house.due_at).strftime("%Y-%m-%d %H:%M") in page
    assert "即将到期" in page  # within its warning lead: shown as due soon
    assert 'action="/deadlines/' not in page  # extensions are for legal affairs only


def test_case_page_speaks_english_when_chosen(detention, officers):
    page = browser_of(officers["lead"], "en").get(f"/cases/{detention.case_id}/")
    text = page.content.decode()
    assert "Send the detained person to the detention house" in text
    to_house = Deadline.objects.get(measure=detention, rule_id="detention.to_house")
    assert to_house.computation["en"] in text
    assert "Coercive measures" in text and "Clocks" in text and "CPL Art. 85" in text


def test_unassigned_officer_sees_no_measures(detention, officers):
    r = browser_of(officers["bystander"]).get(f"/cases/{detention.case_id}/")
    assert r.status_code == 403
    assert "张三" not in r.content.decode() and 'id="measures"' not in r.content.decode()


def test_start_form_offers_suspects_only_and_the_case_officers(suspect, officers):
    case, party = suspect
    add_party(officers["lead"], case, role="victim", name="受害人李四")
    page = browser_of(officers["lead"]).get(f"/cases/{case.pk}/").content.decode()
    form = page[page.index(f'action="/cases/{case.pk}/measures/"') :]
    form = form[: form.index("</form>")]
    assert f'value="{party.pk}"' in form and "受害人李四" not in form
    assert f'value="{officers["lead"].pk}"' in form and f'value="{officers["partner"].pk}"' in form
    assert f'value="{officers["manager"].pk}"' not in form
    assert 'value="admin_detention"' not in form  # a criminal case: no administrative detention
    assert 'name="term_days"' not in form and 'name="designated_residence"' in form


def test_apply_record_and_end_a_measure_through_the_forms(suspect, officers):
    case, party = suspect
    lead = browser_of(officers["lead"])
    started = timezone.now() - timedelta(hours=3)
    r = lead.post(
        f"/cases/{case.pk}/measures/",
        {
            "party": party.pk,
            "kind": "criminal_detention",
            "started_at": local(started),
            "officers": [officers["lead"].pk, officers["partner"].pk],
            "variant": "default",
        },
    )
    assert r.status_code == 302 and r.url == f"/cases/{case.pk}/#measures"
    measure = Measure.objects.get()
    r = lead.post(
        f"/measures/{measure.pk}/moments/",
        {"moment": "family_notified", "at": local(started + timedelta(hours=1)), "note": "电话"},
    )
    assert Deadline.objects.get(rule_id="detention.notify_family").state == DeadlineState.MET
    page = lead.get(f"/cases/{case.pk}/").content.decode()
    assert "已通知家属" in page or "Family notified" in page
    lead.post(
        f"/measures/{measure.pk}/end/",
        {"at": local(started + timedelta(hours=2)), "reason": "证据不足，释放"},
    )
    measure.refresh_from_db()
    assert measure.state == Measure.State.ENDED and measure.end_reason == "证据不足，释放"


def test_administrative_detention_is_applied_for_its_decided_term(make_case, officers):
    case = make_case(kind="administrative", category="assault")
    party = add_party(officers["lead"], case, role="suspect", name="赵六", id_number=valid_id())
    lead = browser_of(officers["lead"])
    page = lead.get(f"/cases/{case.pk}/").content.decode()
    assert 'value="admin_detention"' in page and 'value="criminal_detention"' not in page
    lead.post(
        f"/cases/{case.pk}/measures/",
        {
            "party": party.pk,
            "kind": "admin_detention",
            "started_at": local(timezone.now() - timedelta(hours=1)),
            "officers": [officers["lead"].pk, officers["partner"].pk],
            "variant": "default",
            "term_days": "5",
        },
    )
    measure = Measure.objects.get()
    assert measure.term_days == 5
    assert Deadline.objects.get(measure=measure).rule_id == "admin_detention.release"


def test_one_officer_shows_an_error_and_writes_nothing(suspect, officers):
    case, party = suspect
    lead = browser_of(officers["lead"])
    r = lead.post(
        f"/cases/{case.pk}/measures/",
        {
            "party": party.pk,
            "kind": "criminal_detention",
            "started_at": local(timezone.now()),
            "officers": [officers["lead"].pk],
            "variant": "default",
        },
        follow=True,
    )
    assert "两名以上民警" in r.content.decode()
    assert not Measure.objects.exists()


def test_garbage_in_the_measure_forms_is_refused(suspect, officers):
    case, party = suspect
    lead = browser_of(officers["lead"])
    r = lead.post(f"/cases/{case.pk}/measures/", {"party": "x", "kind": "\x00"}, follow=True)
    assert r.status_code == 200 and not Measure.objects.exists()
    assert lead.post("/measures/99999/moments/", {"moment": "x"}).status_code == 404
    assert browser_of(officers["stranger"]).post(f"/cases/{case.pk}/measures/").status_code == 404


def test_legal_affairs_extends_a_clock_from_the_case_page(detention, officers):
    legal = browser_of(officers["legal"])
    request = Deadline.objects.get(measure=detention, rule_id="detention.arrest_request")
    page = legal.get(f"/cases/{detention.case_id}/").content.decode()
    assert f'action="/deadlines/{request.pk}/extend/"' in page
    assert 'value="special"' in page and 'value="roving_gang"' in page
    r = legal.post(
        f"/deadlines/{request.pk}/extend/",
        {"variant": "special", "reason": "案情复杂，经批准", "next": "https://evil.example/"},
    )
    assert r.status_code == 302 and r.url == f"/cases/{detention.case_id}/#clocks"
    request.refresh_from_db()
    assert request.variant == "special"
    page = legal.get(f"/cases/{detention.case_id}/").content.decode()
    assert "案情复杂，经批准" in page  # the extension is shown with its reason


# --- alerts --------------------------------------------------------------------


def test_alerts_page_lists_every_state_with_the_explanation_and_resolution(detention, officers):
    breach(detention)
    done = Alert.objects.filter(kind="warning").first()
    done.state, done.resolution = AlertState.RESOLVED, "已处理"  # set aside: the page shows it
    done.resolved_at = timezone.now()
    done.save()
    page = browser_of(officers["lead"]).get("/alerts/?state=&group=0").content.decode()
    assert page.count('data-testid="alert"') == 6
    assert "alert-open" in page and f'id="alert-{done.pk}"' in page
    assert 'data-testid="row-resolution">已办结' in page and "系统: 已处理" in page
    assert "《刑事诉讼法》第85条" in page and "已超期" in page
    assert f'href="/cases/{detention.case_id}/"' in page


def test_alert_page_explains_and_is_acknowledged_and_resolved(detention, officers):
    breach(detention)
    alert = Alert.objects.filter(kind="breach", deadline__rule_id="detention.to_house").get()
    lead = browser_of(officers["lead"])
    page = lead.get(f"/alerts/{alert.pk}/").content.decode()
    assert alert.explanation_zh in page and alert.deadline.computation["zh"] in page
    assert 'data-testid="alert-basis">《刑事诉讼法》第85条<' in page
    lead.post(f"/alerts/{alert.pk}/acknowledge/", {"next": f"/alerts/{alert.pk}/"})
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED and alert.acknowledged_by == officers["lead"]
    lead.post(f"/alerts/{alert.pk}/resolve/", {"resolution": ""})
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED
    lead.post(f"/alerts/{alert.pk}/resolve/", {"resolution": "已送所并说明迟延原因"})
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED


def test_alerts_of_others_are_not_found(detention, officers):
    breach(detention)
    alert = Alert.objects.first()
    stranger = browser_of(officers["stranger"])
    assert stranger.get(f"/alerts/{alert.pk}/").status_code == 404
    assert stranger.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 404
    assert "已超期" not in stranger.get("/alerts/").content.decode()


def test_the_bell_counts_open_alerts(detention, officers):
    breach(detention)
    page = browser_of(officers["lead"]).get("/").content.decode()
    count = Alert.objects.filter(state=AlertState.OPEN).count()
    assert f'data-testid="alert-count">{count}<' in page
    assert "casecenter/live.js" in page and 'data-events="/events/?after=' in page
    judge_page = browser_of(officers["judge"]).get("/", follow=True).content.decode()
    assert 'data-testid="alert-count">0<' in judge_page  # the court hears of its own clocks only


# --- the deadline review --------------------------------------------------------


def test_review_lists_breached_first_and_filters(detention, officers, make_case):
    breach(detention)
    other = make_case(title="另一案")
    manager = browser_of(officers["manager"])
    page = manager.get("/deadlines/").content.decode()
    assert page.index("clock-breached") < page.index("clock-running")
    assert other.number in page and detention.case.number in page
    assert "超期" in page
    rows = manager.get(f"/deadlines/?case={other.number}", headers={"HX-Request": "true"})
    text = rows.content.decode()
    assert "<html" not in text and other.number in text and detention.case.number not in text
    text = manager.get("/deadlines/?rule=detention.arrest_request").content.decode()
    assert text.count('data-rule="detention.arrest_request"') == 1
    assert 'data-rule="filing.review"' not in text
    text = manager.get(f"/deadlines/?officer={officers['bystander'].pk}").content.decode()
    assert 'class="clock-row' not in text
    assert manager.get("/deadlines/?officer=99999999999999999999").status_code == 200


def test_review_is_in_the_navigation(officers):
    page = browser_of(officers["lead"]).get("/").content.decode()
    assert 'href="/deadlines/"' in page and 'href="/rules/"' in page


# --- the rule catalogue ----------------------------------------------------------


def test_catalogue_is_read_only_for_officers(officers):
    lead = browser_of(officers["lead"])
    page = lead.get("/rules/").content.decode()
    assert "传唤、拘传持续时间" in page and "《刑事诉讼法》第119条" in page
    assert "12小时" in page and "24小时" in page
    assert "/rules/summons.criminal/" not in page
    assert lead.get("/rules/summons.criminal/").status_code == 403


def test_administrator_edits_a_policy_rule(make_user):
    admin = browser_of(make_user("admin", Role.ADMIN))
    page = admin.get("/rules/dossier.return/").content.decode()
    assert 'name="policy_length"' in page
    r = admin.post(
        "/rules/dossier.return/",
        {
            "severity": "critical",
            "audience": ["case_management"],
            "warn_before": "120",
            "escalate_after": "60",
            "enabled": "on",
            "policy_length": "10",
            "policy_unit": "day",
        },
    )
    assert r.status_code == 302, r.content.decode()
    rule = Rule.objects.get(code="dossier.return")
    assert (rule.severity, rule.policy_length, rule.policy_unit) == ("critical", 10, "day")
    assert rule.warn_before == timedelta(hours=2)
    assert "10日" in admin.get("/rules/").content.decode()


def test_a_statute_rule_has_no_period_to_edit(make_user):
    admin = browser_of(make_user("admin", Role.ADMIN, is_staff=True))
    page = admin.get("/rules/detention.to_house/").content.decode()
    assert 'name="policy_length"' not in page and 'name="severity"' in page
    r = admin.post(
        "/rules/detention.to_house/",
        {"severity": "warning", "policy_length": "48", "policy_unit": "hour"},
    )
    assert r.status_code == 302
    rule = Rule.objects.get(code="detention.to_house")
    assert rule.severity == "warning" and rule.policy_length is None
    assert admin.get("/rules/no.such.rule/").status_code == 404
