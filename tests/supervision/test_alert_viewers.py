"""``alert_viewers`` (who sees an alert) is ``visible_alerts`` (which alerts a user
sees) read from the other side: the live push relies on the two agreeing."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casecenter.accounts.models import Organisation, Role, User
from casecenter.cases.models import Assignment, Case
from casecenter.supervision.models import Alert, AlertAudience, Rule
from casecenter.supervision.selectors import alert_viewers, visible_alerts

ORGS = ("legal", "station", "other", "court")
CODES = {"legal": "fz", "station": "zgc", "other": "xyl", "court": "fy"}
ROLES = tuple(Role.values)

audience_rows = st.lists(
    st.tuples(st.sampled_from(ROLES), st.sampled_from((None, *ORGS))), max_size=4, unique=True
)
assignments = st.lists(
    st.tuples(st.integers(0, len(ROLES) * len(ORGS) + 6), st.booleans()), max_size=5
)


class Rollback(Exception):
    """Ends an example's savepoint: every example starts from the same world."""


@given(
    org=st.sampled_from(ORGS),
    rows=audience_rows,
    assigned=assignments,
    escalated=st.integers(0, 4),
)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_viewers_of_an_alert_are_the_users_it_is_visible_to(
    world, org, rows, assigned, escalated
):
    """The same audience rows and assignments, on an alert without a case, of
    an open case and of a secret case."""
    users = list(User.objects.order_by("pk"))
    try:
        with transaction.atomic():
            cases = world["cases"]
            for case in cases:
                Assignment.objects.filter(case=case).update(ended_at=timezone.now())
                for index, ended in assigned:
                    Assignment.objects.get_or_create(
                        case=case,
                        user=users[index],
                        ended_at=timezone.now() if ended else None,
                        defaults={"role": "assisting"},
                    )
            alerts = [_alert(world["orgs"][org], c, rows, escalated) for c in (None, *cases)]
            seen = {a.pk: set() for a in alerts}
            for user in users:
                for pk in visible_alerts(user).filter(pk__in=seen).values_list("pk", flat=True):
                    seen[pk].add(user.pk)
            for alert in alerts:
                assert set(alert_viewers(alert).values_list("pk", flat=True)) == seen[alert.pk]
                # an escalation's rung: the roles its rows tell, never the case's officers
                rung = alert.audience.filter(level=escalated)
                told = set(alert_viewers(alert, audience=rung).values_list("pk", flat=True))
                assert told <= seen[alert.pk]
                assert all(rung.filter(role=u.role).exists() for u in users if u.pk in told)
            raise Rollback
    except Rollback:
        pass


def _alert(org: Organisation, case: Case | None, rows, escalated: int) -> Alert:
    alert = Alert.objects.create(
        key=f"generated-{case.pk if case else 0}",
        rule=Rule.objects.order_by("code").first(),
        kind=Alert.Kind.EVENT,
        severity="warning",
        case=case,
        organisation=org,
        raised_at=timezone.now(),
        title_zh="t",
        title_en="t",
    )
    for level, (role, where) in enumerate(rows):
        AlertAudience.objects.create(
            alert=alert,
            role=role,
            organisation=Organisation.objects.get(code=CODES[where]) if where else None,
            level=min(level, escalated),
        )
    return Alert.objects.select_related("organisation", "case").get(pk=alert.pk)


@pytest.fixture
def world(orgs, make_case) -> dict:
    """A user of every role in every organisation, and a case, open and secret
    (made once for all the examples of a test)."""
    for org in ORGS:
        for role in ROLES:
            User.objects.create(username=f"{role}-{org}", role=role, organisation=orgs[org])
    return {"orgs": orgs, "cases": (make_case(), make_case(secret=True))}
