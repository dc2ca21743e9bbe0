"""What the public sees of a case: milestones in plain words, nothing internal.

No names, no ID numbers, no officers, no reasons written by staff: only the
steps of the procedure, their dates, what they mean for the party and what
the party can do next.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import cache
from django.db import transaction
from django.db.models import BooleanField, CharField, F, QuerySet
from django.db.models.expressions import RawSQL

from casecenter.accounts.models import User
from casecenter.audit.services import record
from casecenter.cases import access
from casecenter.cases.models import Case, CaseEvent, CaseKind, CaseState
from casecenter.measures.models import MeasureEvent, MeasureKind
from casecenter.portal.models import Message, Rating, Receipt

S = CaseState

#: state → (title zh, title en, text zh, text en)
STEPS: dict[str, tuple[str, str, str, str]] = {
    S.ACCEPTED: (
        "已受理",
        "Accepted",
        "公安机关已受理您的报案，将依法审查并决定是否立案。",
        "The police have accepted your report and will decide, as the law requires, "
        "whether to open a case.",
    ),
    S.FILED: (
        "已立案",
        "Case opened",
        "经审查，公安机关已决定立案侦查。",
        "After review, the police have opened a criminal case and are investigating.",
    ),
    S.NOT_FILED: (
        "不予立案",
        "No case opened",
        "经审查，公安机关认为没有犯罪事实或者依法不需要追究刑事责任，决定不予立案。"
        "如不服，您可以在收到不予立案通知书后七日以内向作出决定的公安机关申请复议。",
        "After review, the police found no crime, or none that the law pursues, and "
        "opened no case. If you disagree, you may ask the same police authority to "
        "reconsider within seven days of receiving the written notice.",
    ),
    S.TRANSFERRED: (
        "已移送审查起诉",
        "Sent to the procuratorate",
        "侦查终结，案件已移送人民检察院审查起诉。",
        "The investigation is complete; the case has been sent to the procuratorate, "
        "which decides whether to prosecute.",
    ),
    S.DECIDED: (
        "已作出处理决定",
        "Decision made",
        "公安机关已依法作出行政处理决定。",
        "The police have made their administrative decision.",
    ),
    S.CLOSED: (
        "已办结",
        "Closed",
        "本案已办结。感谢您的配合。",
        "The case is closed. Thank you for your help.",
    ),
}
INVESTIGATING = {
    CaseKind.CRIMINAL: (
        "侦查中",
        "Under investigation",
        "公安机关正在依法侦查。",
        "The police are investigating.",
    ),
    CaseKind.ADMINISTRATIVE: (
        "调查中",
        "Under inquiry",
        "公安机关正在依法调查。",
        "The police are looking into it.",
    ),
}
MEASURE_WORDS = {
    MeasureKind.SUMMONS: ("传唤", "summoned for questioning"),
    MeasureKind.COMPELLED: ("拘传", "brought in for questioning"),
    MeasureKind.CRIMINAL_DETENTION: ("刑事拘留", "detained"),
    MeasureKind.ARREST: ("逮捕", "arrested"),
    MeasureKind.BAIL: ("取保候审", "released on bail pending trial"),
    MeasureKind.SURVEILLANCE: ("监视居住", "placed under residential surveillance"),
    MeasureKind.ADMIN_DETENTION: ("行政拘留", "given administrative detention"),
}


@dataclass(frozen=True)
class Milestone:
    key: str  # "case:<event id>" or "measure:<measure id>": what a rating is about
    at: datetime
    title_zh: str
    title_en: str
    text_zh: str
    text_en: str


@dataclass(frozen=True)
class PublicCase:
    receipt_number: str
    case_number: str
    kind: str
    unit_zh: str
    unit_en: str
    phone: str
    state: str
    milestones: list[Milestone] = field(default_factory=list)
    receipt_id: int | None = None


#: A case's public facts stay cached this long. They are keyed by the case's events
#: (:func:`with_public_stamp`), so an entry is never stale: the time only bounds memory.
FACTS_SECONDS = 3600

#: (what, id, at, state or measure kind): one public step as the database has it
Fact = tuple[str, int, datetime, str]


def with_public_stamp(receipts: QuerySet[Receipt]) -> QuerySet[Receipt]:
    """``receipts`` with ``events_stamp``, ``has_ratings`` and ``has_messages``, in the
    same query.

    ``events_stamp`` is the receipt's case's events counted, with the last one's id
    and time. Every step of the public timeline is a case event (a measure starts
    with one, ``measures.services.start_measure``), and events are only ever added:
    the commit that adds one changes the stamp that every later request reads, so
    facts cached under a stamp (:func:`milestones`) are the facts of that stamp.
    Facts read after the stamp may be newer than it, never older.

    Written as SQL (the same on PostgreSQL and SQLite): the ORM spent longer
    building these three subqueries than the database spends running them.
    """
    receipt, event = Receipt._meta.db_table, CaseEvent._meta.db_table
    stamp = (
        f"SELECT COUNT(*) || ':' || MAX(e.id) || ':' || MAX(e.at) FROM {event} e "  # noqa: S608 - table names
        f"WHERE e.case_id = {receipt}.case_id"
    )
    return receipts.annotate(
        events_stamp=RawSQL(stamp, (), output_field=CharField()),  # noqa: S611 - no input
        has_ratings=_exists(Rating, receipt),
        has_messages=_exists(Message, receipt),
    )


def _exists(model, receipt: str) -> RawSQL:
    table = model._meta.db_table
    sql = f"EXISTS (SELECT 1 FROM {table} x WHERE x.receipt_id = {receipt}.id)"  # noqa: S608
    return RawSQL(sql, (), output_field=BooleanField())  # noqa: S611 - no input


def _public_facts(case: Case) -> list[Fact]:
    facts: list[Fact] = [
        ("case", pk, at, state)
        for pk, at, state in case.events.filter(
            kind__in=[CaseEvent.Kind.ACCEPTED, CaseEvent.Kind.TRANSITION]
        ).values_list("pk", "at", "to_state")
    ]
    facts += [
        ("measure", pk, at, kind)
        for pk, at, kind in MeasureEvent.objects.filter(
            measure__case=case, kind=MeasureEvent.Kind.STARTED
        ).values_list("measure_id", "at", "measure__kind")
    ]
    return facts


def milestones(case: Case, *, stamp: str | None = None) -> list[Milestone]:
    """The public steps of ``case``, oldest first, in words fit for a party.

    With the case's ``stamp`` (:func:`with_public_stamp`) the facts come from the
    cache when it has them for that stamp: a new event means a new stamp, so a step
    shows at once. Only facts are cached (ids, dates, states: nothing personal);
    the words are put on them here, so new words show at once too.
    """
    if stamp is None:
        facts = _public_facts(case)
    else:
        key = f"portal:facts:{case.pk}:{hashlib.sha256(stamp.encode()).hexdigest()[:32]}"
        facts = cache.get(key)
        if facts is None:
            facts = _public_facts(case)
            cache.set(key, facts, FACTS_SECONDS)
    steps: list[Milestone] = []
    for what, pk, at, value in facts:
        if what == "measure":
            steps.append(measure_milestone(pk, value, at))
            continue
        words = INVESTIGATING[case.kind] if value == S.INVESTIGATING else STEPS.get(value)
        if words:
            steps.append(Milestone(f"case:{pk}", at, *words))
    steps.sort(key=lambda m: (m.at, m.key))
    return steps


def measure_milestone(measure_id: int, kind: str, at: datetime) -> Milestone:
    zh, en = MEASURE_WORDS[kind]
    return Milestone(
        f"measure:{measure_id}",
        at,
        "已采取强制措施",
        "Coercive measure",
        f"公安机关已依法对涉案人员采取{zh}措施。",
        f"A person involved has been {en}, as the law provides.",
    )


def public_case(case: Case, receipt: Receipt | None = None) -> PublicCase:
    """Exactly what a party sees of ``case`` (the staff preview passes no receipt;
    a receipt read through :func:`with_public_stamp` brings its case's stamp)."""
    org = case.organisation
    return PublicCase(
        receipt_number=receipt.number if receipt else "",
        case_number=case.number,
        kind=case.kind,
        unit_zh=org.name,
        unit_en=org.name_en or org.name,
        phone=org.phone,
        state=case.state,
        milestones=milestones(case, stamp=getattr(receipt, "events_stamp", None)),
        receipt_id=receipt.pk if receipt else None,
    )


# --- what a party sees of their own feedback, and what staff see ------------


@dataclass(frozen=True)
class PartyView:
    """One receipt's page: the public case, the party's ratings and messages."""

    case: PublicCase
    rated: dict[str, int]
    messages: list[Message]


def party_view(receipt: Receipt) -> PartyView:
    """One receipt's page (read through :func:`with_public_stamp`, a receipt with no
    rating or message costs no query for them)."""
    rated, messages = {}, []
    if getattr(receipt, "has_ratings", True):
        rated = dict(receipt.ratings.values_list("milestone", "stars"))
    if getattr(receipt, "has_messages", True):
        messages = list(receipt.messages.order_by("at", "id"))
    return PartyView(case=public_case(receipt.case, receipt), rated=rated, messages=messages)


@dataclass(frozen=True)
class Feedback:
    messages: list[Message]
    ratings: list[Rating]


def _unanswered_first(messages: QuerySet[Message]) -> QuerySet[Message]:
    """Unanswered first (oldest waiting on top), then answered, newest answer first."""
    return messages.select_related("case", "receipt__party", "answered_by").order_by(
        F("answered_at").desc(nulls_first=True), "at", "id"
    )


def case_feedback(user: User, case: Case) -> Feedback | None:
    """A case's messages and ratings, for those who read its personal data (audited)."""
    if not access.may_read_personal(user, case):
        return None
    with transaction.atomic():
        record(user, "portal.feedback_read", case)
    return Feedback(
        messages=list(_unanswered_first(case.messages.all())),
        ratings=list(case.ratings.select_related("receipt__party")),
    )


def station_feedback(user: User, *, limit: int = 200) -> Feedback:
    """Messages (unanswered first) and ratings of every case ``user`` reads (audited)."""
    cases = access.readable_cases(user).values("pk")
    with transaction.atomic():
        record(user, "portal.feedback_listed", None, data={"limit": limit})
    return Feedback(
        messages=list(_unanswered_first(Message.objects.filter(case__in=cases))[:limit]),
        ratings=list(
            Rating.objects.filter(case__in=cases).select_related("case", "receipt__party")[:limit]
        ),
    )
