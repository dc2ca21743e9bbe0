"""The world of the three-level response tests: the branch's case-handling center
with its specialised units and commander, the branch's legal-affairs unit, a
case of the station, and a second branch whose units are out of the case's reach."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.supervision.conftest import api  # noqa: F401 - the bearer-token API client


@pytest.fixture
def center(orgs):
    from casecenter.accounts.models import Organisation, OrganisationKind

    return Organisation.objects.create(
        code="zx", kind=OrganisationKind.CASE_CENTER, name="执法办案管理中心", parent=orgs["legal"]
    )


@pytest.fixture
def units(orgs, center):
    """Helping units in the case's reach (the center's, the branch's legal affairs),
    one out of reach (another branch's center), one of a kind that is not asked."""
    from casecenter.accounts.models import Organisation, OrganisationKind, Unit

    far_branch = Organisation.objects.create(
        code="cy", kind=OrganisationKind.LEGAL_AFFAIRS, name="朝阳分局法制支队"
    )
    far_center = Organisation.objects.create(
        code="cyzx", kind=OrganisationKind.CASE_CENTER, name="朝阳中心", parent=far_branch
    )
    K = Unit.Kind
    return {
        "criminal": Unit.objects.create(
            organisation=center, kind=K.CRIMINAL_INVESTIGATION, name="刑侦"
        ),
        "economic": Unit.objects.create(organisation=center, kind=K.ECONOMIC_CRIME, name="经侦"),
        "narcotics": Unit.objects.create(organisation=center, kind=K.NARCOTICS, name="禁毒"),
        "legal": Unit.objects.create(organisation=orgs["legal"], kind=K.LEGAL_AFFAIRS, name="法制"),
        "far": Unit.objects.create(organisation=far_center, kind=K.NARCOTICS, name="朝阳禁毒"),
        "command": Unit.objects.create(organisation=center, kind=K.COMMAND, name="指挥室"),
        "empty": Unit.objects.create(organisation=center, kind=K.PUBLIC_ORDER, name="治安"),
    }


@pytest.fixture
def people(make_user, units, center):
    """Two criminal-investigation specialists, an economic-crime one, narcotics in
    the far branch, a legal-affairs officer of the branch, the center's commander
    and a commander elsewhere."""
    from casecenter.accounts.models import Role

    def member(name, role, unit, org=None):
        user = make_user(name, role, org="legal", unit=unit)
        user.organisation = org or unit.organisation
        user.save(update_fields=["organisation"])
        return user

    return {
        "tianye": member("tianye", Role.SPECIALIST, units["criminal"]),
        "tianye2": member("tianye2", Role.SPECIALIST, units["criminal"]),
        "jiangtao": member("jiangtao", Role.SPECIALIST, units["economic"]),
        "fengxue": member("fengxue", Role.SPECIALIST, units["narcotics"]),
        "far": member("far", Role.SPECIALIST, units["far"]),
        "fazhi": member("fazhi", Role.LEGAL_AFFAIRS, units["legal"]),
        "maqun": member("maqun", Role.COMMANDER, units["command"]),
        "far_commander": member("far_commander", Role.COMMANDER, None, units["far"].organisation),
    }


@pytest.fixture
def case(make_case):
    return make_case()


@pytest.fixture
def ask(officers, case, units, people):
    """``ask(level=3, unit="criminal", **extra)``: the lead asks for help."""
    from casecenter.assistance import services

    def make(level=3, unit="criminal", actor=None, on=None, **extra):
        fields = {"topic": "interrogation", "question": "嫌疑人拒不供述，请提示讯问方向。", **extra}
        return services.ask_for_help(
            actor or officers["lead"], on or case, unit=units[unit], level=level, **fields
        )

    return make


@pytest.fixture
def browser_of():
    """A logged-in test client of a user (the UI's default language, Chinese)."""

    def client_for(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return client_for
