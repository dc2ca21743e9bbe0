"""Writes of the public portal: issuing receipts, and guarding public access.

Access is by the QR link's token, or by the receipt number plus the last four
digits of the party's phone. Both are throttled per client and per receipt,
and a wrong answer looks the same whatever was wrong (unknown receipt, wrong
digits, revoked, expired), in words and — as far as the work done goes — in
time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from casecenter.accounts.models import User
from casecenter.accounts.services import next_serial
from casecenter.audit.services import record
from casecenter.cases import access
from casecenter.cases.models import Case, CaseEvent, CaseState, Party, PartyRole
from casecenter.cases.services import log_event
from casecenter.errors import InvalidInput, PermissionDenied
from casecenter.outbox.services import emit
from casecenter.portal.models import Receipt, Throttle
from casecenter.privacy import crypto

TOKEN_BYTES = 24  # 192 random bits
#: (attempts, seconds) per client address and per receipt number.
CLIENT_LIMIT = (30, 600)
RECEIPT_LIMIT = (5, 600)
RECEIVING_ROLES = {PartyRole.REPORTER, PartyRole.VICTIM}
PHONE_CONTEXT = "cases.person.phone"


def expiry_days() -> int:
    """Links expire this many days after the case closes (policy)."""
    return int(getattr(settings, "CASECENTER_PORTAL_DAYS_AFTER_CLOSE", 180))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def issue_receipt(actor: User, case: Case, party: Party) -> tuple[Receipt, str]:
    """Issue (or reissue, revoking the old one) the receipt of a reporter or victim.

    Returns the receipt and its token, which exists only in this answer and on
    the printed QR code.
    """
    case = (
        Case.objects.select_for_update(of=("self",)).select_related("organisation").get(pk=case.pk)
    )
    if not access.is_assigned(actor, case):
        raise PermissionDenied(
            "receipt.not_assigned",
            "只有本案办案民警可以出具受案回执。",
            "Only the case's officers issue receipts.",
        )
    if case.secret:
        raise PermissionDenied(
            "receipt.secret", "涉密案件不提供网上查询。", "A secret case is never public."
        )
    if party.case_id != case.pk or party.role not in RECEIVING_ROLES:
        raise InvalidInput(
            "receipt.party",
            "受案回执只出具给本案报案人或被害人。",
            "Receipts go to the case's reporters and victims.",
        )
    now = timezone.now()
    revoked = Receipt.objects.filter(party=party, revoked_at__isnull=True).update(revoked_at=now)
    year = timezone.localtime(now).year
    serial = next_serial(case.organisation_id, "receipt", year)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    receipt = Receipt.objects.create(
        case=case,
        party=party,
        number=f"{case.organisation.code.upper()}-SA-{year}-{serial:06d}",
        token_digest=token_digest(token),
        issued_by=actor,
        issued_at=now,
    )
    record(
        actor,
        "portal.receipt_issued",
        receipt,
        data={"case_id": case.pk, "party_id": party.pk, "revoked": revoked},
    )
    log_event(
        actor,
        case,
        CaseEvent.Kind.RECEIPT,
        receipt=receipt.number,
        role=party.role,
        reissued=bool(revoked),
    )
    emit("portal.receipt_issued", receipt_id=receipt.pk, case_id=case.pk)
    return receipt, token


def throttled(key: str, limit: tuple[int, int]) -> bool:
    """Count an attempt under ``key``; True when the window's limit is passed."""
    attempts, seconds = limit
    now = timezone.now()
    window = now - timedelta(seconds=now.timestamp() % seconds)
    with transaction.atomic():
        updated = Throttle.objects.filter(key=key, window=window).update(count=F("count") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    Throttle.objects.create(key=key, window=window, count=1)
            except IntegrityError:
                Throttle.objects.filter(key=key, window=window).update(count=F("count") + 1)
        count = Throttle.objects.get(key=key, window=window).count
    return count > attempts


class TooManyAttempts(Exception):
    """The client or the receipt asked too often; try again later."""


def _public(receipt: Receipt | None) -> Receipt | None:
    if receipt is None or receipt.revoked_at is not None:
        return None
    case = receipt.case
    if case.secret:
        return None
    if (
        case.state == CaseState.CLOSED
        and case.closed_at
        and (timezone.now() > case.closed_at + timedelta(days=expiry_days()))
    ):
        return None
    return receipt


def open_by_token(token: str, *, client: str) -> Receipt | None:
    """The receipt a QR link opens, or None (whatever the reason)."""
    if throttled(f"client:{client}", CLIENT_LIMIT):
        raise TooManyAttempts
    token = (token or "")[:100]
    receipt = (
        Receipt.objects.select_related("case").filter(token_digest=token_digest(token)).first()
    )
    return _public(receipt)


_DUMMY: dict[str, str] = {}


def _dummy_phone_token() -> str:
    if "token" not in _DUMMY:
        _DUMMY["token"] = crypto.encrypt("00000000000", context=PHONE_CONTEXT)
    return _DUMMY["token"]


def open_by_number(number: str, last4: str, *, client: str) -> Receipt | None:
    """The receipt for a receipt number and the last four digits of the party's phone.

    An unknown number and wrong digits do the same work (one decryption, one
    constant-time comparison) and give the same answer: None.
    """
    number = (number or "").strip().upper()[:40]
    last4 = (last4 or "").strip()[:4]
    if throttled(f"client:{client}", CLIENT_LIMIT):
        raise TooManyAttempts
    if throttled(f"receipt:{number}", RECEIPT_LIMIT):
        raise TooManyAttempts
    receipt = Receipt.objects.select_related("case", "party__person").filter(number=number).first()
    if receipt is not None:
        phone = receipt.party.person.phone or ""
    else:
        phone = crypto.decrypt(_dummy_phone_token(), context=PHONE_CONTEXT)
    expected = phone[-4:] if len(phone) >= 4 else "\x00" * 4
    matches = hmac.compare_digest(expected.encode(), last4.encode().ljust(4, b"\x01"))
    return _public(receipt) if matches else None
