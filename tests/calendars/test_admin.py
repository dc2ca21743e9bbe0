"""Holiday notices are read-only in the admin: changes go through the audited service."""

from __future__ import annotations

import pytest

from casecenter.accounts.models import User
from casecenter.calendars import services


@pytest.fixture
def superuser_client(client, db):
    user = User.objects.create_superuser(username="root", password="a-long-passphrase-42")
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_admin_lists_loaded_notices(superuser_client):
    services.load_notice(None, 2031, ["2031-01-01"], [], "国办发明电〔2030〕1号")

    response = superuser_client.get("/admin/calendars/holidaynotice/")

    assert response.status_code == 200
    assert "国办发明电〔2030〕1号" in response.content.decode()


@pytest.mark.django_db
def test_the_admin_cannot_add_or_change_a_notice(superuser_client):
    notice = services.load_notice(None, 2031, ["2031-01-01"], [], "国办发明电〔2030〕1号")

    assert superuser_client.get("/admin/calendars/holidaynotice/add/").status_code == 403
    response = superuser_client.post(
        f"/admin/calendars/holidaynotice/{notice.pk}/change/", {"source": "edited"}
    )
    assert response.status_code == 403
    notice.refresh_from_db()
    assert notice.source == "国办发明电〔2030〕1号"
