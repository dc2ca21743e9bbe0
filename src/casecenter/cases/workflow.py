"""The case lifecycle as an explicit state machine (F2.3).

Each transition names the states it leaves, the state it reaches, the case
kinds it applies to, the roles that may make it, whether it needs a reason,
and whether it is an enforcement action that needs two officers (F2.6).

    criminal:        accepted ─file─> filed ─start_investigation─> investigating
                     accepted ─refuse_filing─> not_filed ─close─> closed
                     investigating ─transfer_for_prosecution─> transferred ─close─> closed
                     investigating ─withdraw─> closed
    administrative:  accepted ─start_investigation─> investigating ─decide─> decided ─close─> closed
                     investigating ─withdraw─> closed
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from casecenter.accounts.models import Role
from casecenter.cases.models import CaseKind, CaseState

S = CaseState
BOTH = frozenset({CaseKind.CRIMINAL, CaseKind.ADMINISTRATIVE})


@dataclass(frozen=True)
class Transition:
    name: str
    label: str | Promise
    sources: frozenset[str]
    target: str
    kinds: frozenset[str]
    roles: frozenset[str]
    needs_reason: bool = False
    enforcement: bool = False  # an enforcement action: two officers at least (F2.6)
    basis: str | Promise = ""


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        Transition(
            "file",
            _("File the case (立案)"),
            frozenset({S.ACCEPTED}),
            S.FILED,
            frozenset({CaseKind.CRIMINAL}),
            frozenset({Role.CASE_OFFICER, Role.LEGAL_AFFAIRS}),
            basis=_("CPL Art. 112"),
        ),
        Transition(
            "refuse_filing",
            _("Decide not to file (不予立案)"),
            frozenset({S.ACCEPTED}),
            S.NOT_FILED,
            frozenset({CaseKind.CRIMINAL}),
            frozenset({Role.LEGAL_AFFAIRS}),
            needs_reason=True,
            basis=_("CPL Art. 112"),
        ),
        Transition(
            "start_investigation",
            _("Start investigation"),
            frozenset({S.FILED, S.ACCEPTED}),
            S.INVESTIGATING,
            BOTH,
            frozenset({Role.CASE_OFFICER}),
            enforcement=True,
        ),
        Transition(
            "transfer_for_prosecution",
            _("Transfer for prosecution (移送审查起诉)"),
            frozenset({S.INVESTIGATING}),
            S.TRANSFERRED,
            frozenset({CaseKind.CRIMINAL}),
            frozenset({Role.LEGAL_AFFAIRS}),
            basis=_("CPL Art. 162"),
        ),
        Transition(
            "decide",
            _("Make the administrative decision"),
            frozenset({S.INVESTIGATING}),
            S.DECIDED,
            frozenset({CaseKind.ADMINISTRATIVE}),
            frozenset({Role.LEGAL_AFFAIRS}),
            needs_reason=True,
        ),
        Transition(
            "withdraw",
            _("Withdraw the case (撤销案件)"),
            frozenset({S.INVESTIGATING}),
            S.CLOSED,
            BOTH,
            frozenset({Role.LEGAL_AFFAIRS}),
            needs_reason=True,
            basis=_("CPL Art. 163"),
        ),
        Transition(
            "close",
            _("Close"),
            frozenset({S.TRANSFERRED, S.DECIDED, S.NOT_FILED}),
            S.CLOSED,
            BOTH,
            frozenset({Role.CASE_OFFICER, Role.CASE_MANAGEMENT}),
        ),
    ]
}


def applies(transition: Transition, kind: str, state: str) -> bool:
    """Whether ``transition`` leaves ``state`` for a case of ``kind``.

    ``start_investigation`` leaves *filed* for criminal cases and *accepted*
    for administrative ones (they have no filing step).
    """
    if kind not in transition.kinds or state not in transition.sources:
        return False
    if transition.name == "start_investigation":
        return state == (S.FILED if kind == CaseKind.CRIMINAL else S.ACCEPTED)
    return True


def transitions_from(kind: str, state: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if applies(t, kind, state)]


#: Checks other apps make before a case takes a step: ``guard(case, name)``
#: raises a domain error to refuse it (the dossiers app: required documents
#: reviewed). Registered in their ``AppConfig.ready``; run inside the step's
#: transaction, after the role and state checks.
GUARDS: list[Callable[[Any, str], None]] = []
