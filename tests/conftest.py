"""Shared fixtures: organisations, officers in every role, and a case factory."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings as hypothesis_settings

from casecenter import law

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop + live_server

PASSWORD = "correct horse battery staple"  # noqa: S105


def valid_id(birth: str = "19900307", serial: str = "123") -> str:
    first17 = f"110108{birth}{serial}"
    return first17 + law.check_digit(first17)


# No timing assertions in tests (CONVENTIONS.md): hypothesis's per-example
# deadline is one, and it fails a busy machine, not the code.
hypothesis_settings.register_profile("casecenter", deadline=None)
hypothesis_settings.load_profile("casecenter")

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config, specs):
    """Each pytest-xdist worker gets a data folder of its own, ``<data folder>/gw0``, ….

    A shared one would be raced for: the secret and field keys are created in it
    at first use (a worker could read a key file another has not written yet), and
    the dossier store is content-addressed, so a file one worker stores, reads back
    or deletes (``test_a_refused_package_shows_its_reasons_to_both_sides``) may be
    the very file another is storing. The folder is put in the worker's environment
    before it starts: the settings read it on import, before any conftest, and the
    child processes the tests start (ingester, worker, CLI) inherit it with the keys.
    """
    from django.conf import settings

    for spec in specs:
        spec.env["CASECENTER_DATA_DIR"] = str(settings.DATA_DIR / spec.id)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is slow on purpose; tests that are not about hashing use a fast hasher."""
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(autouse=True)
def api_answers_checked(settings):
    """Every /api/ answer of every test is checked against the OpenAPI document
    (casecenter.apicontract.ApiContractCheckMiddleware): an undocumented status
    or a body its schema does not describe fails the test that caused it."""
    settings.CASECENTER_API_CHECK_RESPONSES = True


@pytest.fixture(autouse=True)
def mfa_outside_its_tests(request, settings, monkeypatch):
    """MFA is on with its real requirement only in tests marked ``@pytest.mark.mfa``.

    Elsewhere no role requires it (a commander or an administrator logs in with
    the password, the API token needs no code), and ``client.force_login(user)``
    stands for a complete login: when the user would need a second factor (staff,
    or an enrolled user) the session is also verified with a device of theirs,
    as after the code prompt.
    """
    if request.node.get_closest_marker("mfa"):
        return
    settings.CASECENTER_MFA_REQUIRED_ROLES = ()
    from django.test import Client

    force_login = Client.force_login

    def force_login_verified(self, user, backend=None):
        force_login(self, user, backend)
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from casecenter.accounts import mfa

        if not mfa.mfa_needed(user):
            return
        device = mfa.totp_device(user) or TOTPDevice.objects.create(
            user=user, name="test", confirmed=True
        )
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()

    monkeypatch.setattr(Client, "force_login", force_login_verified)


@pytest.fixture
def browser_of():
    """A logged-in test client of a user (the UI's default language, Chinese)."""
    from django.test import Client

    def client_for(user):
        client = Client()
        client.force_login(user)
        return client

    return client_for


@pytest.fixture
def orgs(db):
    from casecenter.accounts.models import Organisation, OrganisationKind

    legal = Organisation.objects.create(
        code="fz", kind=OrganisationKind.LEGAL_AFFAIRS, name="法制支队"
    )
    station = Organisation.objects.create(
        code="zgc", kind=OrganisationKind.POLICE_STATION, name="中关村派出所", parent=legal
    )
    other = Organisation.objects.create(
        code="xyl", kind=OrganisationKind.POLICE_STATION, name="学院路派出所", parent=legal
    )
    court = Organisation.objects.create(code="fy", kind=OrganisationKind.COURT, name="法院")
    return {"legal": legal, "station": station, "other": other, "court": court}


@pytest.fixture
def make_user(orgs):
    from casecenter.accounts.models import Role, User

    def make(username: str, role: str = Role.CASE_OFFICER, org: str = "station", **extra):
        user = User(
            username=username, display_name=username, role=role, organisation=orgs[org], **extra
        )
        user.set_password(PASSWORD)
        user.save()
        return user

    return make


@pytest.fixture
def officers(make_user):
    from casecenter.accounts.models import Role

    return {
        "lead": make_user("lead"),
        "partner": make_user("partner"),
        "bystander": make_user("bystander"),
        "manager": make_user("manager", Role.CASE_MANAGEMENT),
        "legal": make_user("legal", Role.LEGAL_AFFAIRS, org="legal"),
        "stranger": make_user("stranger", org="other"),
        "judge": make_user("judge", Role.JUDGE, org="court"),
    }


@pytest.fixture
def make_case(officers):
    from casecenter.cases import services

    def make(kind: str = "criminal", **extra):
        fields = {"category": "theft", "title": "电动车被盗案", **extra}
        case = services.accept_case(officers["lead"], kind=kind, **fields)
        services.assign_officer(officers["lead"], case, officers["partner"], "assisting")
        case.refresh_from_db()
        return case

    return make
