"""Entry and exit registration, and the interrogation desk."""

from __future__ import annotations

import pytest

from casecenter.audit.models import AuditEntry
from casecenter.custody import services
from casecenter.custody.models import Belonging, Camera, Presence, Session, Stay
from casecenter.errors import Conflict, InvalidInput, PermissionDenied

pytestmark = pytest.mark.django_db


def _enter(center, party, **extra):
    fields = {
        "center": center.org,
        "party": party,
        "wristband": center.bands[0],
        "searched_by": center.desk,
        "identity_checked": True,
        **extra,
    }
    return services.register_entry(center.desk, **fields)


def test_entry_binds_a_wristband_and_keeps_belongings(center, suspect):
    stay = _enter(center, suspect(), belongings=[("手机", 1), ("钥匙", 2), ("  ", 1)])
    assert stay.wristband == center.bands[0] and stay.exited_at is None
    assert list(Belonging.objects.values_list("description", "quantity")) == [
        ("手机", 1),
        ("钥匙", 2),
    ]
    assert AuditEntry.objects.filter(action="custody.entered").count() == 1


def test_entry_refuses_what_the_rules_forbid(center, suspect, make_user):
    party = suspect()
    with pytest.raises(InvalidInput) as unchecked:
        _enter(center, party, identity_checked=False)
    assert unchecked.value.code == "custody.identity"
    woman = make_user("woman", "custody_staff", sex="F")
    with pytest.raises(InvalidInput) as other_sex:
        _enter(center, party, searched_by=woman)
    assert other_sex.value.code == "custody.search_sex"
    _enter(center, party)
    with pytest.raises(Conflict):
        _enter(center, party, wristband=center.bands[1])  # already in
    with pytest.raises(Conflict):
        _enter(center, suspect(birth="19850101", sex_serial="111"))  # wristband worn
    assert Stay.objects.count() == 1


def test_one_person_named_by_two_cases_is_not_in_two_stays(center, suspect, make_case):
    """Each case keeps its own record of a person; the same ID number is the same
    person all the same (cases.Person: the blind index links the records)."""
    first, second = suspect(), suspect(make_case())
    assert first.person_id != second.person_id
    _enter(center, first)
    with pytest.raises(Conflict) as err:
        _enter(center, second, wristband=center.bands[1])
    assert err.value.code == "custody.already_in" and Stay.objects.count() == 1


def test_only_desk_roles_register(center, suspect, officers):
    with pytest.raises(PermissionDenied):
        services.register_entry(
            officers["legal"],
            center=center.org,
            party=suspect(),
            wristband=center.bands[0],
            searched_by=center.desk,
            identity_checked=True,
        )


def test_exit_closes_presence_returns_belongings_and_stops_the_cameras(
    center, suspect, bring_in, device_events
):
    stay = bring_in(suspect())
    Belonging.objects.create(stay=stay, description="手机")
    device_events("WB-00", "presence", zone="XW-1", event="enter")
    services.register_exit(center.desk, stay, reason="送看守所")
    stay.refresh_from_db()
    assert stay.exited_at and Belonging.objects.get().returned_at == stay.exited_at
    assert Presence.objects.get().left_at == stay.exited_at
    assert not Camera.objects.filter(wanted=True).exists()
    with pytest.raises(Conflict):
        services.register_exit(center.desk, stay, reason="again")
    # the wristband is free again
    _enter(center, suspect(birth="19850101", sex_serial="111"))


def test_the_medical_desk_neither_opens_nor_closes_an_interrogation(
    center, suspect, bring_in, officers, make_user
):
    stay = bring_in(suspect())
    doctor = make_user("doctor", "medical", org="station")
    doctor.organisation = center.org
    doctor.save()
    two = [officers["lead"], officers["partner"]]
    with pytest.raises(PermissionDenied) as refused:
        services.open_session(doctor, stay, zone=center.zones["XW-1"], officers=two)
    assert refused.value.code == "session.not_police"
    assert not Session.objects.exists()
    session = services.open_session(officers["lead"], stay, zone=center.zones["XW-1"], officers=two)
    with pytest.raises(PermissionDenied):
        services.close_session(doctor, session)
    session.refresh_from_db()
    assert session.ended_at is None
    services.close_session(center.desk, session)
    session.refresh_from_db()
    assert session.ended_at is not None


def test_the_desk_opens_interrogation_only_in_an_interrogation_room(
    center, suspect, bring_in, officers
):
    stay = bring_in(suspect())
    two = [officers["lead"], officers["partner"]]
    with pytest.raises(InvalidInput) as wrong_room:
        services.open_session(officers["lead"], stay, zone=center.zones["HH-1"], officers=two)
    assert wrong_room.value.code == "session.room"
    with pytest.raises(InvalidInput):
        services.open_session(
            officers["lead"], stay, zone=center.zones["XW-1"], officers=[officers["lead"]]
        )
    session = services.open_session(officers["lead"], stay, zone=center.zones["XW-1"], officers=two)
    assert Camera.objects.filter(zone__code="XW-1", wanted=True).count() == 2
    remote = services.open_session(
        officers["lead"],
        stay,
        zone=center.zones["XW-1"],
        officers=two,
        kind=Session.Kind.ARRAIGNMENT,
        parent=session,
    )
    assert remote.parent == session
    assert services.session_mismatches(session) == ["presence"]  # the wristband never entered
    services.close_session(officers["lead"], session)
    remote.refresh_from_db()
    assert remote.ended_at is not None
