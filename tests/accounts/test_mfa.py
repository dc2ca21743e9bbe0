"""MFA: TOTP with recovery codes, required of administrators, legal affairs and
commanders, verified after the password on every page and on the API token."""

from __future__ import annotations

import json
import re
import time

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from casecenter.accounts import mfa
from casecenter.accounts.models import Role
from casecenter.audit.models import AuditEntry
from casecenter.errors import InvalidInput, PermissionDenied
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.mfa]


def code_for(device: TOTPDevice, steps: int = 0) -> str:
    """What the user's authenticator shows now (or ``steps`` periods later)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps * device.step
    return f"{totp.token():06d}"


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    """The user enrolled (through the services) a while ago: the authenticator's
    current code has not been used yet."""
    device = mfa.start_enrolment(user)
    enrolment = mfa.confirm_enrolment(user, code_for(device))
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # 30 s later
    return enrolment.device, enrolment.recovery_codes


def actions(user, prefix: str = "mfa.") -> list[str]:
    return list(
        AuditEntry.objects.filter(action__startswith=prefix, object_id=str(user.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def post_json(client: Client, url: str, data: dict):
    return client.post(url, json.dumps(data), content_type="application/json")


# --- who must ------------------------------------------------------------------


def test_by_default_administrators_legal_affairs_and_commanders_must_use_mfa(make_user, settings):
    assert set(settings.CASECENTER_MFA_REQUIRED_ROLES) == {"admin", "legal_affairs", "commander"}
    assert mfa.mfa_required(make_user("boss", Role.COMMANDER))
    assert mfa.mfa_required(make_user("lawyerly", Role.LEGAL_AFFAIRS, org="legal"))
    assert mfa.mfa_required(make_user("root", Role.ADMIN))
    assert mfa.mfa_required(make_user("staffer", is_staff=True))
    assert not mfa.mfa_required(make_user("officer"))


def test_a_setting_makes_mfa_required_for_everyone(make_user, settings, client):
    officer = make_user("officer")
    client.force_login(officer)
    assert client.get("/").status_code == 200

    settings.CASECENTER_MFA_REQUIRED_FOR_ALL = True
    r = client.get("/")
    assert r.status_code == 302 and r.url == "/account/mfa/?next=%2F"


def test_after_the_password_a_commander_is_sent_to_set_up_mfa_on_every_page(make_user):
    make_user("boss", Role.COMMANDER)
    client = Client()
    r = client.post("/login/", {"username": "boss", "password": PASSWORD})
    assert r.status_code == 302
    for page in ("/", "/cases/", "/account/"):
        r = client.get(page)
        assert r.status_code == 302, page
        assert r.url.startswith("/account/mfa/?next="), page
    assert client.get("/account/mfa/verify/").url.startswith("/account/mfa/")  # nothing to verify


def test_an_unverified_session_gets_403_json_from_the_api(make_user, client):
    client.force_login(make_user("boss", Role.COMMANDER))
    r = client.get("/api/me")
    assert r.status_code == 403
    assert r.json()["code"] == "auth.mfa_required"
    assert client.get("/api/health").status_code == 200
    # the token endpoint asks for the code itself
    token = post_json(client, "/api/auth/token", {"username": "boss", "password": PASSWORD})
    assert token.json()["code"] == "auth.mfa_enrol_first"


def test_enrolment_shows_a_qr_code_and_the_secret_and_is_confirmed_by_a_code(make_user, client):
    boss = make_user("boss", Role.COMMANDER)
    client.force_login(boss)

    page = client.get("/account/mfa/?next=/cases/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "<script>" not in html
    device = TOTPDevice.objects.get(user=boss, confirmed=False)
    secret = re.search(r'data-testid="mfa-secret">([A-Z2-7 ]+)<', html).group(1)
    from base64 import b32encode

    assert secret.replace(" ", "") == b32encode(device.bin_key).decode()
    # reloading keeps the secret the user may already have scanned
    client.get("/account/mfa/")
    assert TOTPDevice.objects.filter(user=boss).count() == 1

    wrong = client.post(
        "/account/mfa/", {"code": "000000" if code_for(device) != "000000" else "1"}
    )
    assert wrong.status_code == 200
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed

    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)  # a moment later
    done = client.post("/account/mfa/", {"code": code_for(device), "next": "/cases/"})
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4})</code>", done.content.decode())
    assert len(codes) == 10 == len(set(codes))
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    # the session is verified: the pages open
    assert client.get("/cases/").status_code == 200
    assert actions(boss) == ["mfa.enrolment_started", "mfa.enrolment_failed", "mfa.enrolled"]
    # the codes are shown once, and kept only as digests
    assert client.get("/account/mfa/").status_code == 200
    assert "recovery-codes" not in client.get("/account/mfa/").content.decode()
    stored = set(StaticToken.objects.filter(device__user=boss).values_list("token", flat=True))
    assert len(stored) == 10
    assert not stored & {c.replace("-", "") for c in codes}


def test_an_enrolled_user_types_a_code_after_the_password(make_user):
    boss = make_user("boss", Role.COMMANDER)
    device, _ = enrol(boss)
    client = Client()
    client.post("/login/", {"username": "boss", "password": PASSWORD})

    r = client.get("/cases/")
    assert r.status_code == 302 and r.url == "/account/mfa/verify/?next=%2Fcases%2F"
    assert client.get("/account/mfa/").url.startswith("/account/mfa/verify/")  # no re-enrolment

    prompt = client.get("/account/mfa/verify/").content.decode()
    # the sign-in is not over: no menu, no alert count until the code is typed
    assert "<nav>" not in prompt and 'data-testid="bell"' not in prompt
    wrong = client.post("/account/mfa/verify/", {"code": "12345x", "next": "/cases/"})
    assert wrong.status_code == 200 and "errorlist" in wrong.content.decode()
    assert client.get("/cases/").status_code == 302

    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)  # a moment later
    ok = client.post("/account/mfa/verify/", {"code": code_for(device), "next": "/cases/"})
    assert ok.status_code == 302 and ok.url == "/cases/"
    cases = client.get("/cases/")
    assert cases.status_code == 200 and "<nav>" in cases.content.decode()
    assert 'data-testid="bell"' in cases.content.decode()
    assert client.get("/api/me").status_code == 200
    assert actions(boss)[-2:] == ["mfa.verify_failed", "mfa.verified"]


def test_the_verify_page_sends_only_to_our_own_pages(make_user, client):
    boss = make_user("boss", Role.COMMANDER)
    device, _ = enrol(boss)
    client.force_login(boss)
    r = client.post(
        "/account/mfa/verify/", {"code": code_for(device), "next": "https://evil.example/"}
    )
    assert r.status_code == 302 and r.url == "/"


def test_a_recovery_code_logs_in_once(make_user):
    boss = make_user("boss", Role.COMMANDER)
    _, codes = enrol(boss)

    first = Client()
    first.force_login(boss)
    r = first.post("/account/mfa/verify/", {"code": codes[3].upper().replace("-", " ")})
    assert r.status_code == 302
    assert first.get("/").status_code == 200
    assert mfa.recovery_codes_left(boss) == 9
    used = AuditEntry.objects.get(action="mfa.recovery_code_used", object_id=str(boss.pk))
    assert used.data == {"via": "web", "left": 9}

    StaticDevice.objects.filter(user=boss).update(throttling_failure_count=0)
    second = Client()
    second.force_login(boss)
    again = second.post("/account/mfa/verify/", {"code": codes[3]})
    assert again.status_code == 200
    assert second.get("/").status_code == 302
    assert mfa.recovery_codes_left(boss) == 9


def test_wrong_codes_are_throttled_for_totp_and_recovery_codes(make_user, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 600  # ten minutes after one failure
    settings.OTP_STATIC_THROTTLE_FACTOR = 600
    boss = make_user("boss", Role.COMMANDER)
    device, codes = enrol(boss)
    good = code_for(device)
    bad = "000000" if good != "000000" else "111111"

    with pytest.raises(InvalidInput) as first:
        mfa.verify_code(boss, bad, via="web")
    assert first.value.code == "mfa.wrong_code"
    with pytest.raises(InvalidInput) as refused:  # even the right code, for now
        mfa.verify_code(boss, good, via="web")
    assert refused.value.code == "mfa.throttled"
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # a refused attempt does not count

    with pytest.raises(InvalidInput):
        mfa.verify_code(boss, "aaaa-aaaa", via="web")
    with pytest.raises(InvalidInput) as static_refused:
        mfa.verify_code(boss, codes[0], via="web")
    assert static_refused.value.code == "mfa.throttled"
    assert mfa.recovery_codes_left(boss) == 10
    failures = AuditEntry.objects.filter(action="mfa.verify_failed", object_id=str(boss.pk))
    assert [e.data["throttled"] for e in failures.order_by("id")] == [False, True, False, True]


def test_an_optional_user_who_enrolled_must_verify_too(make_user):
    officer = make_user("officer")
    client = Client()
    client.force_login(officer)
    assert client.get("/").status_code == 200
    assert client.get("/account/mfa/").status_code == 200  # may enrol, not made to
    device, _ = enrol(officer)

    client = Client()
    client.force_login(officer)
    assert client.get("/").url.startswith("/account/mfa/verify/")
    client.post("/account/mfa/verify/", {"code": code_for(device)})
    assert client.get("/").status_code == 200


def test_the_user_resets_their_mfa_with_a_current_code(make_user, client):
    boss = make_user("boss", Role.COMMANDER)
    device, codes = enrol(boss)
    client.force_login(boss)
    client.post("/account/mfa/verify/", {"code": code_for(device)})
    assert "mfa-status" in client.get("/account/mfa/").content.decode()

    client.post(
        "/account/mfa/reset/", {"code": "000000" if code_for(device, 1) != "000000" else "1"}
    )
    assert mfa.is_enrolled(boss)

    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    r = client.post("/account/mfa/reset/", {"code": codes[0]})
    assert r.status_code == 302
    assert not mfa.is_enrolled(boss)
    assert not StaticDevice.objects.filter(user=boss).exists()
    # the session's verification went with the device: set up again first
    assert client.get("/cases/").url.startswith("/account/mfa/?next=")
    reset = AuditEntry.objects.get(action="mfa.reset", object_id=str(boss.pk))
    assert reset.data["by"] == "self" and reset.actor_id == boss.pk


def test_an_administrator_resets_a_users_mfa_and_others_may_not(make_user):
    boss = make_user("boss", Role.COMMANDER)
    enrol(boss)
    with pytest.raises(PermissionDenied):
        mfa.reset_mfa(make_user("officer"), boss)
    assert mfa.is_enrolled(boss)
    root = make_user("root", Role.ADMIN, org="legal")
    assert mfa.reset_mfa(root, boss) == 2
    assert not mfa.is_enrolled(boss)
    entry = AuditEntry.objects.get(action="mfa.reset", object_id=str(boss.pk))
    assert entry.actor_id == root.pk and entry.data["by"] == "admin"


# --- the API token --------------------------------------------------------------


def test_the_token_endpoint_asks_a_code_of_whoever_uses_mfa(make_user):
    boss = make_user("boss", Role.COMMANDER)
    make_user("officer")
    anon = Client()
    creds = {"username": "boss", "password": PASSWORD}

    not_yet = post_json(anon, "/api/auth/token", creds)
    assert not_yet.status_code == 403 and not_yet.json()["code"] == "auth.mfa_enrol_first"

    device, codes = enrol(boss)
    missing = post_json(anon, "/api/auth/token", creds)
    assert missing.status_code == 403 and missing.json()["code"] == "auth.otp_required"
    wrong = post_json(anon, "/api/auth/token", {**creds, "otp": "abcd-efgh"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "mfa.wrong_code"
    assert not boss.api_tokens.exists()

    ok = post_json(anon, "/api/auth/token", {**creds, "otp": code_for(device)})
    assert ok.status_code == 201, ok.content
    bearer = Client(headers={"Authorization": f"Bearer {ok.json()['token']}"})
    assert bearer.get("/api/me").json()["username"] == "boss"
    failed = AuditEntry.objects.get(action="mfa.verify_failed", object_id=str(boss.pk))
    assert failed.data["via"] == "api"

    # an officer without MFA needs no code
    plain = post_json(anon, "/api/auth/token", {"username": "officer", "password": PASSWORD})
    assert plain.status_code == 201


# --- the demo ----------------------------------------------------------------------


def test_demo_users_who_must_use_mfa_log_in_with_the_published_demo_key(db):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from casecenter.demo.data import DemoBuilder
    from casecenter.demo.mfa import DEMO_TOTP_SECRET, ensure_demo_authenticators

    users = DemoBuilder().organisations_and_users()
    with_demo = ensure_demo_authenticators(users)
    assert {u.username for u in with_demo} == {"admin", "sunli", "maqun"}
    assert ensure_demo_authenticators(users) == with_demo  # once only
    assert TOTPDevice.objects.filter(user=users["maqun"]).count() == 1

    out = StringIO()
    call_command("totp", "maqun", stdout=out)
    code = out.getvalue().strip()
    from base64 import b32decode

    device = TOTPDevice.objects.get(user=users["maqun"])
    assert device.bin_key == b32decode(DEMO_TOTP_SECRET)
    assert code == code_for(device)
    client = Client()
    client.post("/login/", {"username": "maqun", "password": "casecenter-demo"})
    r = client.post("/account/mfa/verify/", {"code": code})
    assert r.status_code == 302
    assert client.get("/").status_code == 200

    with pytest.raises(CommandError):  # no authenticator at all
        call_command("totp", "zhangwei", stdout=StringIO())
    mfa.reset_mfa(None, users["sunli"])
    enrol(users["sunli"])  # her own authenticator now: its codes stay hers
    with pytest.raises(CommandError):
        call_command("totp", "sunli", stdout=StringIO())
