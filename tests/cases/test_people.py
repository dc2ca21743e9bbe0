"""People in cases: one row per record linked by the ID number's blind index, minors,
encryption at rest."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from casecenter.cases import services
from casecenter.cases.models import Person
from casecenter.errors import Conflict, InvalidInput
from tests.conftest import valid_id

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_same_id_number_links_records_without_sharing_them(make_case, officers):
    """Each party keeps its own row: the same real person is the same blind index."""
    number = valid_id()
    a = services.add_party(
        officers["lead"], make_case(), role="suspect", name="王五", id_number=number
    )
    b = services.add_party(
        officers["lead"], make_case(), role="victim", name="王小五", id_number=number.lower()
    )
    assert a.person_id != b.person_id and Person.objects.count() == 2
    assert a.person.id_number_index == b.person.id_number_index
    assert (a.person.name, b.person.name) == ("王五", "王小五")


def test_old_15_digit_number_is_upgraded_and_indexed_like_the_18_digit_one(make_case, officers):
    first = services.add_party(
        officers["lead"], make_case(), role="suspect", name="赵六", id_number="110108900307123"
    )
    again = services.add_party(
        officers["lead"], make_case(), role="witness", name="赵六", id_number=first.person.id_number
    )
    assert len(first.person.id_number) == 18
    assert first.person.id_number_index == again.person.id_number_index


def test_birth_date_and_sex_come_from_the_id_number(make_case, officers):
    party = services.add_party(
        officers["lead"],
        make_case(),
        role="suspect",
        name="钱七",
        id_number=valid_id("19900307", "124"),
    )
    assert str(party.person.birth_date) == "1990-03-07"
    assert party.person.sex == "F"  # 17th digit 4 is even


def test_minor_flag_uses_age_at_the_time_of_the_act(make_case, officers):
    # criminal age counts from the day after the birthday (SPC 法释〔2006〕1号 Art. 2)
    number = valid_id("20080307", "135")
    on_birthday = make_case(occurred_at=datetime(2026, 3, 7, 20, 0, tzinfo=SH))
    party = services.add_party(
        officers["lead"], on_birthday, role="suspect", name="孙八", id_number=number
    )
    assert party.age_at_act == 17 and party.minor_at_act is True
    assert party.responsibility == "16_to_18"
    day_after = make_case(occurred_at=datetime(2026, 3, 8, 9, 0, tzinfo=SH))
    adult = services.add_party(
        officers["lead"], day_after, role="suspect", name="孙八", id_number=number
    )
    assert adult.age_at_act == 18 and adult.minor_at_act is False
    assert adult.responsibility == "adult"


def test_child_under_14_is_flagged_not_criminally_responsible(make_case, officers):
    case = make_case(occurred_at=datetime(2026, 5, 1, 12, 0, tzinfo=SH))
    party = services.add_party(
        officers["lead"], case, role="suspect", name="小明", id_number=valid_id("20130101", "011")
    )
    assert party.age_at_act == 13 and party.responsibility == "under_14"


def test_wrong_check_digit_is_refused_with_a_clear_message(make_case, officers):
    case = make_case()
    good = valid_id()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(InvalidInput) as err:
        services.add_party(officers["lead"], case, role="suspect", name="周九", id_number=bad)
    assert "check" in err.value.message_en.lower()
    assert case.parties.count() == 0 and Person.objects.count() == 0


def test_id_number_and_phone_are_encrypted_at_rest(make_case, officers):
    number = valid_id()
    services.add_party(
        officers["lead"],
        make_case(),
        role="victim",
        name="吴十",
        id_number=number,
        phone="13812345678",
    )
    with connection.cursor() as cur:
        cur.execute("SELECT id_number, phone, id_number_index, id_number_masked FROM cases_person")
        stored_id, stored_phone, index, masked = cur.fetchone()
    assert number not in stored_id and stored_id.startswith("v1:")
    assert "13812345678" not in stored_phone
    assert number not in index and len(index) == 64
    assert masked == number[:6] + "********" + number[-4:]
    assert Person.objects.get().id_number == number


def test_same_person_twice_in_the_same_role_is_refused(make_case, officers):
    case = make_case()
    services.add_party(officers["lead"], case, role="suspect", name="郑一", id_number=valid_id())
    with pytest.raises(Conflict) as err:
        services.add_party(
            officers["lead"], case, role="suspect", name="郑一", id_number=valid_id()
        )
    assert err.value.code == "party.duplicate"
