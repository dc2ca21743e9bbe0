"""A victim with a phone and an e-mail address, and the receipt issued to them."""

from __future__ import annotations

import pytest

from casecenter.cases import services as cases
from casecenter.portal import services
from tests.conftest import valid_id


@pytest.fixture
def victim(make_case, officers):
    case = make_case()
    party = cases.add_party(
        officers["lead"],
        case,
        role="victim",
        name="王小明",
        id_number=valid_id(),
        phone="13812345678",
        email="wang@example.cn",
    )
    return case, party


@pytest.fixture
def receipt(victim, officers):
    case, party = victim
    issued, _token = services.issue_receipt(officers["lead"], case, party)
    return issued
