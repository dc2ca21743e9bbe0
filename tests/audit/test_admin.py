"""The admin shows the audit log and offers no way to add, change or delete an entry."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.db import transaction
from django.test import RequestFactory

from casecenter.audit.canonical import format_at
from casecenter.audit.models import AuditEntry
from casecenter.audit.services import record

pytestmark = pytest.mark.django_db


def test_admin_grants_no_add_change_or_delete_even_to_a_superuser(make_officer):
    admin = site._registry[AuditEntry]
    request = RequestFactory().get("/admin/audit/auditentry/")
    request.user = make_officer("root", is_superuser=True, is_staff=True)
    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request)
    assert not admin.has_delete_permission(request)
    assert admin.has_view_permission(request)


@pytest.fixture
def root_browser(client, make_officer):
    client.force_login(make_officer("root", is_superuser=True, is_staff=True))
    return client


def test_admin_lists_entries_newest_first_waiting_ones_included(root_browser, log):
    with transaction.atomic():
        waiting = record(None, "test.waiting")
    listing = root_browser.get("/admin/audit/auditentry/")
    assert listing.status_code == 200
    page = listing.content.decode()
    # the waiting entry first (newest id), then the log from its last entry back
    order = [page.index(f"/admin/audit/auditentry/{e.id}/change/") for e in [waiting, *log[::-1]]]
    assert order == sorted(order)
    assert "accounts.token.create" in page and "test.waiting" in page


def test_admin_shows_an_entry_read_only_with_its_leaf_and_leaf_hash(root_browser, log):
    entry = log[4]
    detail = root_browser.get(f"/admin/audit/auditentry/{entry.id}/change/")
    assert detail.status_code == 200
    page = detail.content.decode()
    assert bytes(entry.leaf_hash).hex() in page
    assert format_at(entry.at) in page  # the time exactly as hashed
    assert "报表 API" in page  # the leaf and its data, as stored
    assert 'name="reason"' not in page  # no form fields, only read-only values
    assert root_browser.post(f"/admin/audit/auditentry/{entry.id}/delete/").status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
