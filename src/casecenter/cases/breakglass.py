"""Break-glass (紧急查阅): reading a case one is not assigned to, and its review.

An officer who must read a case of their station they do not work (a suspect
of another case turns up tonight) states why and is let in for a few hours
(``CASECENTER_BREAK_GLASS_HOURS``, default 4). Their supervisors — the
case-management group of their station and the legal-affairs unit — are
alerted in the same transaction, and review the grant afterwards with the reads
made under it. A secret (涉密) case is never opened this way.

The reason must say something: at least ``MIN_REASON`` characters (runs of
white space count as one), at least ``MIN_WORD_CHARS`` of them letters, digits
or Chinese characters, at least ``MIN_DISTINCT`` different ones, and no one
character making up more than half of them. "......", "aaaaaaaaaaaaaaaa" and
"测试测试测试测试测试测试测试测试" are refused.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from casecenter.accounts.models import Role, User
from casecenter.audit.models import AuditEntry
from casecenter.audit.services import record
from casecenter.cases import access
from casecenter.cases.models import AccessGrant, Case, CaseEvent
from casecenter.cases.services import log_event, require_police
from casecenter.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from casecenter.outbox.services import emit
from casecenter.supervision import services as supervision
from casecenter.supervision.models import Alert

MIN_REASON = 15
MIN_WORD_CHARS = 10
MIN_DISTINCT = 5
REVIEW_NOTE_MAX = 2000


def grant_hours() -> int:
    """How long a grant lasts (setting ``CASECENTER_BREAK_GLASS_HOURS``, 1 to 24)."""
    hours = int(getattr(settings, "CASECENTER_BREAK_GLASS_HOURS", 4))
    return min(max(hours, 1), 24)


def reason_problem(reason: str) -> str | None:
    """Why a break-glass reason is refused (None: it is a reason)."""
    text = re.sub(r"\s+", " ", reason or "").strip()
    words = [c.casefold() for c in text if c.isalnum()]
    if len(text) < MIN_REASON:
        return "short"
    if len(words) < MIN_WORD_CHARS:
        return "no_words"
    counts = Counter(words)
    if len(counts) < MIN_DISTINCT or counts.most_common(1)[0][1] * 2 > len(words):
        return "repetitive"
    return None


def check_reason(reason: str) -> str:
    """The reason, cleaned, or InvalidInput saying what a reason needs."""
    if reason_problem(reason) is not None:
        raise InvalidInput(
            "break_glass.reason",
            f"请具体说明为什么需要查阅该案件（至少{MIN_REASON}个字，"
            f"不能只是标点、空格或重复的字）。",
            f"Say specifically why you need to read this case (at least {MIN_REASON} "
            f"characters, not only punctuation, spaces or one character repeated).",
        )
    return re.sub(r"\s+", " ", reason).strip()


@transaction.atomic
def break_glass(actor: User, case: Case, *, reason: str) -> AccessGrant:
    """Read a case one is not assigned to, for a stated reason, for a few hours
    (F9.1); the officer's supervisors are alerted at once."""
    require_police(actor)
    reason = check_reason(reason)
    case = (
        Case.objects.select_for_update(of=("self",)).select_related("organisation").get(pk=case.pk)
    )
    if case.secret and not access.is_assigned(actor, case):
        raise PermissionDenied(
            "break_glass.secret",
            "涉密案件不能紧急查阅。",
            "Secret cases cannot be opened by break-glass.",
        )
    hours = grant_hours()
    now = timezone.now()
    grant = AccessGrant.objects.create(
        case=case, user=actor, reason=reason, expires_at=now + timedelta(hours=hours)
    )
    log_event(
        actor, case, CaseEvent.Kind.BREAK_GLASS, reason=reason, grant_id=grant.pk, hours=hours
    )
    supervision.break_glass_alert(grant)
    return grant


def _reviewable(user: User) -> Q:
    """The grants ``user`` reviews: the case-management group those of their own
    station's officers and of cases of their station; the legal-affairs unit
    those of its organisation and of the stations under it. Never one's own."""
    if not user.is_authenticated or not user.organisation_id:
        return Q(pk__in=[])
    org = user.organisation_id
    if user.role == Role.CASE_MANAGEMENT:
        mine = Q(user__organisation_id=org) | Q(case__organisation_id=org)
    elif user.role == Role.LEGAL_AFFAIRS:
        mine = (
            Q(user__organisation_id=org)
            | Q(user__organisation__parent_id=org)
            | Q(case__organisation_id=org)
            | Q(case__organisation__parent_id=org)
        )
    else:
        return Q(pk__in=[])
    return mine & ~Q(user=user)


def may_review(user: User) -> bool:
    return user.is_authenticated and user.role in access.SUPERVISING_ROLES


def grants_to_review(user: User, *, state: str = "pending") -> QuerySet[AccessGrant]:
    """The break-glass grants the user reviews, newest first: ``pending`` (not
    yet reviewed), ``reviewed``, or all (``""``)."""
    rows = AccessGrant.objects.filter(_reviewable(user)).select_related(
        "case", "case__organisation", "user", "reviewed_by"
    )
    if state == "pending":
        rows = rows.filter(reviewed_at__isnull=True)
    elif state == "reviewed":
        rows = rows.filter(reviewed_at__isnull=False)
    return rows.order_by("-granted_at", "-id")


def get_grant(user: User, pk: int) -> AccessGrant:
    grant = grants_to_review(user, state="").filter(pk=pk).first()
    if grant is None:
        raise NotFound(
            "break_glass.not_found", "紧急查阅记录不存在。", "No such break-glass grant."
        )
    return grant


def reads_under(grant: AccessGrant) -> QuerySet[AuditEntry]:
    """What the officer read under the grant: their audit entries with basis
    ``break_glass`` while it lasted (case file, ID numbers, items, dossiers…)."""
    return AuditEntry.objects.filter(
        actor_id=grant.user_id,
        data__basis="break_glass",
        at__gte=grant.granted_at,
        at__lte=grant.expires_at,
    ).order_by("id")


@transaction.atomic
def review_grant(actor: User, grant: AccessGrant, *, note: str = "") -> AccessGrant:
    """Mark a break-glass grant reviewed, with what the reviewer found (audited)."""
    grant = (
        AccessGrant.objects.select_for_update(of=("self",))
        .filter(_reviewable(actor), pk=grant.pk)
        .first()
    )
    if grant is None:
        raise PermissionDenied(
            "break_glass.not_reviewer",
            "只有该民警所在单位的案管组或法制部门可以审查。",
            "Only the officer's case-management group or legal-affairs unit reviews it.",
        )
    if grant.reviewed_at is not None:
        raise Conflict(
            "break_glass.reviewed", "该紧急查阅已审查。", "This grant was already reviewed."
        )
    note = (note or "").strip()
    if len(note) > REVIEW_NOTE_MAX:
        raise InvalidInput(
            "break_glass.note",
            f"审查意见不能超过{REVIEW_NOTE_MAX}字。",
            f"The review note is at most {REVIEW_NOTE_MAX} characters.",
        )
    grant.reviewed_at, grant.reviewed_by, grant.review_note = timezone.now(), actor, note
    grant.save(update_fields=["reviewed_at", "reviewed_by", "review_note"])
    reads = reads_under(grant).count()
    record(
        actor,
        "case.break_glass_reviewed",
        grant,
        reason=note,
        data={"case_id": grant.case_id, "officer_id": grant.user_id, "reads": reads},
    )
    emit("case.break_glass_reviewed", grant_id=grant.pk, case_id=grant.case_id)
    supervision.resolve_automatically(
        Alert.objects.filter(subject=f"break_glass:{grant.pk}"),
        zh=f"已由{actor}审查",
        en=f"reviewed by {actor}",
    )
    return grant
