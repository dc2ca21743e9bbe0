"""Property fixtures: a custodian, rooms with shelves, an item seized in a case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.supervision.conftest import api  # noqa: F401 - the bearer-token API client


@pytest.fixture
def custodian(make_user):
    from casecenter.accounts.models import Role

    return make_user("custodian", Role.CUSTODY_STAFF, org="legal")


@pytest.fixture
def rooms(orgs):
    from casecenter.property.models import Location, Room

    store = Room.objects.create(
        organisation=orgs["legal"], kind=Room.Kind.PROPERTY_ROOM, code="cw1", name="财物室一"
    )
    drugs = Room.objects.create(
        organisation=orgs["legal"], kind=Room.Kind.DRUG_STORE, code="dp1", name="毒品库"
    )
    lab = Room.objects.create(
        organisation=orgs["legal"], kind=Room.Kind.APPRAISAL, code="jd1", name="物价鉴定室"
    )
    shelves = {
        code: Location.objects.create(room=room, shelf=shelf, bin=bin_, code=code)
        for code, room, shelf, bin_ in [
            ("CW1-A-01", store, "A", "01"),
            ("CW1-A-02", store, "A", "02"),
            ("DP1-A-01", drugs, "A", "01"),
        ]
    }
    return {"store": store, "drugs": drugs, "lab": lab, **shelves}


@pytest.fixture
def seize(make_case, officers):
    from casecenter.property import services

    case = make_case()

    def seize_one(category: str = "phone", **extra):
        fields = {
            "description": "黑色苹果手机一部",
            "quantity": 1,
            "unit": "部",
            "seized_at": timezone.now() - timedelta(hours=1),
            "seized_place": "中关村大街1号",
            **extra,
        }
        return services.register_item(
            officers["lead"],
            case,
            category=category,
            officers=[officers["lead"], officers["partner"]],
            **fields,
        )

    return seize_one


# --- the UI and API tests -------------------------------------------------------------


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Photos are written to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def browser_of(officers):
    """A logged-in test client of a user (Chinese unless ``language`` says otherwise)."""
    from django.test import Client

    def client_for(user, language: str = ""):
        client = Client()
        client.force_login(user)
        if language:
            client.cookies["django_language"] = language
        return client

    return client_for


@pytest.fixture
def handed(seize, officers, custodian):
    """An item the seizing officer has handed to the custodian."""
    from casecenter.property import services

    def hand(category: str = "phone", **extra):
        item = seize(category, **extra)
        return services.hand_over(officers["lead"], item, receiver=custodian)

    return hand


@pytest.fixture
def stored(handed, custodian, rooms):
    """An item on shelf CW1-A-01 of the property room."""
    from casecenter.property import services

    def store(location: str = "CW1-A-01", **extra):
        return services.store_item(custodian, handed(**extra), location=rooms[location])

    return store


def png_bytes(size=(40, 30), color=(200, 30, 30), kind: str = "PNG") -> bytes:
    """A small real image, as a camera or phone would upload one."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=kind)
    return out.getvalue()
