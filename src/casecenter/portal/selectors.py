"""What the public sees of a case: milestones in plain words, nothing internal.

No names, no ID numbers, no officers, no reasons written by staff: only the
steps of the procedure, their dates, what they mean for the party and what
the party can do next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from casecenter.cases.models import Case, CaseEvent, CaseKind, CaseState
from casecenter.measures.models import MeasureEvent, MeasureKind
from casecenter.portal.models import Receipt

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


def public_case(receipt: Receipt) -> PublicCase:
    case: Case = receipt.case
    steps: list[Milestone] = []
    for event in case.events.filter(
        kind__in=[CaseEvent.Kind.ACCEPTED, CaseEvent.Kind.TRANSITION]
    ).order_by("at", "id"):
        state = event.to_state
        words = INVESTIGATING[case.kind] if state == S.INVESTIGATING else STEPS.get(state)
        if words:
            steps.append(Milestone(event.at, *words))
    started = MeasureEvent.objects.filter(
        measure__case=case, kind=MeasureEvent.Kind.STARTED
    ).select_related("measure")
    for event in started:
        zh, en = MEASURE_WORDS[event.measure.kind]
        steps.append(
            Milestone(
                event.at,
                "已采取强制措施",
                "Coercive measure",
                f"公安机关已依法对涉案人员采取{zh}措施。",
                f"A person involved has been {en}, as the law provides.",
            )
        )
    steps.sort(key=lambda m: m.at)
    org = case.organisation
    return PublicCase(
        receipt_number=receipt.number,
        case_number=case.number,
        kind=case.kind,
        unit_zh=org.name,
        unit_en=org.name_en or org.name,
        phone=org.phone,
        state=case.state,
        milestones=steps,
    )
