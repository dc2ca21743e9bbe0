"""The public page's cache (portal.selectors.milestones, portal.timeline): a new step
shows at once, each party sees their own page, and nothing personal is cached."""

from __future__ import annotations

import pickle
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casecenter.audit.models import AuditEntry
from casecenter.cases import services as cases
from casecenter.cases.models import Case
from casecenter.measures import services as measures
from casecenter.portal import selectors, services
from casecenter.portal.models import Rating

pytestmark = pytest.mark.django_db


def _browser(token: str, **options) -> Client:
    browser = Client(**options)
    assert browser.get(f"/p/t/{token}/").status_code == 302
    return browser


def _milestones(page: str) -> list[str]:
    return re.findall(r'data-milestone="([^"]+)"', page)


def _csrf_of_rate_form(page: str) -> str:
    form = page[page.index('data-testid="rate-form"') :]
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)


def _cached_values() -> list[object]:
    """Every value in the test process's cache (the local-memory backend)."""
    return [pickle.loads(value) for value in cache._cache.values()]  # noqa: S301 - ours


def test_a_new_step_shows_at_once_on_a_cached_page(victim, officers):
    case, party = victim
    _, token = services.issue_receipt(officers["lead"], case, party)
    browser = _browser(token)
    first = browser.get("/p/case/").content.decode()
    with CaptureQueriesContext(connection) as queries:
        again = browser.get("/p/case/").content.decode()
    assert _milestones(again) == _milestones(first) and len(_milestones(first)) == 1
    assert len(queries) == 2, "the session and the receipts: the case's steps came from the cache"

    case.refresh_from_db()
    cases.transition_case(officers["lead"], case, "file", expected_version=case.version)
    page = browser.get("/p/case/").content.decode()
    assert "已立案" in page and len(_milestones(page)) == 2

    suspect = cases.add_party(officers["lead"], case, role="suspect", name="嫌疑人")
    measures.start_measure(
        officers["lead"],
        case,
        suspect,
        "criminal_detention",
        started_at=timezone.now(),
        officers=[officers["lead"], officers["partner"]],
    )
    page = browser.get("/p/case/").content.decode()
    assert "刑事拘留" in page and _milestones(page)[-1].startswith("measure:")


def test_the_page_shows_the_case_and_unit_as_they_are_now(victim, officers):
    case, party = victim
    _, token = services.issue_receipt(officers["lead"], case, party)
    browser = _browser(token)
    assert "中关村派出所" in browser.get("/p/case/").content.decode()
    case.organisation.name, case.organisation.phone = "中关村派出所（新址）", "010-62550000"
    case.organisation.save()
    page = browser.get("/p/case/").content.decode()
    assert "中关村派出所（新址）" in page and "010-62550000" in page


def test_each_party_sees_their_own_receipt_and_ratings(victim, officers):
    case, victim_party = victim
    reporter = cases.add_party(officers["lead"], case, role="reporter", name="报案人")
    mine, my_token = services.issue_receipt(officers["lead"], case, victim_party)
    theirs, their_token = services.issue_receipt(officers["lead"], case, reporter)
    me, them = _browser(my_token), _browser(their_token)
    me.get("/p/case/"), them.get("/p/case/")  # both timelines cached
    step = selectors.milestones(case)[0].key
    services.rate(mine, milestone=step, stars=2)

    my_page, their_page = me.get("/p/case/").content.decode(), them.get("/p/case/").content.decode()
    assert mine.number in my_page and theirs.number not in my_page
    assert theirs.number in their_page and mine.number not in their_page
    assert 'data-testid="rated"' in my_page and 'data-testid="rated"' not in their_page
    assert f"/p/case/{theirs.pk}/" not in my_page and f"/p/case/{mine.pk}/" not in their_page


def test_each_browser_gets_its_own_csrf_token_in_a_cached_timeline(receipt, officers):
    _, token = services.issue_receipt(officers["lead"], receipt.case, receipt.party)
    phone, computer = (_browser(token, enforce_csrf_checks=True) for _ in range(2))
    phone.get("/p/case/")  # renders and caches the timeline
    page = computer.get("/p/case/").content.decode()  # from the cache
    [receipt_id] = re.findall(r"/p/case/(\d+)/rate/", page)
    step = _milestones(page)[0]
    r = computer.post(
        f"/p/case/{receipt_id}/rate/",
        {"milestone": step, "stars": "4", "csrfmiddlewaretoken": _csrf_of_rate_form(page)},
    )
    assert r.status_code == 302 and Rating.objects.get().stars == 4


def test_a_revoked_receipt_or_a_case_made_secret_closes_a_cached_page_at_once(victim, officers):
    case, party = victim
    _, token = services.issue_receipt(officers["lead"], case, party)
    browser = _browser(token)
    assert browser.get("/p/case/").status_code == 200
    Case.objects.filter(pk=case.pk).update(secret=True)
    assert browser.get("/p/case/").url.endswith("/p/")
    Case.objects.filter(pk=case.pk).update(secret=False)
    assert browser.get("/p/case/").status_code == 200
    services.issue_receipt(officers["lead"], case, party)  # the old link is revoked
    assert browser.get("/p/case/").url.endswith("/p/")


def test_nothing_personal_is_cached_and_a_view_writes_no_audit_entry(receipt, officers):
    secret_words = "请回电13900001111，我叫王小明"
    reissued, token = services.issue_receipt(officers["lead"], receipt.case, receipt.party)
    services.leave_message(reissued, secret_words)
    cache.clear()
    browser = _browser(token)
    entries = AuditEntry.objects.count()
    page = browser.get("/p/case/").content.decode()
    assert secret_words in page  # the party reads their own message
    cached = repr(_cached_values())
    assert "data-milestone" in cached  # the timeline was cached …
    for personal in (secret_words, "王小明", "13812345678", "wang@example.cn"):
        assert personal not in cached  # … but not their message, name or contact
    assert AuditEntry.objects.count() == entries  # as before the cache: nothing recorded


def test_a_browser_with_two_receipts_sees_both_the_newest_first(victim, make_case, officers):
    case, party = victim
    older, older_token = services.issue_receipt(officers["lead"], case, party)
    other = make_case()
    reporter = cases.add_party(officers["lead"], other, role="reporter", name="报案人")
    newer, newer_token = services.issue_receipt(officers["lead"], other, reporter)
    browser = _browser(older_token)
    assert browser.get(f"/p/t/{newer_token}/").status_code == 302
    page = browser.get("/p/case/").content.decode()
    assert page.index(newer.number) < page.index(older.number)
    assert page.index(other.number) < page.index(case.number)
