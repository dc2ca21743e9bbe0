"""Who may see and do what in remote meetings (need-to-know, F9.1).

- A detention centre's staff (``DETENTION_STAFF`` of an organisation of kind
  detention centre) keep their centre's detainees and rooms, and see and
  decide every booking made with their centre — never another centre's.
- A lawyer (a defence lawyer of a law firm, a duty lawyer of a legal-aid
  center) sees their own licence and their own bookings, and of a detainee
  only what their own booking shows, masked.
- Detention staff of any centre, or an administrator, verify lawyers'
  licences (a licence is good for every centre).
- Everyone else — police, prosecutors, judges — sees nothing here: 404.
"""

from __future__ import annotations

from casecenter.accounts.models import Organisation, OrganisationKind, Role, User

#: a lawyer's role → the kind of organisation they practise from
LAWYER_ROLES: dict[str, str] = {
    Role.DEFENCE_LAWYER: OrganisationKind.LAW_FIRM,
    Role.DUTY_LAWYER: OrganisationKind.LEGAL_AID,
}
VERIFYING_ROLES = frozenset({Role.DETENTION_STAFF, Role.ADMIN})


def _active(user: User) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def staff_centre(user: User) -> Organisation | None:
    """The detention centre ``user`` works in as its staff, or None."""
    if not _active(user) or user.role != Role.DETENTION_STAFF or user.organisation_id is None:
        return None
    organisation = user.organisation
    return organisation if organisation.kind == OrganisationKind.DETENTION_CENTRE else None


def is_centre_staff(user: User, centre_id: int) -> bool:
    centre = staff_centre(user)
    return centre is not None and centre.pk == centre_id


def is_lawyer(user: User) -> bool:
    """A user in a lawyer's role (whether or not their licence is verified)."""
    return _active(user) and user.role in LAWYER_ROLES


def may_verify(user: User) -> bool:
    return _active(user) and user.role in VERIFYING_ROLES


def takes_part(user: User) -> bool:
    """Whether the meetings pages have anything for ``user`` at all."""
    return is_lawyer(user) or staff_centre(user) is not None or may_verify(user)
