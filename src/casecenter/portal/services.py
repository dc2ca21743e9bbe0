"""Writes of the public portal: issuing receipts, and guarding public access.

Access is by the QR link's token, or by the receipt number plus the last four
digits of the party's phone. A wrong answer looks the same whatever was wrong
(unknown receipt, wrong digits, revoked, expired), in words and — as far as the
work done goes — in time.

Guessing is slowed by a sliding window of *wrong* answers (:func:`refused`,
:func:`count_failure`): per client address (``client:``) and per existing
receipt (``receipt:``). A right answer is never counted, a refused request
is not counted either, and a number that matches no receipt counts under its
client only, so a guesser adds rows only up to their own allowance. The QR
link's token is checked before any throttle: the party holding the receipt
is never locked out by someone guessing its number.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from casecenter.accounts.models import User
from casecenter.accounts.services import next_serial
from casecenter.audit.services import record
from casecenter.cases import access
from casecenter.cases.models import Case, CaseEvent, CaseState, Party, PartyRole
from casecenter.cases.services import log_event
from casecenter.errors import Conflict, InvalidInput, PermissionDenied
from casecenter.outbox.services import emit
from casecenter.portal.models import LANGUAGES, Attempt, Message, Notification, Rating, Receipt
from casecenter.privacy import crypto
from casecenter.supervision import services as clocks

TOKEN_BYTES = 24  # 192 random bits
#: (wrong answers, seconds) per client address and per receipt: a sliding window
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
def issue_receipt(
    actor: User, case: Case, party: Party, *, language: str = "zh-hans"
) -> tuple[Receipt, str]:
    """Issue (or reissue, revoking the old one) the receipt of a reporter or victim.

    Returns the receipt and its token, which exists only in this answer and on
    the printed QR code. ``language`` is the party's: the receipt and every
    notification use it.
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
    if language not in dict(LANGUAGES):
        raise InvalidInput(
            "receipt.language",
            "回执语言只能是中文或英文。",
            "The receipt's language is Chinese or English.",
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
        language=language,
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


#: attempts older than this are deleted as new ones are counted (the longest window)
KEEP = timedelta(days=1)


def recent(key: str, seconds: int, *, now: datetime | None = None) -> int:
    """How many attempts were counted under ``key`` in the last ``seconds``."""
    now = now or timezone.now()
    return Attempt.objects.filter(key=key, at__gt=now - timedelta(seconds=seconds)).count()


def refused(key: str, limit: tuple[int, int], *, now: datetime | None = None) -> bool:
    """Whether ``key`` has used its allowance within the sliding window (nothing counted)."""
    attempts, seconds = limit
    return recent(key, seconds, now=now) >= attempts


def count_failure(*keys: str, now: datetime | None = None) -> None:
    """Count one attempt under each key, and forget attempts older than :data:`KEEP`."""
    now = now or timezone.now()
    with transaction.atomic():
        Attempt.objects.filter(at__lt=now - KEEP).delete()
        Attempt.objects.bulk_create([Attempt(key=key, at=now) for key in keys])


def throttled(key: str, limit: tuple[int, int]) -> bool:
    """Count an attempt under ``key`` unless its allowance is used; True when it is
    (the refused attempt is not counted: waiting is enough to be let in again)."""
    now = timezone.now()
    if refused(key, limit, now=now):
        return True
    count_failure(key, now=now)
    return False


class TooManyAttempts(Exception):
    """The client or the receipt gave too many wrong answers lately; try again later.

    ``receipt_slowed``: the receipt itself is slowed (someone guessed its
    digits), so its party is told how to get in at once (the QR link, or the
    station's phone, ``station_phone``).
    """

    def __init__(self, *, receipt_slowed: bool = False, station_phone: str = "") -> None:
        super().__init__("too many attempts")
        self.receipt_slowed = receipt_slowed
        self.station_phone = station_phone


def viewable(receipt: Receipt | None) -> Receipt | None:
    """The receipt if it still opens its case: not revoked, not secret, not expired."""
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
    """The receipt a QR link opens, or None (whatever the reason).

    A valid token opens its case whatever the throttle says (192 random bits are
    not guessed; the party holding the receipt is never locked out). A wrong
    token counts against the client, and a client over its allowance is
    refused before its token is even looked up.
    """
    token = (token or "")[:100]
    receipt = (
        Receipt.objects.select_related("case").filter(token_digest=token_digest(token)).first()
    )
    opened = viewable(receipt)
    if opened is not None:
        return opened
    key = f"client:{client}"
    if refused(key, CLIENT_LIMIT):
        raise TooManyAttempts
    count_failure(key)
    return None


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
    now = timezone.now()
    client_key = f"client:{client}"
    if refused(client_key, CLIENT_LIMIT, now=now):
        raise TooManyAttempts
    receipt = (
        Receipt.objects.select_related("case__organisation", "party__person")
        .filter(number=number)
        .first()
    )
    receipt_key = f"receipt:{receipt.pk}" if receipt is not None else None
    if receipt_key and refused(receipt_key, RECEIPT_LIMIT, now=now):
        raise TooManyAttempts(
            receipt_slowed=True, station_phone=receipt.case.organisation.phone or ""
        )
    if receipt is not None:
        phone = receipt.party.person.phone or ""
    else:
        phone = crypto.decrypt(_dummy_phone_token(), context=PHONE_CONTEXT)
    expected = phone[-4:] if len(phone) >= 4 else "\x00" * 4
    matches = hmac.compare_digest(expected.encode(), last4.encode().ljust(4, b"\x01"))
    opened = viewable(receipt) if matches else None
    if opened is None:  # a wrong answer: the client's and (if it exists) the receipt's
        count_failure(client_key, *([receipt_key] if receipt_key else []), now=now)
    return opened


# --- ratings and messages (F8.2) ---------------------------------------------

COMMENT_MAX = 500
MESSAGE_MAX = 1000
ANSWER_MAX = 2000
#: messages a receipt may leave per day: enough to talk, too few to flood a desk
MESSAGE_LIMIT = (5, 86400)
REPLY_RULE = "portal.message_reply"


def _bounded(text: str, most: int, code: str, *, required: bool) -> str:
    text = (text or "").strip()
    if required and not text:
        raise InvalidInput(f"{code}.empty", "请填写内容。", "Please write something.")
    if len(text) > most:
        raise InvalidInput(
            f"{code}.too_long",
            f"内容不能超过{most}字。",
            f"At most {most} characters, please.",
        )
    return text


def _live(receipt: Receipt) -> Receipt:
    """The receipt, locked, if it still opens its case; otherwise a refusal."""
    locked = (
        Receipt.objects.select_for_update(of=("self",))
        .select_related("case", "party")
        .filter(pk=receipt.pk)
        .first()
    )
    if locked is None or viewable(locked) is None:
        raise PermissionDenied(
            "portal.closed",
            "该查询链接已失效。",
            "This receipt no longer opens its case.",
        )
    return locked


@transaction.atomic
def rate(receipt: Receipt, *, milestone: str, stars: int, comment: str = "") -> Rating:
    """The party rates the handling after one of the case's public milestones."""
    from casecenter.portal.selectors import milestones

    receipt = _live(receipt)
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise InvalidInput("rating.stars", "评分须为1到5星。", "A rating is 1 to 5 stars.")
    comment = _bounded(comment, COMMENT_MAX, "rating.comment", required=False)
    if milestone not in {m.key for m in milestones(receipt.case)}:
        raise InvalidInput(
            "rating.milestone",
            "只能对案件已公开的进展进行评价。",
            "Only a step the case has reached can be rated.",
        )
    if Rating.objects.filter(receipt=receipt, milestone=milestone).exists():
        raise Conflict("rating.twice", "您已评价过这一进展。", "You have already rated this step.")
    rating = Rating.objects.create(
        receipt=receipt,
        case=receipt.case,
        milestone=milestone,
        stars=stars,
        comment=comment,
        at=timezone.now(),
    )
    record(None, "portal.rated", rating, data={"case_id": receipt.case_id, "stars": stars})
    log_event(None, receipt.case, CaseEvent.Kind.RATING, milestone=milestone, stars=stars)
    return rating


@transaction.atomic
def leave_message(receipt: Receipt, body: str) -> Message:
    """A party's message to the handling unit; its reply clock starts."""
    body = _bounded(body, MESSAGE_MAX, "message", required=True)
    receipt = _live(receipt)
    if throttled(f"message:{receipt.pk}", MESSAGE_LIMIT):  # a refused one is not counted
        raise InvalidInput(
            "message.limit",
            "今日留言次数已达上限，请明天再试或致电办案单位。",
            "You have left many messages today; please try tomorrow or call the unit.",
        )
    now = timezone.now()
    message = Message.objects.create(receipt=receipt, case=receipt.case, body=body, at=now)
    record(None, "portal.message_left", message, data={"case_id": receipt.case_id})
    log_event(None, receipt.case, CaseEvent.Kind.MESSAGE, message_id=message.pk)
    clocks.open_deadline(
        None,
        REPLY_RULE,
        receipt.case,
        trigger_at=now,
        party=receipt.party,
        subject=message.subject,
    )
    return message


def may_answer(user: User, case: Case) -> bool:
    """The case's officers and the station's supervisors answer its messages."""
    return access.is_assigned(user, case) or access.is_supervising(user, case)


@transaction.atomic
def answer_message(actor: User, message: Message, answer: str) -> Message:
    """Staff answer a party's message (once); the reply clock is met."""
    answer = _bounded(answer, ANSWER_MAX, "answer", required=True)
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("case", "receipt")
        .get(pk=message.pk)
    )
    if not may_answer(actor, message.case):
        raise PermissionDenied(
            "message.not_assigned",
            "只有本案办案民警或本所案管、法制人员可以答复留言。",
            "Only the case's officers or the station's supervisors answer its messages.",
        )
    if message.answered_at is not None:
        raise Conflict(
            "message.answered", "该留言已经答复。", "This message has already been answered."
        )
    now = timezone.now()
    message.answer, message.answered_by, message.answered_at = answer, actor, now
    message.save(update_fields=["answer", "answered_by", "answered_at"])
    clocks.meet_deadlines(actor, message.case, [REPLY_RULE], at=now, subject=message.subject)
    record(actor, "portal.message_answered", message, data={"case_id": message.case_id})
    log_event(actor, message.case, CaseEvent.Kind.MESSAGE, message_id=message.pk, answered=True)
    emit("portal.message_answered", message_id=message.pk, case_id=message.case_id)
    return message


# --- notifications at public milestones ---------------------------------------


def public_link(receipt: Receipt) -> str:
    """Where a notification sends the party: the query page, receipt number filled in.

    Not the QR link: its token exists only on the printed receipt (the
    database keeps only its hash), so a message can never carry it.
    """
    base = getattr(settings, "CASECENTER_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/p/?n={receipt.number}"


def _texts(receipt: Receipt, title_zh: str, title_en: str, body_zh: str, body_en: str):
    """(subject, short text, e-mail body) in the receipt's language."""
    org = receipt.case.organisation
    link = public_link(receipt)
    if receipt.language == "en":
        subject = f"[{org.name_en or org.name}] Your case (receipt {receipt.number}): {title_en}"
        short = f"{subject}. Follow it at {link}"
        body = (
            f"{body_en}\n\nFollow your case at {link} with your receipt number and the last "
            f"four digits of your phone.\n\nThis is an automatic message; please do not reply."
        )
    else:
        subject = f"【{org.name}】您的案件（回执{receipt.number}）：{title_zh}"
        short = f"{subject}。查看进展：{link}"
        body = (
            f"{body_zh}\n\n凭回执编号和手机号后四位可在 {link} 查询办理进展。"
            f"\n\n本邮件由系统自动发送，请勿回复。"
        )
    return subject, short, body


def _send(receipt: Receipt, key: str, channel: str, to: str, send) -> Notification | None:
    """One notification, recorded before it is sent: never twice for one milestone."""
    try:
        with transaction.atomic():
            note = Notification.objects.create(
                receipt=receipt,
                milestone=key,
                channel=channel,
                to_masked=mask_contact(to),
                text="",
                created_at=timezone.now(),
            )
    except IntegrityError:
        return None
    try:
        note.text = send()
        note.sent_at = timezone.now()
    except Exception as exc:  # a gateway's failure is recorded, not raised into the relay
        note.error = f"{type(exc).__name__}: {exc}"[:300]
    note.save(update_fields=["text", "sent_at", "error"])
    return note


def mask_contact(value: str) -> str:
    from casecenter.law import mask_phone

    if "@" in value:
        name, _, domain = value.partition("@")
        return f"{name[:1]}***@{domain}"
    return mask_phone(value)


def notify(
    receipt: Receipt, key: str, title_zh: str, title_en: str, body_zh: str, body_en: str
) -> list[Notification]:
    """Tell the party of one receipt about one step, by SMS and e-mail where given."""
    from casecenter.portal import sms

    person = receipt.party.person
    subject, short, body = _texts(receipt, title_zh, title_en, body_zh, body_en)
    sent = []
    if person.phone:

        def by_sms() -> str:
            sms.backend().send(person.phone, short)
            return short

        sent.append(_send(receipt, key, Notification.Channel.SMS, person.phone, by_sms))
    if person.email:

        def by_email() -> str:
            send_mail(subject, body, None, [person.email])
            return f"{subject}\n\n{body}"

        sent.append(_send(receipt, key, Notification.Channel.EMAIL, person.email, by_email))
    return [n for n in sent if n is not None]


def live_receipts(case: Case) -> list[Receipt]:
    return [
        r
        for r in Receipt.objects.filter(case=case, revoked_at__isnull=True).select_related(
            "case__organisation", "party__person"
        )
        if viewable(r)
    ]


def notify_milestone(case: Case, key: str, *, recorded_at: datetime) -> list[Notification]:
    """A public milestone was reached (recorded at ``recorded_at``): tell every
    party whose live receipt was in their hands by then — a receipt issued later
    already shows the step."""
    from casecenter.portal.selectors import milestones

    step = next((m for m in milestones(case) if m.key == key), None)
    if step is None or case.secret:
        return []
    sent = []
    for receipt in live_receipts(case):
        if receipt.issued_at > recorded_at:
            continue
        sent += notify(receipt, key, step.title_zh, step.title_en, step.text_zh, step.text_en)
    return sent


def notify_answer(message: Message) -> list[Notification]:
    receipt = message.receipt
    if viewable(receipt) is None:
        return []
    return notify(
        receipt,
        f"answer:{message.pk}",
        "您的留言已答复",
        "your message has been answered",
        "办案单位已答复您的留言，请登录查询页面查看。",
        "The handling unit has answered your message; open the case page to read it.",
    )
