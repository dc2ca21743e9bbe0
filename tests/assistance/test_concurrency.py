"""Two members of the unit answering one request at once: one answer wins.

Each answer locks the request's row (``SELECT … FOR UPDATE`` on PostgreSQL; on
SQLite the write transaction takes the database's lock at ``BEGIN``) and checks,
under the lock, that it still waits. The threads really collide (a barrier
releases them together, each on its own connection), so these tests commit
and need a shared database: a SQLite file or PostgreSQL.
"""

from __future__ import annotations

import pytest

from casecenter.assistance import services
from casecenter.assistance.models import AssistanceRequest
from casecenter.audit.models import AuditEntry
from casecenter.errors import Conflict
from casecenter.supervision.models import Deadline
from tests.property.test_concurrency import assert_log_verifies, collide, shared_database


@pytest.fixture
def specialists(make_user, units, center):
    from casecenter.accounts.models import Role

    team = []
    for n in range(4):
        user = make_user(f"xingzhen{n}", Role.SPECIALIST, org="legal", unit=units["criminal"])
        user.organisation = center
        user.save(update_fields=["organisation"])
        team.append(user)
    return team


@pytest.mark.django_db(transaction=True)
def test_of_members_answering_at_once_one_wins_and_the_others_are_told(ask, specialists):
    shared_database()
    request = ask(level=1)

    done, raised = collide(
        [
            lambda s=s, n=n: services.answer_request(
                s, request, answer=f"意见{n}", channel="remote", round=1
            )
            for n, s in enumerate(specialists)
        ]
    )

    assert len(done) == 1
    assert all(isinstance(exc, Conflict) for exc in raised), raised
    assert sorted(exc.code for exc in raised) == ["assistance.not_open"] * 3
    request = AssistanceRequest.objects.get(pk=request.pk)
    assert request.state == "answered" and request.answered_by == done[0].answered_by
    answers = request.events.filter(kind="answered")
    assert list(answers.values_list("actor", flat=True)) == [done[0].answered_by.pk]
    assert AuditEntry.objects.filter(action="assistance.answered").count() == 1
    assert list(
        Deadline.objects.filter(subject=f"assistance:{request.pk}").values_list("state", flat=True)
    ) == ["met"]
    assert_log_verifies()


@pytest.mark.django_db(transaction=True)
def test_a_raise_and_an_answer_at_once_leave_one_consistent_request(ask, specialists, officers):
    shared_database()
    request = ask(level=3)

    done, raised = collide(
        [
            lambda: services.answer_request(
                specialists[0], request, answer="意见", channel="on_site"
            ),
            lambda: services.escalate_request(officers["lead"], request, level=1, reason="急"),
        ]
    )

    request = AssistanceRequest.objects.get(pk=request.pk)
    states = list(
        Deadline.objects.filter(subject=f"assistance:{request.pk}")
        .order_by("id")
        .values_list("rule_id", "state")
    )
    if len(done) == 2:  # raised first, then answered at level 1
        assert request.level == 1 and request.state == "answered"
        assert states == [("response.level3", "cancelled"), ("response.level1", "met")]
    else:  # answered first: the raise found nothing waiting
        assert [exc.code for exc in raised] == ["assistance.not_open"]
        assert request.level == 3 and request.state == "answered"
        assert states == [("response.level3", "met")]
    assert_log_verifies()
