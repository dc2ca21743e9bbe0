"""Reads of coercive measures: need-to-know like the case's own personal data."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Prefetch, QuerySet

from casecenter.accounts.models import User
from casecenter.audit.services import record
from casecenter.cases import access
from casecenter.cases.models import Case
from casecenter.errors import NotFound, PermissionDenied
from casecenter.measures.models import Measure, MeasureEvent
from casecenter.measures.services import MOMENTS
from casecenter.supervision.models import Deadline


def measures_of(case: Case) -> QuerySet[Measure]:
    """A case's measures with their moments and clocks (the caller has already
    checked need-to-know and audited the read, as the case page does)."""
    return case.measures.select_related("party__person").prefetch_related(
        Prefetch("events", queryset=MeasureEvent.objects.select_related("actor")),
        Prefetch(
            "deadlines",
            queryset=Deadline.objects.select_related("rule", "case", "party__person"),
        ),
    )


def read_measures(user: User, case: Case, *, purpose: str = "api") -> list[Measure]:
    """The measures of a case the user may read personally — audited."""
    basis = access.access_basis(user, case)
    if basis is None:
        raise PermissionDenied(
            "case.not_assigned",
            "您未被指派办理或监督该案件。",
            "You are not assigned to this case or to its supervision.",
        )
    measures = list(measures_of(case))
    with transaction.atomic():
        record(
            user,
            "case.read_measures",
            case,
            reason=purpose,
            data={"basis": basis, "measures": [m.pk for m in measures]},
        )
    return measures


def get_measure(user: User, pk: int) -> Measure:
    """A measure of a case the user may know exists; any other is "not found"."""
    measure = (
        Measure.objects.select_related("case", "party__person")
        .filter(pk=pk, case__in=access.visible_cases(user))
        .first()
    )
    if measure is None:
        raise NotFound("measure.not_found", "强制措施不存在。", "No such coercive measure.")
    return measure


def open_moments(measure: Measure) -> list[str]:
    """The moments of ``measure`` still to record (none once it has ended)."""
    if measure.state != Measure.State.IN_FORCE:
        return []
    done = {e.kind for e in measure.events.all()}
    return [m for m in MOMENTS.get(measure.kind, []) if m not in done]
