"""Property fixtures: a custodian, rooms with shelves, an item seized in a case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone


@pytest.fixture
def custodian(make_user):
    from casecenter.accounts.models import Role

    return make_user("custodian", Role.CUSTODY_STAFF, org="legal")


@pytest.fixture
def rooms(orgs):
    from casecenter.property.models import Location, Room

    store = Room.objects.create(organisation=orgs["legal"], kind=Room.Kind.PROPERTY_ROOM,
                                code="cw1", name="财物室一")
    drugs = Room.objects.create(organisation=orgs["legal"], kind=Room.Kind.DRUG_STORE,
                                code="dp1", name="毒品库")
    lab = Room.objects.create(organisation=orgs["legal"], kind=Room.Kind.APPRAISAL,
                              code="jd1", name="物价鉴定室")
    shelves = {
        code: Location.objects.create(room=room, shelf=shelf, bin=bin_, code=code)
        for code, room, shelf, bin_ in [
            ("CW1-A-01", store, "A", "01"), ("CW1-A-02", store, "A", "02"),
            ("DP1-A-01", drugs, "A", "01"),
        ]
    }
    return {"store": store, "drugs": drugs, "lab": lab, **shelves}


@pytest.fixture
def seize(make_case, officers):
    from casecenter.property import services

    case = make_case()

    def seize_one(category: str = "phone", **extra):
        fields = {"description": "黑色苹果手机一部", "quantity": 1, "unit": "部",
                  "seized_at": timezone.now() - timedelta(hours=1),
                  "seized_place": "中关村大街1号", **extra}
        return services.register_item(officers["lead"], case, category=category,
                                      officers=[officers["lead"], officers["partner"]], **fields)

    return seize_one
