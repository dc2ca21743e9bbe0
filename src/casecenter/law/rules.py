"""The rule catalogue of LAW.md: codes, names, legal bases, periods.

Each rule has a stable code used everywhere (services, supervision, UI, API).
*Statute* rules come from law: their periods are fixed here and never tuned.
*Policy* rules are local practice: their period here is the default, which an
administrator may change in the supervision catalogue.

A rule may have *variants* — the longer periods the law allows on approval
(e.g. a summons of 24 hours for a major, complex case). An extension picks a
variant; the clock is then counted again from the same trigger.

Rules without a period (``summons.rest``, ``custody.separation`` …) are checked
by other means (records, live custody rules); they are listed so the catalogue
is whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from casecenter.law.errors import LawError
from casecenter.law.holidays import WorkCalendar
from casecenter.law.periods import PeriodResult, Unit, compute_period, length_en, length_zh

Kind = Literal["statute", "policy"]


@dataclass(frozen=True)
class Period:
    length: int
    unit: Unit

    def describe_en(self) -> str:
        return length_en(self.length, self.unit)

    def describe_zh(self) -> str:
        return length_zh(self.length, self.unit)


@dataclass(frozen=True)
class RuleSpec:
    code: str
    name_zh: str
    name_en: str
    basis: str
    kind: Kind
    trigger_en: str
    periods: Mapping[str, Period] = field(default_factory=dict)  # variant -> period
    in_custody: bool = False  # the person is in custody while the clock runs (no holiday rule)
    variant_en: Mapping[str, str] = field(default_factory=dict)

    @property
    def clocked(self) -> bool:
        return bool(self.periods)

    def period(self, variant: str = "default") -> Period:
        try:
            return self.periods[variant]
        except KeyError:
            raise LawError(
                "rule.variant",
                f"规则{self.code}没有“{variant}”这种期限。",
                f"Rule {self.code} has no period variant {variant!r}.",
            ) from None


def _r(
    code: str,
    zh: str,
    en: str,
    basis: str,
    trigger: str,
    kind: Kind = "statute",
    in_custody: bool = False,
    variants: Mapping[str, str] | None = None,
    **periods: tuple[int, Unit],
) -> RuleSpec:
    return RuleSpec(
        code=code,
        name_zh=zh,
        name_en=en,
        basis=basis,
        kind=kind,
        trigger_en=trigger,
        periods={k: Period(*v) for k, v in periods.items()},
        in_custody=in_custody,
        variant_en=variants or {},
    )


RULES: dict[str, RuleSpec] = {
    r.code: r
    for r in [
        _r(
            "summons.criminal",
            "传唤、拘传持续时间",
            "Summons / compelled appearance duration",
            "CPL Art. 119",
            "arrival",
            default=(12, "hour"),
            major_complex=(24, "hour"),
            variants={"major_complex": "major or complex case, detention or arrest may follow"},
        ),
        _r(
            "summons.rest",
            "传唤期间保证饮食和必要休息",
            "Food and rest during a summons",
            "CPL Art. 119",
            "arrival",
        ),
        _r(
            "summons.admin",
            "行政传唤询问查证时间",
            "Administrative summons questioning",
            "PSAPL (revised 2025)",
            "arrival",
            default=(8, "hour"),
            detention_possible=(24, "hour"),
            variants={"detention_possible": "administrative detention may follow"},
        ),
        _r(
            "summons.notify_family",
            "传唤后通知家属",
            "Notify family of the summons",
            "PSAPL (revised 2025)",
            "summons",
            kind="policy",
            default=(1, "hour"),
        ),
        _r(
            "detention.to_house",
            "拘留后送看守所羁押",
            "Send the detained person to the detention house",
            "CPL Art. 85",
            "detention",
            default=(24, "hour"),
        ),
        _r(
            "detention.notify_family",
            "拘留后通知家属",
            "Notify family of the detention",
            "CPL Art. 85",
            "detention",
            default=(24, "hour"),
        ),
        _r(
            "detention.interrogate",
            "拘留后讯问",
            "First interrogation after detention",
            "CPL Art. 86",
            "detention",
            default=(24, "hour"),
        ),
        _r(
            "detention.arrest_request",
            "提请批准逮捕",
            "Request approval of arrest",
            "CPL Art. 91",
            "detention",
            in_custody=True,
            default=(3, "day"),
            special=(7, "day"),
            roving_gang=(30, "day"),
            variants={
                "special": "special case: extended by up to 4 days",
                "roving_gang": "roving, repeated or gang crime",
            },
        ),
        _r(
            "arrest.decision",
            "检察院审查批准逮捕",
            "Procuratorate decides on arrest",
            "CPL Art. 91",
            "request received",
            in_custody=True,
            default=(7, "day"),
        ),
        _r(
            "arrest.notify_family",
            "逮捕后通知家属",
            "Notify family of the arrest",
            "CPL Art. 93",
            "arrest",
            default=(24, "hour"),
        ),
        _r(
            "arrest.interrogate",
            "逮捕后讯问",
            "Interrogation after arrest",
            "CPL Art. 94",
            "arrest",
            default=(24, "hour"),
        ),
        _r(
            "investigation.custody",
            "逮捕后侦查羁押期限",
            "Investigation custody after arrest",
            "CPL Art. 156",
            "arrest",
            in_custody=True,
            default=(2, "month"),
            extended=(3, "month"),
            variants={"extended": "extended by one month (approved)"},
        ),
        _r(
            "bail.max",
            "取保候审最长期限",
            "Bail pending trial, longest term",
            "CPL Art. 79",
            "decision",
            default=(12, "month"),
        ),
        _r(
            "surveillance.max",
            "监视居住最长期限",
            "Residential surveillance, longest term",
            "CPL Art. 79",
            "decision",
            default=(6, "month"),
        ),
        _r(
            "surveillance.notify_family",
            "指定居所监视居住后通知家属",
            "Notify family of designated-residence surveillance",
            "CPL Art. 75",
            "execution",
            default=(24, "hour"),
        ),
        _r(
            "filing.review",
            "受案后立案审查",
            "Decide whether to file after acceptance",
            "MPS opinions on the acceptance and filing reform (2015)",
            "acceptance",
            default=(3, "day"),
            verify=(7, "day"),
            major=(30, "day"),
            variants={"verify": "the lead must be verified", "major": "major, difficult, complex"},
        ),
        _r(
            "admin_case.handle",
            "行政案件办理期限",
            "Handle an administrative case",
            "PSAPL (revised 2025)",
            "acceptance",
            default=(30, "day"),
            extended=(60, "day"),
            variants={"extended": "extended by 30 days (approved)"},
        ),
        _r(
            "admin_detention.release",
            "行政拘留期满解除",
            "Release at the end of administrative detention",
            "PSAPL (revised 2025)",
            "execution",
            in_custody=True,
            default=(5, "day"),
        ),
        _r(
            "prosecution.review",
            "审查起诉期限",
            "Review for prosecution",
            "CPL Art. 172",
            "received",
            in_custody=True,
            default=(1, "month"),
        ),
        _r(
            "fast_track.review",
            "速裁案件审查起诉",
            "Fast-track review for prosecution",
            "CPL Art. 172",
            "received",
            default=(10, "day"),
            long_sentence=(15, "day"),
        ),
        _r(
            "fast_track.trial",
            "速裁案件审理期限",
            "Court concludes a fast-track case",
            "CPL Art. 225",
            "received",
            default=(10, "day"),
            long_sentence=(15, "day"),
        ),
        _r(
            "fast_track.48h",
            "48小时速裁全流程",
            "Whole fast track from capture to judgment",
            "Beijing practice",
            "capture",
            kind="policy",
            default=(48, "hour"),
        ),
        _r(
            "fast_track.stage",
            "速裁各环节目标时间",
            "Fast-track stage target",
            "Beijing practice",
            "capture",
            kind="policy",
        ),
        _r(
            "lawyer.meeting",
            "看守所安排律师会见",
            "Arrange a lawyer's meeting",
            "CPL Art. 39",
            "request",
            default=(48, "hour"),
        ),
        _r(
            "legal_aid.notify",
            "通知法律援助机构指派律师",
            "Notify legal aid of the need for a lawyer",
            "LAL Art. 36",
            "the need arises",
            default=(3, "day"),
        ),
        _r(
            "legal_aid.assign",
            "法律援助机构指派律师",
            "Legal aid assigns a lawyer",
            "LAL Art. 36",
            "notice received",
            default=(3, "day"),
        ),
        _r(
            "exchange.receive",
            "签收移交材料",
            "Sign for a hand-over package",
            "policy",
            "package sent",
            kind="policy",
            default=(24, "hour"),
        ),
        _r(
            "property.hand_over",
            "涉案财物移交保管",
            "Hand seized property to the custodian",
            "MPS Provisions on property involved in cases",
            "seizure",
            default=(24, "hour"),
        ),
        _r(
            "property.return",
            "借出财物按期归还",
            "Return checked-out property when promised",
            "MPS Provisions on property involved in cases",
            "check-out",
            kind="policy",
            default=(7, "day"),
        ),
        _r(
            "property.dispose",
            "结案后处置涉案财物",
            "Dispose of property after the case closes",
            "MPS Provisions on property involved in cases",
            "case closed",
            kind="policy",
            default=(30, "day"),
        ),
        _r(
            "juvenile.appropriate_adult",
            "讯问未成年人时合适成年人在场",
            "Guardian or appropriate adult at a minor's interrogation",
            "CPL Art. 281",
            "interrogation of a minor",
        ),
        _r(
            "juvenile.sealing",
            "未成年人犯罪记录封存",
            "Seal a minor's criminal record",
            "CPL Art. 286",
            "judgment",
        ),
        _r(
            "custody.recording",
            "办案区全程录音录像",
            "Recording throughout the stay",
            "MPS rules on case-handling areas",
            "zone entry",
        ),
        _r(
            "custody.separation",
            "同案嫌疑人分开看管",
            "Co-suspects held apart",
            "MPS rules on case-handling areas",
            "zone entry",
        ),
        _r(
            "custody.two_officers",
            "讯问时两名以上民警",
            "Two officers with a detainee in interrogation",
            "CPL Art. 118 / MPS-C",
            "zone entry",
        ),
        _r(
            "custody.juvenile_room",
            "未成年人在未成年人询问室",
            "Minors questioned in the juvenile room",
            "MPS rules on case-handling areas",
            "zone entry",
        ),
        _r(
            "custody.lawyer_audio",
            "律师会见不被监听",
            "A lawyer's meeting is not listened to",
            "CPL Art. 39",
            "camera status",
        ),
        _r(
            "custody.vitals",
            "生命体征异常",
            "Vital signs out of range",
            "MPS rules on case-handling areas",
            "reading",
            kind="policy",
        ),
        _r(
            "custody.strap",
            "手环腕带被摘除",
            "Wristband strap removed",
            "MPS rules on case-handling areas",
            "device status",
            kind="policy",
        ),
        _r(
            "portal.message_reply",
            "答复当事人留言",
            "Answer a party's message",
            "policy",
            "message",
            kind="policy",
            default=(3, "workday"),
        ),
        _r(
            "dossier.return",
            "归还借阅纸质卷宗",
            "Return a lent paper dossier",
            "policy",
            "lending",
            kind="policy",
            default=(7, "day"),
        ),
        _r(
            "response.level1",
            "一级响应",
            "Level-1 response to a request for help",
            "policy",
            "request",
            kind="policy",
            default=(1, "hour"),
        ),
        _r(
            "response.level2",
            "二级响应",
            "Level-2 response to a request for help",
            "policy",
            "request",
            kind="policy",
            default=(4, "hour"),
        ),
        _r(
            "response.level3",
            "三级响应",
            "Level-3 response to a request for help",
            "policy",
            "request",
            kind="policy",
            default=(24, "hour"),
        ),
        _r(
            "access.break_glass",
            "紧急查阅案件",
            "Break-glass read of a case",
            "policy",
            "break-glass grant",
            kind="policy",
        ),
        _r(
            "dsr.answer",
            "答复个人信息权利请求",
            "Answer a data-subject request",
            "PIPL Art. 50",
            "request",
            kind="policy",
            default=(15, "day"),
        ),
    ]
}


def rule(code: str) -> RuleSpec:
    try:
        return RULES[code]
    except KeyError:
        raise LawError("rule.unknown", f"未知的规则：{code}", f"Unknown rule: {code}") from None


def due(
    code: str,
    trigger_at: datetime,
    *,
    variant: str = "default",
    period: Period | None = None,
    calendar: WorkCalendar | None = None,
) -> PeriodResult:
    """When the clock of rule ``code`` started at ``trigger_at`` falls due.

    ``period`` overrides the rule's own — only for policy rules tuned by an
    administrator, or a term fixed by a decision (administrative detention).
    """
    spec = rule(code)
    if not spec.clocked:
        raise LawError("rule.no_clock", f"规则{code}没有期限。", f"Rule {code} has no clock.")
    chosen = period or spec.period(variant)
    return compute_period(
        trigger_at, chosen.length, chosen.unit, in_custody=spec.in_custody, calendar=calendar
    )


_LAWS_ZH = [
    ("CPL", "《刑事诉讼法》"),
    ("PSAPL (revised 2025)", "《治安管理处罚法》（2025年修订）"),
    ("LAL", "《法律援助法》"),
    ("PIPL", "《个人信息保护法》"),
    ("MPS-C", "《公安机关办理刑事案件程序规定》"),
    ("MPS rules on case-handling areas", "公安部执法办案管理中心（办案区）有关规定"),
    ("MPS Provisions on property involved in cases", "《公安机关涉案财物管理若干规定》"),
    (
        "MPS opinions on the acceptance and filing reform (2015)",
        "公安部关于改革完善受案立案制度的意见（2015）",
    ),
    ("Beijing practice", "北京市工作机制"),
    ("policy", "本地规定"),
]


def basis_zh(basis: str) -> str:
    """The legal basis as a Chinese reader cites it: "CPL Art. 85" → 《刑事诉讼法》第85条."""
    import re

    text = re.sub(r"\bArt\. (\d+)", r"第\1条", basis)
    for en, zh in _LAWS_ZH:
        text = text.replace(en, zh)
    return text.replace(" 第", "第").replace(" / ", "、").replace("; ", "；")
