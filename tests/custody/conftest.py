"""A small center: zones, cameras, wristbands, badges, and a suspect to bring in."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from types import SimpleNamespace

import pytest
from django.utils import timezone

from casecenter.accounts.models import Organisation, OrganisationKind
from casecenter.cases import services as cases
from casecenter.custody import services, tracking
from casecenter.custody.models import Camera, Device, Zone
from tests.conftest import valid_id

ZONES = [
    ("DJ", "登记大厅", "registration"),
    ("HH-1", "候问室一", "waiting"),
    ("XW-1", "讯问室一", "interrogation"),
    ("WCN", "未成年人询问室", "juvenile"),
    ("LS", "律师会见室", "lawyer"),
]


@pytest.fixture
def center(orgs, make_user, officers):
    org = Organisation.objects.create(
        code="zx", kind=OrganisationKind.CASE_CENTER, name="办案中心", parent=orgs["legal"]
    )
    zones = {}
    for code, name, kind in ZONES:
        zones[code] = Zone.objects.create(center=org, code=code, name=name, kind=kind)
        for n in (1, 2):
            Camera.objects.create(zone=zones[code], code=f"CAM-{code}-{n}")
    bands = [
        Device.objects.create(center=org, code=f"WB-{n:02d}", kind="wristband") for n in range(4)
    ]
    desk = make_user("desk", "custody_staff", org="station", sex="M")
    desk.organisation = org
    desk.save()
    # BG-0 and BG-1: the case officers of ``make_case``; BG-2: the desk (no case officer)
    badges = [
        Device.objects.create(center=org, code=f"BG-{n}", kind="badge", user=user)
        for n, user in enumerate([officers["lead"], officers["partner"], desk])
    ]
    return SimpleNamespace(org=org, zones=zones, bands=bands, badges=badges, desk=desk)


@pytest.fixture
def suspect(make_case, officers):
    def make(case=None, *, birth="19900307", sex_serial="123"):
        case = case or make_case()
        party = cases.add_party(
            officers["lead"],
            case,
            role="suspect",
            name="嫌疑人",
            id_number=valid_id(birth, sex_serial),
        )
        return party

    return make


@pytest.fixture
def bring_in(center):
    """Register a suspect in (wristband n), an hour ago by default."""

    def bring(party, band: int = 0, at: datetime | None = None):
        return services.register_entry(
            center.desk,
            center=center.org,
            party=party,
            wristband=center.bands[band],
            searched_by=center.desk,
            identity_checked=True,
            at=at or timezone.now() - timedelta(hours=1),
        )

    return bring


@pytest.fixture
def device_events(center):
    """Send events as a device would: ``send("WB-00", "presence", zone="XW-1", event="enter")``."""
    seqs: dict[str, count] = {}
    base = timezone.now() - timedelta(minutes=30)

    def send(device, kind, *, at=None, seq=None, **payload):
        number = seq if seq is not None else next(seqs.setdefault(device, count(1)))
        event = tracking.Event(
            center=center.org.code,
            kind=kind,
            device=device,
            seq=number,
            device_time=at or base + timedelta(seconds=number),
            payload=payload,
        )
        return tracking.apply_events([event])

    return send
