"""Finding the detainee a lawyer names (name + resident ID number) at a centre.

The number is checked as GB 11643 says (a malformed number is bad input), then
found through its blind index — the database never holds it in clear — and the
name compared. Every miss gets one answer, whether the number is unknown, the
name differs or the person was released, so a look-up tells nothing about who
is held. Every look-up is audited in its own transaction — a miss too, since
probing is what the log must show — and a lawyer with ten misses in an hour
is stopped until the hour has passed.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from casecenter import law
from casecenter.accounts.models import Organisation, User
from casecenter.audit.models import AuditEntry
from casecenter.audit.services import record
from casecenter.errors import InvalidInput, NotFound, PermissionDenied
from casecenter.meetings.models import Detainee
from casecenter.privacy.crypto import blind_index

ID_CONTEXT = "meetings.detainee.id_number"
#: detainee look-ups without a match a lawyer may make in an hour
LOOKUP_LIMIT = 10
MATCHED, NOT_MATCHED = "meeting.detainee_matched", "meeting.detainee_not_matched"


def detainee_index(number: str) -> str:
    """The blind index of a canonical (18-character) ID number."""
    return blind_index(number, context=ID_CONTEXT)


def parse_id(text: str) -> law.IdNumber:
    try:
        return law.parse_id_number(text or "", today=timezone.localdate())
    except law.LawError as exc:
        raise InvalidInput(exc.code, exc.message_zh, exc.message_en) from exc


def same_name(stored: str, given: str) -> bool:
    """Names compared as people write them: no spaces, any case (a Latin name)."""
    return "".join(stored.split()).casefold() == "".join(given.split()).casefold()


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput(
            "booking.detainee_name",
            "请填写在押人员姓名（不超过100字）。",
            "Give the detainee's name (at most 100 characters).",
        )
    return name


def not_found() -> NotFound:
    return NotFound(
        "booking.detainee_not_found",
        "该看守所没有与所填姓名和身份证号码相符的在押人员。",
        "The detention centre holds no one of that name and ID number.",
    )


def find_detainee(actor: User, centre: Organisation, *, name: str, id_number: str) -> Detainee:
    """The centre's detainee of that name and ID number (NotFound otherwise)."""
    parsed = parse_id(id_number)
    name = check_name(name)
    since = timezone.now() - timedelta(hours=1)
    misses = AuditEntry.objects.filter(actor_id=actor.pk, action=NOT_MATCHED, at__gte=since)
    if misses.count() >= LOOKUP_LIMIT:
        raise PermissionDenied(
            "booking.lookup_limit",
            "查询未匹配次数过多，请一小时后再试。",
            "Too many look-ups without a match; try again in an hour.",
        )
    index = detainee_index(parsed.number)
    with transaction.atomic():
        held = Detainee.objects.filter(
            centre=centre, id_number_index=index, released_at__isnull=True
        )
        found = next((d for d in held if same_name(d.name, name)), None)
        if found is None:
            # the index's head lets repeated probes of one number be told apart, no more
            record(actor, NOT_MATCHED, centre, data={"centre": centre.pk, "id_index": index[:16]})
        else:
            record(actor, MATCHED, found, data={"centre": centre.pk})
    if found is None:
        raise not_found()
    return found
