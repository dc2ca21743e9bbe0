"""Issue 13, item 1: every custody alert reaches the desk that acts on it — the
center's custody staff and commander (the medical desk for vital signs) and the
case's own officers — and opens a page each of them may see (docs/custody.md)."""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import count

import pytest
from django.utils import timezone

from casecenter.accounts.models import Organisation, OrganisationKind, Role
from casecenter.custody import selectors as custody
from casecenter.custody import tracking
from casecenter.supervision import subjects, worker
from casecenter.supervision.models import Alert
from casecenter.supervision.selectors import visible_alerts

pytestmark = pytest.mark.django_db

ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\d\d:\d\d:\d\d\.\d{3}")


@pytest.fixture
def staff(center, make_user, officers, orgs):
    def at_center(name, role, org=center.org):
        user = make_user(name, role)
        user.organisation = org
        user.save()
        return user

    elsewhere = Organisation.objects.create(
        code="zx2", kind=OrganisationKind.CASE_CENTER, name="另一中心", parent=orgs["legal"]
    )
    return {
        "desk": center.desk,
        "commander": at_center("commander", Role.COMMANDER),
        "medic": at_center("medic", Role.MEDICAL),
        "lead": officers["lead"],
        "manager": officers["manager"],  # the case's station's case-management group
        "stranger": officers["stranger"],  # an officer of another station
        "other_desk": at_center("other_desk", Role.CUSTODY_STAFF, elsewhere),
        "other_medic": at_center("other_medic", Role.MEDICAL, elsewhere),
    }


@pytest.fixture
def every_rule(center, suspect, bring_in, make_case):
    """One alert of each custody rule, raised through device events and the worker."""
    seqs: dict[str, count] = {}
    t = timezone.now() - timedelta(minutes=20)

    def send(device, kind, at, **payload):
        seq = next(seqs.setdefault(device, count(1)))
        event = tracking.Event(center.org.code, kind, device, seq, at, payload)
        return tracking.apply_events([event], received_at=at + timedelta(milliseconds=50))

    case = make_case()
    adult = bring_in(suspect(case), band=0, at=t - timedelta(hours=1))
    co = bring_in(suspect(case, birth="19880101", sex_serial="135"), band=1, at=t)
    today = timezone.localdate()
    bring_in(suspect(birth=f"{today.year - 16}0101", sex_serial="155"), band=2, at=t)
    lawyer = bring_in(suspect(birth="19750101", sex_serial="171"), band=3, at=t)
    send("WB-00", "presence", t, zone="XW-1", event="enter")  # no camera answers; one officer
    send("BG-0", "presence", t, zone="XW-1", event="enter")
    send("WB-00", "vitals", t + timedelta(seconds=5), hr=135)
    send("WB-01", "presence", t, zone="HH-1", event="enter")
    send("WB-02", "presence", t, zone="HH-1", event="enter")
    send("WB-02", "presence", t + timedelta(seconds=30), zone="XW-1", event="enter")
    send("WB-01", "presence", t + timedelta(seconds=60), zone="HH-1", event="enter")
    send("WB-01", "status", t + timedelta(seconds=70), strap="removed")
    applied = send("WB-03", "presence", t, zone="LS", event="enter")
    send("CAM-LS-1", "status", t + timedelta(seconds=1), recording=True, audio=True,
         command=applied.commands[0].command_id)  # fmt: skip
    worker.run_once(now=t + timedelta(minutes=2))
    found = {a.rule_id: a for a in Alert.objects.order_by("pk")}
    assert set(found) >= {
        "custody.recording",
        "custody.two_officers",
        "custody.vitals",
        "custody.juvenile_room",
        "custody.strap",
        "custody.lawyer_audio",
    }, sorted(found)
    assert co.case_id == adult.case_id and lawyer.pk
    return found


@pytest.fixture
def separation(center, suspect, bring_in, make_case):
    case = make_case()
    t = timezone.now() - timedelta(minutes=5)
    for band, serial in ((0, "123"), (1, "135")):
        bring_in(suspect(case, birth="19880101", sex_serial=serial), band=band, at=t)
        tracking.apply_events(
            [
                tracking.Event(
                    center.org.code,
                    "presence",
                    f"WB-0{band}",
                    1,
                    t + timedelta(seconds=band),
                    {"zone": "HH-1", "event": "enter"},
                )
            ],
            received_at=t + timedelta(seconds=band, milliseconds=50),
        )
    return Alert.objects.get(rule_id="custody.separation")


DESKS = {"desk", "commander", "lead"}


def _who_sees(alert, staff) -> set[str]:
    return {name for name, user in staff.items() if visible_alerts(user).filter(pk=alert.pk)}


def test_each_custody_alert_reaches_the_centers_desk_and_the_cases_officers(
    every_rule, staff, client
):
    for code, alert in every_rule.items():
        expected = DESKS | ({"medic"} if code == "custody.vitals" else set())
        assert _who_sees(alert, staff) == expected, code
        assert alert.organisation.kind == OrganisationKind.CASE_CENTER
        page = subjects.alert_page(alert)
        assert page.startswith("/custody/stays/"), (code, page)
        for name in expected:
            client.force_login(staff[name])
            assert client.get(f"/alerts/{alert.pk}/").status_code == 200, (code, name)
            stay_page = client.get(page)
            assert stay_page.status_code == 200, (code, name)
            # the stay lists what its people were alerted to, with the actions
            assert f'href="/alerts/{alert.pk}/"' in stay_page.content.decode(), (code, name)
        for name in ("stranger", "other_desk", "other_medic"):
            client.force_login(staff[name])
            assert client.get(f"/alerts/{alert.pk}/").status_code == 404, (code, name)


def test_co_suspects_together_reach_the_desk(separation, staff):
    assert _who_sees(separation, staff) == DESKS
    assert subjects.alert_page(separation).startswith("/custody/stays/")


def test_the_live_maps_panel_shows_the_centers_alerts(every_rule, staff, center):
    for name in ("desk", "commander"):
        shown = {a.pk for a in custody.center_map(staff[name], center.org).alerts}
        assert {a.pk for a in every_rule.values()} <= shown, name


def test_nobody_at_the_center_acknowledging_tells_the_cases_own_station(every_rule, staff):
    alert = every_rule["custody.vitals"]
    assert "manager" not in _who_sees(alert, staff)
    worker.run_once(now=alert.escalate_at + timedelta(seconds=1))
    alert.refresh_from_db()
    assert alert.level == 1
    assert "manager" in _who_sees(alert, staff)
    assert "stranger" not in _who_sees(alert, staff)


def test_an_alert_page_reads_as_facts_for_people_in_both_languages(every_rule, staff, client):
    """Labelled facts in the reader's language; never internal keys, ids or ISO times."""
    client.force_login(staff["desk"])
    for code, alert in every_rule.items():
        zh = client.get(f"/alerts/{alert.pk}/").content.decode()
        assert "应对" in zh and ("人员" in zh or "房间" in zh), code
        client.cookies["django_language"] = "en"
        en = client.get(f"/alerts/{alert.pk}/").content.decode()
        del client.cookies["django_language"]
        assert "What to do" in en, code
        for page in (zh, en):
            assert not ISO_TIME.search(page), (code, ISO_TIME.search(page).group())
            assert "learnt_after" not in page and "&quot;stay&quot;" not in page, code


def test_the_medical_desk_reads_the_stay_without_the_desks_forms(every_rule, staff, client):
    page = subjects.alert_page(every_rule["custody.vitals"])
    client.force_login(staff["medic"])
    medic = client.get(page).content.decode()
    client.force_login(staff["desk"])
    desk = client.get(page).content.decode()
    for form in ('data-testid="exit-form"', 'data-testid="session-form"'):
        assert form in desk and form not in medic
    assert 'data-testid="vitals"' in medic
