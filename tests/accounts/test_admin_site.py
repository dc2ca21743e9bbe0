"""The admin site: behind a verified (MFA) staff session, movable or off, and every
change made on it — through any registered ModelAdmin — an audit entry."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from datetime import date, datetime, time
from itertools import count

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db.models import Model
from django.test import Client
from django.urls import clear_url_caches, reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from casecenter.accounts import mfa
from casecenter.accounts.models import ApiToken, Organisation, OrganisationKind, Role, Unit, User
from casecenter.accounts.services import issue_api_token
from casecenter.adminsite.site import AuditedModelAdmin
from casecenter.audit.models import AuditEntry
from casecenter.custody.models import Device, Zone
from casecenter.devices.models import RejectedMessage
from casecenter.meetings.models import Room
from tests.accounts.test_mfa import code_for, enrol
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.mfa]


@pytest.fixture
def root(make_user):
    return make_user("root", Role.ADMIN, org="legal", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(root) -> Client:
    """The administrator's browser after password and code."""
    device, _ = enrol(root)
    client = Client()
    client.force_login(root)
    r = client.post("/account/mfa/verify/", {"code": code_for(device), "next": "/admin/"})
    assert r.status_code == 302 and r.url == "/admin/"
    return client


# --- one saved object of every model with a writable admin ----------------------


_serial = count(1)


def _n() -> int:
    return next(_serial)


def _zone(orgs):
    return Zone.objects.create(
        center=orgs["station"], code=f"Z{_n()}", name="登记室", kind="registration"
    )


def _sample_user(orgs):
    user = User(username=f"sample{_n()}", display_name="样例", organisation=orgs["station"])
    user.set_password(PASSWORD)
    user.save()
    return user


SAMPLES: dict[str, Callable[[dict], Model]] = {
    "auth.group": lambda orgs: Group.objects.create(name=f"sample{_n()}"),
    "otp_totp.totpdevice": lambda orgs: TOTPDevice.objects.create(
        user=_sample_user(orgs), name="phone", confirmed=True
    ),
    "otp_static.staticdevice": lambda orgs: StaticDevice.objects.create(
        user=_sample_user(orgs), name="recovery codes"
    ),
    "accounts.organisation": lambda orgs: Organisation.objects.create(
        code=f"sample{_n()}", kind=OrganisationKind.POLICE_STATION, name="样例派出所"
    ),
    "accounts.unit": lambda orgs: Unit.objects.create(
        organisation=orgs["station"], name=f"{_n()}组"
    ),
    "accounts.user": _sample_user,
    "custody.zone": _zone,
    "custody.camera": lambda orgs: _zone(orgs).cameras.create(code=f"CAM-{_n()}", name="1号"),
    "custody.device": lambda orgs: Device.objects.create(
        center=orgs["station"], code=f"WB-{_n()}", kind="wristband"
    ),
    "devices.rejectedmessage": lambda orgs: RejectedMessage.objects.create(
        received_at=timezone.now(), source="http", code="bad", message="bad"
    ),
    "meetings.room": lambda orgs: Room.objects.create(
        centre=Organisation.objects.create(
            code=f"kss{_n()}", kind=OrganisationKind.DETENTION_CENTRE, name="看守所"
        ),
        code=f"r{_n()}",
        name="会见室",
    ),
}


def _value(value):
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return "" if value is None else value


def form_data(response) -> dict:
    """What the browser would send back from an admin change page, unchanged."""
    data: dict = {}

    def add(form: forms.BaseForm) -> None:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            key, value, widget = form.add_prefix(name), form[name].value(), field.widget
            if isinstance(widget, forms.MultiWidget):
                parts = value if isinstance(value, list | tuple) else widget.decompress(value)
                for i, part in enumerate(parts):
                    data[f"{key}_{i}"] = _value(part)
            elif isinstance(widget, forms.CheckboxInput):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [_value(v) for v in value]
            else:
                data[key] = _value(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def audited(action: str, obj: Model) -> AuditEntry:
    return AuditEntry.objects.get(
        action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk)
    )


def test_every_change_through_every_registered_admin_is_audited(admin_client, root, orgs, rf):
    request = rf.get("/admin/")
    request.user = root
    writable = []
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        assert isinstance(model_admin, AuditedModelAdmin), label
        if not (
            model_admin.has_add_permission(request)
            or model_admin.has_change_permission(request)
            or model_admin.has_delete_permission(request)
        ):
            continue  # read-only: nothing to audit
        writable.append(label)
        assert label in SAMPLES, f"add a sample {label} to SAMPLES to prove its admin is audited"
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}"

        if model_admin.has_change_permission(request):
            obj = SAMPLES[label](orgs)
            page = admin_client.get(f"{base}/{obj.pk}/change/")
            assert page.status_code == 200, label
            saved = admin_client.post(f"{base}/{obj.pk}/change/", form_data(page))
            assert saved.status_code == 302, (label, saved.context["adminform"].form.errors)
            entry = audited("admin.change", obj)
            assert entry.actor_id == root.pk and entry.data["model"] == label
            model.objects.filter(pk=obj.pk).delete()

        if model_admin.has_delete_permission(request):
            one = SAMPLES[label](orgs)
            r = admin_client.post(f"{base}/{one.pk}/delete/", {"post": "yes"})
            assert r.status_code == 302, label
            assert not model.objects.filter(pk=one.pk).exists()
            assert audited("admin.delete", one).data["model"] == label
            bulk = SAMPLES[label](orgs)
            r = admin_client.post(
                f"{base}/",
                {"action": "delete_selected", "_selected_action": [bulk.pk], "post": "yes"},
            )
            assert r.status_code == 302, label
            assert not model.objects.filter(pk=bulk.pk).exists(), label
            assert audited("admin.delete", bulk).actor_id == root.pk
    assert {"accounts.user", "accounts.organisation", "custody.zone"} <= set(writable)


def test_an_admin_added_later_is_audited_without_asking(orgs):
    class Plain(admin.ModelAdmin):
        pass

    site = admin.sites.site.__class__()
    site.register(Group, Plain)
    assert isinstance(site._registry[Group], AuditedModelAdmin)
    assert isinstance(site._registry[Group], Plain)


def test_an_addition_names_the_fields_never_their_values(admin_client, root):
    r = admin_client.post(
        "/admin/accounts/organisation/add/",
        {"code": "new", "kind": "police_station", "name": "新派出所", "name_en": "", "phone": ""},
    )
    assert r.status_code == 302
    org = Organisation.objects.get(code="new")
    entry = audited("admin.add", org)
    assert entry.data["model"] == "accounts.organisation"
    assert {"code", "kind", "name"} <= set(entry.data["fields"])
    assert "新派出所" not in json.dumps(entry.data, ensure_ascii=False)


def test_a_user_added_in_the_admin_changes_the_password_at_the_first_login(admin_client):
    r = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "newcomer",
            "password1": "Lantern-Quarry-2291",
            "password2": "Lantern-Quarry-2291",
            "usable_password": "true",
            "display_name": "新人",
            "role": Role.CASE_OFFICER,
        },
    )
    assert r.status_code == 302, r.context["adminform"].form.errors
    newcomer = User.objects.get(username="newcomer")
    assert newcomer.must_change_password
    entry = audited("admin.add", newcomer)
    assert "Lantern-Quarry-2291" not in json.dumps(entry.data)


def test_the_admin_sends_ones_own_password_change_to_the_account_page(admin_client):
    r = admin_client.get("/admin/password_change/")
    assert r.status_code == 302 and r.url == "/account/password/"


def test_a_change_names_only_the_changed_fields(admin_client, make_user):
    officer = make_user("officer")
    page = admin_client.get(f"/admin/accounts/user/{officer.pk}/change/")
    data = form_data(page)
    data["role"] = Role.COMMANDER
    assert admin_client.post(f"/admin/accounts/user/{officer.pk}/change/", data).status_code == 302
    officer.refresh_from_db()
    assert officer.role == Role.COMMANDER
    # (Django's split date-time widget reports date_joined as changed when the
    # unchanged value comes back in the Chinese format: its name is listed too)
    assert set(audited("admin.change", officer).data["fields"]) - {"date_joined"} == {"role"}


def test_a_password_set_in_the_admin_is_a_reset(admin_client, make_user):
    officer = make_user("officer")
    _, secret = issue_api_token(officer, name="script")
    r = admin_client.post(
        f"/admin/accounts/user/{officer.pk}/password/",
        {"password1": "Lantern-Quarry-2291", "password2": "Lantern-Quarry-2291"},
    )
    assert r.status_code == 302
    officer.refresh_from_db()
    assert officer.check_password("Lantern-Quarry-2291")
    assert officer.must_change_password
    assert not ApiToken.objects.filter(user=officer, revoked_at__isnull=True).exists()
    entry = audited("account.password_reset", officer)
    assert entry.actor_name == "root"
    every = json.dumps(list(AuditEntry.objects.values_list("data", flat=True)))
    assert officer.password not in every and "Lantern-Quarry-2291" not in every


def test_switching_an_account_off_in_the_admin_disables_it(admin_client, make_user):
    officer = make_user("officer")
    issue_api_token(officer, name="script")
    page = admin_client.get(f"/admin/accounts/user/{officer.pk}/change/")
    data = form_data(page)
    data.pop("is_active")
    assert admin_client.post(f"/admin/accounts/user/{officer.pk}/change/", data).status_code == 302
    officer.refresh_from_db()
    assert not officer.is_active
    assert not ApiToken.objects.filter(user=officer, revoked_at__isnull=True).exists()
    assert audited("account.disabled", officer).actor_name == "root"
    assert set(audited("admin.change", officer).data["fields"]) - {"date_joined"} == {"is_active"}


def test_the_user_admin_unlocks_and_resets_mfa(admin_client, make_user):
    boss = make_user("boss", Role.COMMANDER)
    enrol(boss)
    url = "/admin/accounts/user/"
    r = admin_client.post(url, {"action": "unlock_accounts", "_selected_action": [boss.pk]})
    assert r.status_code == 302
    assert audited("account.unlocked", boss).actor_name == "root"

    r = admin_client.post(url, {"action": "reset_mfa", "_selected_action": [boss.pk]})
    assert r.status_code == 302
    assert not mfa.is_enrolled(boss)
    assert audited("mfa.reset", boss).data["by"] == "admin"
    action = AuditEntry.objects.filter(action="admin.action").order_by("-id").first()
    assert action.data["action"] == "reset_mfa" and action.data["ids"] == [str(boss.pk)]


def test_the_token_admin_lists_and_revokes(admin_client, make_user):
    officer = make_user("officer")
    token, _ = issue_api_token(officer, name="script")
    listing = admin_client.get("/admin/accounts/apitoken/")
    assert token.prefix in listing.content.decode()
    assert token.digest not in listing.content.decode()
    r = admin_client.post(
        "/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert r.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert audited("account.token_revoked", token).actor_name == "root"


# --- who gets in -----------------------------------------------------------------


def test_the_admin_needs_a_staff_session_verified_by_a_code(root, make_user):
    anonymous = Client().get("/admin/")
    assert anonymous.status_code == 302
    to_login = Client().get(anonymous.url)
    assert to_login.url == "/login/?next=%2Fadmin%2F"

    device, _ = enrol(root)
    client = Client()
    client.force_login(root)  # the password only
    r = client.get("/admin/")
    assert r.status_code == 302 and r.url.startswith("/account/mfa/verify/")
    client.post("/account/mfa/verify/", {"code": code_for(device)})
    assert client.get("/admin/").status_code == 200

    officer = make_user("officer")
    plain = Client()
    plain.force_login(officer)
    assert plain.get("/admin/login/").status_code == 403


@pytest.fixture
def reload_urls(settings):
    """Rebuild the URL map after a setting changed; restore it afterwards."""
    import casecenter.urls

    def reload():
        importlib.reload(casecenter.urls)
        clear_url_caches()

    yield reload
    settings.CASECENTER_ADMIN_ENABLED = True
    settings.CASECENTER_ADMIN_PATH = "admin/"
    reload()


def test_the_admin_can_be_moved_or_switched_off(admin_client, settings, reload_urls):
    settings.CASECENTER_ADMIN_PATH = "ops-7f3k/"
    reload_urls()
    assert reverse("admin:index") == "/ops-7f3k/"
    assert admin_client.get("/ops-7f3k/").status_code == 200
    assert admin_client.get("/admin/").status_code == 404

    settings.CASECENTER_ADMIN_ENABLED = False
    reload_urls()
    assert admin_client.get("/ops-7f3k/").status_code == 404
    assert admin_client.get("/admin/").status_code == 404
    assert admin_client.get("/").status_code == 200
