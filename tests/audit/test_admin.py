"""The admin shows the audit log and offers no way to add, change or delete an entry."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from casecenter.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_admin_grants_no_add_change_or_delete_even_to_a_superuser(make_officer):
    admin = site._registry[AuditEntry]
    request = RequestFactory().get("/admin/audit/auditentry/")
    request.user = make_officer("root", is_superuser=True, is_staff=True)
    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request)
    assert not admin.has_delete_permission(request)
    assert admin.has_view_permission(request)


def test_admin_lists_and_shows_entries_read_only(client, make_officer, log):
    client.force_login(make_officer("root", is_superuser=True, is_staff=True))
    listing = client.get("/admin/audit/auditentry/")
    assert listing.status_code == 200
    assert "accounts.token.create" in listing.content.decode()
    detail = client.get(f"/admin/audit/auditentry/{log[4].seq}/change/")
    assert detail.status_code == 200
    page = detail.content.decode()
    assert bytes(log[4].tree_root).hex() in page
    assert 'name="reason"' not in page  # no form fields, only read-only values
    assert client.post(f"/admin/audit/auditentry/{log[4].seq}/delete/").status_code == 403
