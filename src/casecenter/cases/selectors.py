"""Reads of cases. Personal data goes only through functions that check
need-to-know (``access``) and append an audit entry for every read."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q, QuerySet

from casecenter.accounts.models import User
from casecenter.audit.services import record
from casecenter.cases import access
from casecenter.cases.models import Assignment, Case, CaseEvent, Party
from casecenter.cases.workflow import Transition, transitions_from
from casecenter.errors import NotFound, PermissionDenied


def case_list(
    user: User,
    *,
    q: str = "",
    state: str = "",
    kind: str = "",
    category: str = "",
    assigned_to_me: bool = False,
) -> QuerySet[Case]:
    """Cases the user may know exist, filtered. No personal data is in a list."""
    cases = access.visible_cases(user).select_related("organisation")
    if q:
        cases = cases.filter(Q(number__icontains=q) | Q(title__icontains=q))
    if state:
        cases = cases.filter(state=state)
    if kind:
        cases = cases.filter(kind=kind)
    if category:
        cases = cases.filter(category=category)
    if assigned_to_me:
        cases = cases.filter(assignments__user=user, assignments__ended_at__isnull=True)
    return cases.order_by("-accepted_at", "-id")


def get_case(user: User, pk: int) -> Case:
    """A case the user may know exists; anything else is "not found" (no enumeration).

    The case is read by its key, with whether the user is assigned, and checked
    with ``access.may_see``: one query whatever the answer (a secret case costs no
    more than a missing one), which Django builds in a fraction of the time it took
    through ``visible_cases`` (it is asked at the start of most case requests).
    """
    case = (
        Case.objects.select_related("organisation")
        .annotate(assigned=access.assigned_to(user))
        .filter(pk=pk)
        .first()
    )
    if case is None or not access.may_see(user, case, assigned=case.assigned):
        raise NotFound("case.not_found", "案件不存在。", "No such case.")
    return case


@dataclass(frozen=True)
class CaseFile:
    """What an officer with need-to-know sees of a case."""

    case: Case
    basis: str
    parties: list[Party]
    officers: list[Assignment]
    events: list[CaseEvent]
    #: the transitions the user could make now (what ``available_transitions`` gives)
    transitions: list[Transition] = field(default_factory=list)


def read_case_file(user: User, case: Case, *, purpose: str = "view") -> CaseFile:
    """Parties, officers and timeline of a case — audited as a read of personal data.

    The officers are read first: they say whether the user is assigned, the first
    basis ``access.access_basis`` looks for, without a query of its own.
    """
    officers = list(case.assignments.filter(ended_at__isnull=True).select_related("user"))
    assigned = any(a.user_id == user.pk for a in officers)
    basis = access.access_basis(user, case, assigned=assigned)
    if basis is None:
        raise PermissionDenied(
            "case.not_assigned",
            "您未被指派办理或监督该案件；如确需查阅，请说明理由申请紧急查阅。",
            "You are not assigned to this case or to its supervision; use break-glass "
            "with a reason if you must read it.",
        )
    parties = list(case.parties.select_related("person"))
    with transaction.atomic():
        record(
            user,
            "case.read_personal",
            case,
            reason=purpose,
            data={"basis": basis, "people": [p.person_id for p in parties]},
        )
    events = list(case.events.select_related("actor"))
    return CaseFile(case, basis, parties, officers, events, _transitions(user, case))


def reveal_id_number(user: User, party: Party, *, purpose: str) -> str:
    """The full ID number of a party — a separate, audited read (PIPL Art. 28)."""
    case = party.case
    basis = access.access_basis(user, case)
    if basis is None:
        raise PermissionDenied(
            "case.not_assigned", "您无权查看该信息。", "You may not read this information."
        )
    with transaction.atomic():
        record(
            user,
            "person.reveal_id_number",
            party.person,
            reason=purpose,
            data={"case_id": case.pk, "basis": basis},
        )
    return party.person.id_number


def available_transitions(user: User, case: Case) -> list[Transition]:
    """Transitions the user could make now (the UI shows these buttons)."""
    if not access.may_read_personal(user, case):
        return []
    return _transitions(user, case)


def _transitions(user: User, case: Case) -> list[Transition]:
    """The transitions from the case's state open to the user's role."""
    return [t for t in transitions_from(case.kind, case.state) if user.role in t.roles]


def case_officers(case: Case) -> list[User]:
    return [a.user for a in case.assignments.filter(ended_at__isnull=True).select_related("user")]
