"""Need-to-know: who sees a case and who reads its personal data (F9.1)."""

from __future__ import annotations

import pytest

from casecenter.audit.models import AuditEntry
from casecenter.cases import breakglass, selectors, services
from casecenter.errors import InvalidInput, NotFound, PermissionDenied
from tests.conftest import valid_id

pytestmark = pytest.mark.django_db


def test_assigned_officer_reads_personal_data_and_the_read_is_audited(make_case, officers):
    case = make_case()
    services.add_party(officers["lead"], case, role="suspect", name="王五", id_number=valid_id())
    file = selectors.read_case_file(officers["partner"], case)
    assert file.basis == "assigned" and [p.person.name for p in file.parties] == ["王五"]
    entry = AuditEntry.objects.filter(action="case.read_personal").latest("id")
    assert entry.actor_id == officers["partner"].pk and entry.object_id == str(case.pk)
    assert entry.data["people"] == [file.parties[0].person_id]


def test_station_colleague_sees_the_case_exists_but_not_its_people(make_case, officers):
    case = make_case()
    assert selectors.get_case(officers["bystander"], case.pk) == case
    with pytest.raises(PermissionDenied):
        selectors.read_case_file(officers["bystander"], case)


def test_supervisors_read_by_role(make_case, officers):
    case = make_case()
    assert selectors.read_case_file(officers["manager"], case).basis == "supervision"
    assert selectors.read_case_file(officers["legal"], case).basis == "supervision"


def test_other_organisations_do_not_even_see_the_case(make_case, officers):
    case = make_case()
    for who in ("stranger", "judge"):
        with pytest.raises(NotFound):
            selectors.get_case(officers[who], case.pk)
        assert case not in selectors.case_list(officers[who])


def test_secret_case_is_invisible_to_everyone_not_assigned(make_case, officers):
    case = make_case(secret=True)
    for who in ("bystander", "manager", "legal"):
        with pytest.raises(NotFound):
            selectors.get_case(officers[who], case.pk)
    assert selectors.get_case(officers["partner"], case.pk) == case


def test_break_glass_opens_a_case_for_a_recorded_reason(make_case, officers):
    case = make_case()
    with pytest.raises(InvalidInput):
        breakglass.break_glass(officers["bystander"], case, reason="")
    breakglass.break_glass(
        officers["bystander"], case, reason="嫌疑人今晚在本所另案到案，需核对身份"
    )
    file = selectors.read_case_file(officers["bystander"], case)
    assert file.basis == "break_glass"
    entry = AuditEntry.objects.filter(action="case.break_glass").get()
    assert entry.actor_id == officers["bystander"].pk and "核对身份" in entry.reason


def test_revealing_a_full_id_number_is_its_own_audited_read(make_case, officers):
    case = make_case()
    number = valid_id()
    party = services.add_party(
        officers["lead"], case, role="suspect", name="王五", id_number=number
    )
    assert selectors.reveal_id_number(officers["lead"], party, purpose="制作讯问笔录") == number
    entry = AuditEntry.objects.filter(action="person.reveal_id_number").get()
    assert entry.object_id == str(party.person_id) and entry.reason == "制作讯问笔录"
    with pytest.raises(PermissionDenied):
        selectors.reveal_id_number(officers["bystander"], party, purpose="好奇")
