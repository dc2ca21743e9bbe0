"""Lawyers' licences: registered by the lawyer, verified or refused by a
detention centre's staff or an administrator — one transaction each, audited.

A lawyer registers the number of their practising licence (律师执业证号); it is
read field by field (``licence.parse_licence``), and its sex digit must agree
with the account's sex where the account has one (a typo, or someone else's
licence). The staff compare it with the licence shown and verify it; only a
verified lawyer books meetings. A refused registration may be corrected and
registered again; a verified licence whose verification is withdrawn (refused
with reasons, e.g. the licence was suspended) stops new bookings and
confirmations.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from casecenter.accounts.models import User
from casecenter.audit.services import record
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.meetings import access
from casecenter.meetings.licence import InvalidLicence, parse_licence
from casecenter.meetings.models import Lawyer, LawyerState
from casecenter.moments import past_moment
from casecenter.outbox.services import emit

MAX_REASON = 2000


def _when(at: datetime | None) -> datetime:
    return past_moment(at, code="lawyer", what_zh="时间", what_en="time")


def _reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise InvalidInput("lawyer.reason", "请说明理由。", "Give the reason.")
    if len(reason) > MAX_REASON:
        raise InvalidInput(
            "lawyer.reason_long",
            f"理由不能超过{MAX_REASON}字。",
            f"The reason may be at most {MAX_REASON} characters.",
        )
    return reason


def check_licence_number(user: User, text: str):
    """The parsed licence, or InvalidInput naming the wrong field; the sex digit
    must match the account's sex when it is known."""
    try:
        parsed = parse_licence(text, this_year=timezone.localdate().year)
    except InvalidLicence as exc:
        raise InvalidInput(exc.code, exc.message_zh, exc.message_en) from exc
    if user.sex and parsed.sex != user.sex:
        raise InvalidInput(
            "licence.sex_mismatch",
            "律师执业证号第10位的性别与您的账户不一致，请核对执业证号。",
            "Digit 10 of the licence number gives a sex other than your account's; "
            "check the number.",
        )
    return parsed


@transaction.atomic
def register_licence(actor: User, *, licence_number: str, at: datetime | None = None) -> Lawyer:
    """The lawyer registers (or, refused or pending, corrects) their licence; it
    waits for verification."""
    if not access.is_lawyer(actor):
        raise PermissionDenied(
            "lawyer.role",
            "只有辩护律师或值班律师可以登记执业证。",
            "Only defence lawyers and duty lawyers register a practising licence.",
        )
    organisation = actor.organisation
    if organisation is None or organisation.kind != access.LAWYER_ROLES[actor.role]:
        raise InvalidInput(
            "lawyer.organisation",
            "辩护律师须属于律师事务所，值班律师须属于法律援助中心。",
            "A defence lawyer practises from a law firm, a duty lawyer from a legal-aid center.",
        )
    parsed = check_licence_number(actor, licence_number)
    at = _when(at)
    lawyer = Lawyer.objects.select_for_update(of=("self",)).filter(user=actor).first()
    if lawyer is not None and lawyer.state == LawyerState.VERIFIED:
        raise Conflict(
            "lawyer.verified",
            "您的执业证已核验，如需更改请联系看守所。",
            "Your licence is verified already; ask a detention centre to change it.",
        )
    if Lawyer.objects.filter(licence_number=parsed.number).exclude(user=actor).exists():
        raise Conflict(
            "lawyer.licence_taken",
            "该执业证号已由另一账户登记。",
            "Another account has registered this licence number.",
        )
    if lawyer is None:
        lawyer = Lawyer(user=actor)
    lawyer.organisation = organisation
    lawyer.licence_number = parsed.number
    lawyer.practice = parsed.practice
    lawyer.first_licensed = parsed.first_year
    lawyer.state = LawyerState.PENDING
    lawyer.registered_at = at
    lawyer.verified_by = lawyer.verified_at = lawyer.refused_by = lawyer.refused_at = None
    lawyer.refusal_reason = ""
    try:
        with transaction.atomic():
            lawyer.save()
    except IntegrityError:  # the same number registered by another account just now
        raise Conflict(
            "lawyer.licence_taken",
            "该执业证号已由另一账户登记。",
            "Another account has registered this licence number.",
        ) from None
    record(
        actor,
        "meeting.lawyer_registered",
        lawyer,
        data={"licence_number": parsed.number, "organisation": organisation.pk},
    )
    emit("meetings.lawyer_registered", lawyer=lawyer.pk)
    return lawyer


def _locked(lawyer: Lawyer) -> Lawyer:
    return Lawyer.objects.select_for_update(of=("self",)).select_related("user").get(pk=lawyer.pk)


def _require_verifier(actor: User) -> None:
    if not access.may_verify(actor):
        raise PermissionDenied(
            "lawyer.verify_role",
            "只有看守所工作人员或系统管理员可以核验律师执业证。",
            "Only detention-centre staff or an administrator verify lawyers' licences.",
        )


@transaction.atomic
def verify_lawyer(actor: User, lawyer: Lawyer, *, at: datetime | None = None) -> Lawyer:
    """The licence shown matches the one registered: the lawyer may book."""
    _require_verifier(actor)
    lawyer = _locked(lawyer)
    if lawyer.state != LawyerState.PENDING:
        raise Conflict(
            "lawyer.decided",
            "该执业证已处理。",
            "This licence has been decided already.",
            state=lawyer.state,
        )
    at = max(_when(at), lawyer.registered_at)
    lawyer.state, lawyer.verified_by, lawyer.verified_at = LawyerState.VERIFIED, actor, at
    lawyer.save(update_fields=["state", "verified_by", "verified_at"])
    record(actor, "meeting.lawyer_verified", lawyer, data={"licence_number": lawyer.licence_number})
    emit("meetings.lawyer_verified", lawyer=lawyer.pk)
    return lawyer


@transaction.atomic
def refuse_lawyer(
    actor: User, lawyer: Lawyer, *, reason: str, at: datetime | None = None
) -> Lawyer:
    """Refuse a pending licence, or withdraw a verification, with reasons."""
    _require_verifier(actor)
    reason = _reason(reason, required=True)
    lawyer = _locked(lawyer)
    if lawyer.state == LawyerState.REFUSED:
        raise Conflict(
            "lawyer.decided",
            "该执业证已处理。",
            "This licence has been decided already.",
            state=lawyer.state,
        )
    previous = lawyer.state
    at = max(_when(at), lawyer.registered_at)
    lawyer.state, lawyer.refused_by, lawyer.refused_at = LawyerState.REFUSED, actor, at
    lawyer.refusal_reason = reason
    lawyer.save(update_fields=["state", "refused_by", "refused_at", "refusal_reason"])
    record(
        actor,
        "meeting.lawyer_refused",
        lawyer,
        reason=reason,
        data={"licence_number": lawyer.licence_number, "was": previous},
    )
    emit("meetings.lawyer_refused", lawyer=lawyer.pk)
    return lawyer
