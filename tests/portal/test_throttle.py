"""Guessing the public page's second factor: a sliding window of wrong answers per client and
per receipt slows the guesser, never the party holding the QR link, and the link's token is
never written to a log."""

from __future__ import annotations

import contextlib
import logging
import secrets
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from casecenter.portal import services
from casecenter.portal.models import Attempt

pytestmark = pytest.mark.django_db

ATTEMPTS, SECONDS = services.CLIENT_LIMIT


class Clock:
    """The throttle's clock, moved by hand (no sleeping, no timing assertions)."""

    def __init__(self, monkeypatch):
        self.now = timezone.now().replace(microsecond=0)
        monkeypatch.setattr(services.timezone, "now", lambda: self.now)

    def at(self, seconds: float) -> None:
        self.start = getattr(self, "start", self.now)
        self.now = self.start + timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def wrong_token(client: str = "bot"):
    return services.open_by_token(secrets.token_urlsafe(24), client=client)


def test_a_client_cannot_spend_twice_its_allowance_across_a_window_boundary(receipt, clock):
    """A fixed window let 30 guesses at 9:59 and 30 more at 10:00; the sliding one does not."""
    clock.at(SECONDS - 10)  # late in what a fixed window would have called one window
    for _ in range(ATTEMPTS):
        assert wrong_token() is None
    clock.at(SECONDS + 10)  # a fixed window would have started afresh here
    with pytest.raises(services.TooManyAttempts):
        wrong_token()
    clock.at(2 * SECONDS - 9)  # the first guesses have slid out of the window
    assert wrong_token() is None


def test_refused_requests_do_not_count_toward_the_allowance(receipt, clock):
    clock.at(0)
    for _ in range(ATTEMPTS):
        wrong_token()
    clock.at(SECONDS / 2)
    for _ in range(100):
        with pytest.raises(services.TooManyAttempts):
            wrong_token()
    assert Attempt.objects.filter(key="client:bot").count() == ATTEMPTS
    clock.at(SECONDS + 1)  # had the refusals counted, the client would still be shut out
    assert wrong_token() is None


def test_right_answers_are_not_counted(receipt, clock):
    for _ in range(ATTEMPTS * 2):
        assert services.open_by_number(receipt.number, "5678", client="party") == receipt
    assert not Attempt.objects.exists()


def test_guessed_receipt_numbers_add_rows_only_up_to_the_clients_allowance(receipt, clock):
    for n in range(1000):
        with contextlib.suppress(services.TooManyAttempts):
            services.open_by_number(f"ZGC-SA-1999-{n:06d}", "1234", client="scanner")
    keys = set(Attempt.objects.values_list("key", flat=True))
    assert keys == {"client:scanner"}  # no row per guessed number
    assert Attempt.objects.count() == ATTEMPTS


def test_old_attempts_are_forgotten_as_new_ones_come(receipt, clock):
    clock.at(0)
    for n in range(10):
        wrong_token(client=f"c{n}")
    clock.at(services.KEEP.total_seconds() + 1)
    wrong_token(client="later")
    assert list(Attempt.objects.values_list("key", flat=True)) == ["client:later"]


def test_a_receipt_slowed_by_guessing_still_opens_by_its_qr_link(victim, officers, clock):
    case, party = victim
    receipt, token = services.issue_receipt(officers["lead"], case, party)
    for n in range(services.RECEIPT_LIMIT[0]):  # guessers from many addresses
        assert services.open_by_number(receipt.number, f"{n:04d}", client=f"g{n}") is None
    with pytest.raises(services.TooManyAttempts) as slowed:
        services.open_by_number(receipt.number, "5678", client="the-party")
    assert slowed.value.receipt_slowed
    for _ in range(ATTEMPTS):  # even a client that is itself over its allowance
        wrong_token(client="the-party")
    with pytest.raises(services.TooManyAttempts):
        wrong_token(client="the-party")
    assert services.open_by_token(token, client="the-party") == receipt


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", ["二维码", "010-62551234"]),
        ("en", ["QR code", "call the handling unit: 010-62551234"]),
    ],
)
def test_a_slowed_receipt_tells_the_party_how_to_get_in(victim, officers, language, words):
    case, party = victim
    case.organisation.phone = "010-62551234"
    case.organisation.save()
    receipt, _ = services.issue_receipt(officers["lead"], case, party)
    for n in range(services.RECEIPT_LIMIT[0]):
        services.open_by_number(receipt.number, f"{n:04d}", client=f"g{n}")
    public = Client()
    public.cookies["django_language"] = language
    r = public.post("/p/", {"number": receipt.number, "last4": "5678"})
    body = r.content.decode()
    assert r.status_code == 429
    for word in words:
        assert word in body


def test_the_client_address_comes_from_a_proxy_only_when_the_proxy_is_named(receipt, settings):
    forged = {"REMOTE_ADDR": "10.0.0.9", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    Client().post("/p/", {"number": "ZGC-SA-2026-999999", "last4": "1234"}, **forged)
    assert set(Attempt.objects.values_list("key", flat=True)) == {"client:10.0.0.9"}
    Attempt.objects.all().delete()
    settings.CASECENTER_TRUSTED_PROXIES = ["10.0.0.9"]
    Client().post("/p/", {"number": "ZGC-SA-2026-999999", "last4": "1234"}, **forged)
    assert set(Attempt.objects.values_list("key", flat=True)) == {"client:203.0.113.7"}


def test_the_links_token_is_never_written_to_a_log(victim, officers, caplog):
    case, party = victim
    _, old = services.issue_receipt(officers["lead"], case, party)
    _, token = services.issue_receipt(officers["lead"], case, party)  # revokes the first
    caplog.set_level(logging.DEBUG)
    public = Client()
    assert public.get(f"/p/t/{old}/").status_code == 404  # logged as "Not Found: <path>"
    public.get(f"/p/t/{token}/")
    assert token not in caplog.text and old not in caplog.text
    assert "/p/t/[token]" in caplog.text
    # the development server's request line goes through the same filter
    server = logging.getLogger("django.server")
    record = server.makeRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        (f"GET /p/t/{token}/ HTTP/1.1", 302, 0),
        None,
    )
    assert server.filter(record)
    assert token not in record.getMessage() and "/p/t/[token]/" in record.getMessage()
