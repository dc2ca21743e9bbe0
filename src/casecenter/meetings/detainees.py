"""The detention centre's own records of the people it holds (在押人员): registered
on arrival and released by its staff — one transaction each, audited.

The name and the resident ID number are encrypted at rest; a blind index of the
number (``lookup.detainee_index``) finds the record when a lawyer names the
detainee. A person is held once per centre at a time (the database refuses a
second open record of the same number). Released, the detainee's live bookings
are refused and their clocks cancelled. The audit entries never hold the name
or the number.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from casecenter import law
from casecenter.accounts.models import User
from casecenter.audit.services import record
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.meetings import access, lookup, services
from casecenter.meetings.models import Detainee
from casecenter.moments import past_moment
from casecenter.outbox.services import emit


def _text(value: str, limit: int, code: str, zh: str, en: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit or "\x00" in value:
        raise InvalidInput(
            code, f"请填写{zh}（不超过{limit}字）。", f"Give the {en} (at most {limit} characters)."
        )
    return value


def _held_already() -> Conflict:
    return Conflict(
        "detainee.held",
        "该身份证号码的人员已在本所在押。",
        "A person with this ID number is held here already.",
    )


@transaction.atomic
def register_detainee(
    actor: User,
    *,
    name: str,
    id_number: str,
    handling_organisation: str,
    case_number: str,
    received_at: datetime | None = None,
) -> Detainee:
    """A person received into the actor's detention centre."""
    centre = access.staff_centre(actor)
    if centre is None:
        raise PermissionDenied(
            "detainee.staff_only",
            "只有看守所工作人员可以登记在押人员。",
            "Only a detention centre's staff register detainees.",
        )
    name = _text(name, 100, "detainee.name", "姓名", "name")
    parsed = lookup.parse_id(id_number)
    handling = _text(
        handling_organisation, 200, "detainee.handling", "办案单位", "handling organisation"
    )
    case_number = _text(case_number, 60, "detainee.case_number", "案件编号", "case number")
    received_at = past_moment(
        received_at, code="detainee", what_zh="入所时间", what_en="time of reception"
    )
    index = lookup.detainee_index(parsed.number)
    if Detainee.objects.filter(centre=centre, id_number_index=index, released_at=None).exists():
        raise _held_already()
    try:
        with transaction.atomic():
            detainee = Detainee.objects.create(
                centre=centre,
                name=name,
                id_number=parsed.number,
                id_number_index=index,
                id_number_masked=law.mask_id_number(parsed.number),
                birth_date=parsed.birth_date,
                sex=parsed.sex,
                handling_organisation=handling,
                case_number=case_number,
                received_at=received_at,
                registered_by=actor,
            )
    except IntegrityError:  # registered by a colleague at the same moment
        raise _held_already() from None
    record(
        actor,
        "meeting.detainee_registered",
        detainee,
        data={"centre": centre.pk, "case_number": case_number},
    )
    emit("meetings.detainee_registered", detainee=detainee.pk, centre=centre.pk)
    return detainee


@transaction.atomic
def release_detainee(actor: User, detainee: Detainee, *, at: datetime | None = None) -> Detainee:
    """The detainee leaves the centre; their live bookings are refused."""
    detainee = Detainee.objects.select_for_update(of=("self",)).get(pk=detainee.pk)
    if not access.is_centre_staff(actor, detainee.centre_id):
        raise PermissionDenied(
            "detainee.staff_only",
            "只有该看守所的工作人员可以办理出所。",
            "Only the detention centre's staff release its detainees.",
        )
    if detainee.released_at is not None:
        raise Conflict("detainee.released", "该人员已出所。", "This person was released already.")
    at = past_moment(at, code="detainee", what_zh="出所时间", what_en="time of release")
    if at < detainee.received_at:
        raise InvalidInput(
            "detainee.release_before_reception",
            "出所时间不能早于入所时间。",
            "A release cannot come before the reception.",
        )
    detainee.released_at, detainee.released_by = at, actor
    detainee.save(update_fields=["released_at", "released_by"])
    refused = services.close_for_release(actor, detainee, at)
    record(
        actor,
        "meeting.detainee_released",
        detainee,
        data={"centre": detainee.centre_id, "bookings_refused": [b.pk for b in refused]},
    )
    emit("meetings.detainee_released", detainee=detainee.pk, centre=detainee.centre_id)
    return detainee
