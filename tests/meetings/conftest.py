"""A detention centre with its staff, rooms and a detainee; lawyers of a law firm
and of a legal-aid center; helpers to book slots."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from tests.conftest import valid_id
from tests.supervision.conftest import api  # noqa: F401 - the bearer-token API client

DETAINEE_ID = valid_id("19880512", "321")
OTHER_ID = valid_id("19920101", "456")


def licence_number(sex: str = "M", serial: str = "0012345", practice: str = "1") -> str:
    """A well-formed licence: Beijing (1101), first licensed 2010."""
    return f"11012010{practice}{'1' if sex == 'M' else '0'}{serial}"


def slot(days: int = 1, hour: int = 10, minute: int = 0, minutes: int = 60):
    """(start, end) of a slot ``days`` from today at ``hour:minute`` local time."""
    day = timezone.localdate() + timedelta(days=days)
    start = timezone.make_aware(datetime.combine(day, time(hour, minute)))
    return start, start + timedelta(minutes=minutes)


@pytest.fixture
def centres(orgs):
    from casecenter.accounts.models import Organisation, OrganisationKind

    kinds = {
        "centre": (OrganisationKind.DETENTION_CENTRE, "hd-kss", "海淀看守所"),
        "other_centre": (OrganisationKind.DETENTION_CENTRE, "cy-kss", "朝阳看守所"),
        "firm": (OrganisationKind.LAW_FIRM, "md-law", "明德律师事务所"),
        "legal_aid": (OrganisationKind.LEGAL_AID, "hd-fyzx", "海淀区法律援助中心"),
    }
    for key, (kind, code, name) in kinds.items():
        orgs[key] = Organisation.objects.create(kind=kind, code=code, name=name)
    return orgs


@pytest.fixture
def people(centres, make_user, officers):
    from casecenter.accounts.models import Role

    return {
        "staff": make_user("sunhao", Role.DETENTION_STAFF, org="centre"),
        "colleague": make_user("staff2", Role.DETENTION_STAFF, org="centre"),
        "other_staff": make_user("staff_cy", Role.DETENTION_STAFF, org="other_centre"),
        "lawyer": make_user("chenming", Role.DEFENCE_LAWYER, org="firm", sex="M"),
        "lawyer2": make_user("lvfang", Role.DEFENCE_LAWYER, org="firm", sex="F"),
        "duty": make_user("zhengli", Role.DUTY_LAWYER, org="legal_aid", sex="F"),
        "admin": make_user("admin", Role.ADMIN, org="legal"),
        "officer": officers["lead"],
        "judge": officers["judge"],
    }


@pytest.fixture
def verified(people):
    """``verified(key)``: the person's licence registered and verified."""
    from casecenter.meetings import lawyers

    serials = {"lawyer": "0000001", "lawyer2": "0000002", "duty": "0000003"}

    def make(key: str = "lawyer"):
        user = people[key]
        lawyer = lawyers.register_licence(
            user, licence_number=licence_number(user.sex, serials[key])
        )
        return lawyers.verify_lawyer(people["staff"], lawyer)

    return make


@pytest.fixture
def rooms(centres):
    from casecenter.meetings.models import Room

    return {
        "one": Room.objects.create(centre=centres["centre"], code="r1", name="远程会见室一"),
        "two": Room.objects.create(centre=centres["centre"], code="r2", name="远程会见室二"),
        "theirs": Room.objects.create(centre=centres["other_centre"], code="r1", name="朝阳一"),
    }


@pytest.fixture
def detainee(people):
    from casecenter.meetings import detainees

    return detainees.register_detainee(
        people["staff"],
        name="张三",
        id_number=DETAINEE_ID,
        handling_organisation="中关村派出所",
        case_number="ZGC-X-2026-00012",
        received_at=timezone.now() - timedelta(days=3),
    )


@pytest.fixture
def other_detainee(people):
    from casecenter.meetings import detainees

    return detainees.register_detainee(
        people["staff"],
        name="李四",
        id_number=OTHER_ID,
        handling_organisation="学院路派出所",
        case_number="XYL-X-2026-00003",
    )


@pytest.fixture
def book(people, centres, detainee, verified):
    """``book(key, when=slot(), name=…, id_number=…)``: a request by that lawyer."""
    from casecenter.meetings import services
    from casecenter.meetings.models import Lawyer

    def make(
        key: str = "lawyer",
        when=None,
        name: str = "张三",
        id_number: str = DETAINEE_ID,
        authority: str = "",
        **extra,
    ):
        if not Lawyer.objects.filter(user=people[key]).exists():
            verified(key)
        starts_at, ends_at = when or slot()
        if not authority:
            authority = "legal_aid" if key == "duty" else "engagement"
        return services.request_booking(
            people[key],
            centre=centres["centre"],
            name=name,
            id_number=id_number,
            starts_at=starts_at,
            ends_at=ends_at,
            authority=authority,
            authority_reference="（2026）明德委字第018号",
            **extra,
        )

    return make
