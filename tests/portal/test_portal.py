"""Public case progress: receipts, access by token or number + phone digits, throttling."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from casecenter.cases import services as cases
from casecenter.errors import InvalidInput, PermissionDenied
from casecenter.portal import services
from casecenter.portal.models import Receipt

pytestmark = pytest.mark.django_db


def test_a_receipt_carries_a_192_bit_token_kept_only_as_a_hash(victim, officers):
    case, party = victim
    receipt, token = services.issue_receipt(officers["lead"], case, party)
    assert len(token) >= 32 and token not in receipt.token_digest
    assert receipt.number.startswith("ZGC-SA-")
    assert services.open_by_token(token, client="t") == receipt


def test_reissuing_revokes_the_old_link(victim, officers):
    case, party = victim
    _, old = services.issue_receipt(officers["lead"], case, party)
    receipt, new = services.issue_receipt(officers["lead"], case, party)
    assert services.open_by_token(old, client="t") is None
    assert services.open_by_token(new, client="t") == receipt
    assert Receipt.objects.filter(party=party, revoked_at__isnull=True).count() == 1


def test_secret_cases_and_suspects_get_no_receipt(make_case, officers):
    secret = make_case(secret=True)
    party = cases.add_party(officers["lead"], secret, role="victim", name="甲")
    with pytest.raises(PermissionDenied):
        services.issue_receipt(officers["lead"], secret, party)
    case = make_case()
    suspect = cases.add_party(officers["lead"], case, role="suspect", name="乙")
    with pytest.raises(InvalidInput):
        services.issue_receipt(officers["lead"], case, suspect)


def test_number_and_phone_digits_open_it_and_wrong_answers_look_alike(victim, officers):
    case, party = victim
    receipt, _ = services.issue_receipt(officers["lead"], case, party)
    assert services.open_by_number(receipt.number.lower(), "5678", client="a") == receipt
    assert services.open_by_number(receipt.number, "0000", client="b") is None
    assert services.open_by_number("ZGC-SA-2026-999999", "5678", client="c") is None


def _pin_clock(monkeypatch, moment):
    """Hold the throttle's clock still: a slow run must not cross a window boundary."""
    monkeypatch.setattr(services.timezone, "now", lambda: moment)


def test_ten_thousand_random_tokens_are_throttled_and_find_nothing(victim, officers, monkeypatch):
    case, party = victim
    services.issue_receipt(officers["lead"], case, party)
    _pin_clock(monkeypatch, timezone.now())
    found, refused = 0, 0
    for _ in range(10_000):
        try:
            found += services.open_by_token(secrets.token_urlsafe(24), client="bot") is not None
        except services.TooManyAttempts:
            refused += 1
    limit = services.CLIENT_LIMIT[0]
    assert found == 0 and refused == 10_000 - limit


def test_a_throttled_client_may_try_again_in_the_next_window(victim, officers, monkeypatch):
    case, party = victim
    services.issue_receipt(officers["lead"], case, party)
    attempts, seconds = services.CLIENT_LIMIT
    start = timezone.now()
    _pin_clock(monkeypatch, start)
    for _ in range(attempts):
        services.open_by_token(secrets.token_urlsafe(24), client="patient")
    with pytest.raises(services.TooManyAttempts):
        services.open_by_token(secrets.token_urlsafe(24), client="patient")
    _pin_clock(monkeypatch, start + timedelta(seconds=seconds))
    assert services.open_by_token(secrets.token_urlsafe(24), client="patient") is None


def test_guessing_one_receipt_is_throttled_per_receipt(victim, officers, monkeypatch):
    case, party = victim
    receipt, _ = services.issue_receipt(officers["lead"], case, party)
    _pin_clock(monkeypatch, timezone.now())
    for n in range(services.RECEIPT_LIMIT[0]):
        assert services.open_by_number(receipt.number, f"{n:04d}", client=f"c{n}") is None
    with pytest.raises(services.TooManyAttempts):
        services.open_by_number(receipt.number, "5678", client="fresh-client")


def test_the_public_page_shows_milestones_and_nothing_internal(victim, officers):
    case, party = victim
    staff = Client()
    staff.force_login(officers["lead"])
    page = staff.post(f"/cases/{case.pk}/receipts/{party.pk}/").content.decode()
    link = re.search(r'href="[^"]*(/p/t/[^/"]+/)"', page) or re.search(r"(/p/t/[^/\s<]+/)", page)
    assert link, "the receipt shows its link"
    case.refresh_from_db()
    cases.transition_case(
        officers["lead"],
        case,
        "file",
        expected_version=case.version,
        reason="内部理由：嫌疑人已查明",
    )
    public = Client()
    r = public.get(link.group(1), follow=True)
    body = r.content.decode()
    assert r.status_code == 200 and "已受理" in body and "已立案" in body
    assert "王小明" not in body and "内部理由" not in body and party.person.id_number not in body
    assert "lead" not in body


def test_public_forms_need_csrf_and_bad_answers_change_nothing(victim, officers):
    client = Client(enforce_csrf_checks=True)
    r = client.post("/p/", {"number": "X", "last4": "1234"})
    assert r.status_code == 403
    r = Client().post("/p/", {"number": "nope", "last4": "12"})
    assert r.status_code == 200 and "errorlist" in r.content.decode()
    r = Client().get("/p/t/not-a-token/")
    assert r.status_code == 404


def test_a_receipt_for_an_english_speaker_carries_the_translation(victim, officers):
    case, party = victim
    staff = Client()
    staff.force_login(officers["lead"])
    page = staff.post(
        f"/cases/{case.pk}/receipts/{party.pk}/", {"party_language": "en"}
    ).content.decode()
    assert 'data-testid="receipt-en"' in page and "受案回执" in page
    assert Receipt.objects.get(party=party).language == "en"
    chinese = staff.post(f"/cases/{case.pk}/receipts/{party.pk}/").content.decode()
    assert 'data-testid="receipt-en"' not in chinese
