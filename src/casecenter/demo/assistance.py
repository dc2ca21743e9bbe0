"""Demo requests for help (三级响应): every state and level, placed in the past.

Officers of the two stations ask the center's criminal-investigation, economic-
crime and narcotics units and the branch's legal-affairs unit about criminal
cases they work (investigating or filed):

1. level 3 to legal affairs, answered after its 24 hours, closed as not helpful;
2. level 3 to criminal investigation, withdrawn by the asker;
3. level 2 to economic crime, answered remotely and closed as helpful;
4. level 2 to economic crime, answered, then a follow-up: waiting again;
5. level 3 to legal affairs, waiting, most of its day left;
6. level 3 to narcotics, raised to level 2 by the commander, still waiting;
7. level 1 to criminal investigation, asked three hours ago, nobody answered:
   its clock breached; the breach alert, left unacknowledged, has reached the
   commander (the demo lets the worker raise it and escalates it, as the worker
   would half an hour after the breach);
8. level 1 to criminal investigation, answered on the seat in the command room
   within the hour, waiting for the asker to close it.

They are asked in this order, so their numbers follow the moments they were asked.
Everything goes through the services, so numbers, clocks, timelines and audit
entries are what real use produces.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from casecenter.accounts.models import User
from casecenter.assistance import services
from casecenter.assistance.models import AssistanceRequest
from casecenter.cases.models import Assignment, AssignmentRole, Case, CaseKind, CaseState
from casecenter.supervision import services as supervision
from casecenter.supervision.models import Alert, AlertState
from casecenter.supervision.worker import run_once

OFFICERS = ("zhangwei", "lina", "wangqiang", "liuyang", "zhoumin")

INTERROGATION = [
    "嫌疑人拒不交代同伙，现场监控显示另有两人接应，请提示讯问方向。",
    "嫌疑人供述前后矛盾，对作案时间反复翻供，请协助制定讯问提纲。",
]
INVESTIGATION = [
    "被盗电动车已被转卖，收赃人员身份不明，请提示下一步侦查方向。",
    "被害人转账经过三级账户后被取现，请协助研判资金流向。",
]
LEGAL = [
    "嫌疑人案发时刚满十六周岁，能否适用刑事拘留？请出具法律意见。",
    "伤情鉴定为轻伤二级，双方有和解意向，请就是否可适用和解程序提出意见。",
]
NARCOTICS = "驾驶人呼气检测超标，同时尿检吗啡阳性，是否涉嫌毒驾？请协助确定检验和取证事项。"


def _cases() -> list[tuple[Case, User]]:
    """Criminal cases the demo's officers lead, investigating or filed, not secret,
    with their lead officer, oldest first."""
    rows = (
        Assignment.objects.filter(
            user__username__in=OFFICERS,
            role=AssignmentRole.LEAD,
            ended_at__isnull=True,
            case__kind=CaseKind.CRIMINAL,
            case__state__in=[CaseState.INVESTIGATING, CaseState.FILED],
            case__secret=False,
        )
        .select_related("case", "user")
        .order_by("case_id")
    )
    return [(a.case, a.user) for a in rows]


class _Picker:
    """Hands out the cases, one per request, preferring the categories asked."""

    def __init__(self, cases: list[tuple[Case, User]]):
        if not cases:
            raise RuntimeError("the demo has no investigating or filed criminal case to ask about")
        self.cases, self.used = cases, set()

    def __call__(self, *categories: str) -> tuple[Case, User]:
        fresh = [(c, u) for c, u in self.cases if c.pk not in self.used]
        for case, lead in fresh or self.cases:
            if not categories or case.category in categories:
                self.used.add(case.pk)
                return case, lead
        case, lead = (fresh or self.cases)[0]
        self.used.add(case.pk)
        return case, lead


def build(rng: random.Random, users: dict[str, User]) -> list[AssistanceRequest]:
    """About eight requests for help in every state and level (see the module)."""
    now = timezone.now()
    criminal, economic = users["tianye"].unit, users["jiangtao"].unit
    narcotics, legal = users["fengxue"].unit, users["sunli"].unit
    pick = _Picker(_cases())
    made: list[AssistanceRequest] = []

    def ask(category, unit, level, topic, question, hours_ago):
        case, lead = pick(*category)
        request = services.ask_for_help(
            lead,
            case,
            unit=unit,
            level=level,
            topic=topic,
            question=question,
            at=now - timedelta(hours=hours_ago),
        )
        made.append(request)
        return request, lead

    def at(hours_ago: float):
        return now - timedelta(hours=hours_ago)

    # 1. level 3 to legal affairs, answered after its 24 hours, closed as not helpful
    late, lead = ask(("injury", "theft", "fraud"), legal, 3, "legal_opinion", LEGAL[1], 96)
    services.answer_request(
        users["sunli"],
        late,
        channel="remote",
        answer="经审查，本案可适用刑事和解程序，请补充双方和解协议及被害人谅解书。",
        at=at(66),
    )
    services.close_request(
        lead, late, helpful=False, note="答复超过时限，案件已先行报请审核。", at=at(60)
    )

    # 2. level 3 to criminal investigation, withdrawn by the asker
    gone, lead = ask(("theft",), criminal, 3, "investigation", INVESTIGATION[0], 72)
    services.withdraw_request(lead, gone, reason="嫌疑人已如实供述，无需协助。", at=at(68))

    # 3. level 2 to economic crime, answered remotely, closed as helpful
    fraud, lead = ask(("fraud",), economic, 2, "investigation", INVESTIGATION[1], 50)
    services.answer_request(
        users["jiangtao"],
        fraud,
        channel="remote",
        answer="已远程调取三级账户流水：资金于案发次日在外省ATM取现，"
        "建议向取现地公安机关发协查，同时冻结二级账户余额。",
        at=at(47.5),
    )
    services.close_request(
        lead, fraud, helpful=True, note="已冻结二级账户，协查函已发出。", at=at(46)
    )

    # 4. level 2 to economic crime: answered, then a follow-up — waiting again
    again, lead = ask(("fraud",), economic, 2, "investigation", INVESTIGATION[0], 26)
    services.answer_request(
        users["jiangtao"],
        again,
        channel="remote",
        answer="建议排查二手交易平台近一周同型号车辆的发布记录，并调取收赃人员支付账户。",
        at=at(24),
    )
    services.follow_up(
        lead,
        again,
        question="平台记录已调取，发布账号为他人实名，下一步如何锁定实际使用人？",
        at=at(2),
    )

    # 5. level 3 to legal affairs, waiting, most of its day left
    ask(("injury", "theft"), legal, 3, "legal_opinion", rng.choice(LEGAL), 6)

    # 6. level 3 to narcotics, raised to level 2 by the center's commander
    raised, _ = ask(("dangerous_driving",), narcotics, 3, "evidence", NARCOTICS, 5)
    services.escalate_request(
        users["maqun"],
        raised,
        level=2,
        reason="嫌疑人明日期满需作出处理决定，须尽快明确毒品检验事项。",
        at=at(1),
    )

    # 7. level 1, nobody answered: breached (the alert reaches the commander below)
    breached, _ = ask(("theft", "injury"), criminal, 1, "interrogation", INTERROGATION[0], 3)

    # 8. level 1, answered on the seat in the command room within the hour
    seated, _ = ask(("injury", "theft"), criminal, 1, "interrogation", INTERROGATION[1], 0.9)
    services.answer_request(
        users["tianye"],
        seated,
        channel="on_site",
        answer="已到合成作战指挥室现场席位。建议先固定其案发前后的手机定位和通话记录，"
        "以时间轴逐段讯问，出示监控截图后再问同行人员身份。",
        at=at(0.5),
    )

    _breach_reaches_the_commander(breached)
    return list(AssistanceRequest.objects.filter(pk__in=[r.pk for r in made]).order_by("pk"))


def _breach_reaches_the_commander(request: AssistanceRequest) -> None:
    """Raise the demo's due alerts now, and take the unanswered level-1 request's
    breach, unacknowledged for two hours in the demo's story, one rung up its
    ladder (to the commander) as the worker does after ``escalate_after``."""
    run_once()
    with transaction.atomic():
        for alert in Alert.objects.select_for_update(of=("self",)).filter(
            deadline__subject=f"assistance:{request.pk}",
            kind=Alert.Kind.BREACH,
            state=AlertState.OPEN,
            level=0,
        ):
            supervision.escalate(alert)
