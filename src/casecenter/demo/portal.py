"""Demo public case progress (办案进度查询): receipts, ratings and messages.

Receipts are issued through ``portal.services`` to most victims of non-secret
cases, in Chinese and some in English; parties rate the milestones they reached
and leave messages, most answered by the case's officers. Three messages are
dated back past their three working days and left unanswered, so the
supervision worker raises their ``portal.message_reply`` alerts and the
station's list (/feedback/) has unanswered messages on top.

Dating back is the demo's only liberty: a real party's message is stamped when
it arrives. The message row and its reply clock are moved together, and the
clock is counted again by the law package from the earlier moment.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction

from casecenter import law
from casecenter.accounts.models import User
from casecenter.calendars.selectors import work_calendar
from casecenter.cases.models import AssignmentRole, Case, PartyRole
from casecenter.portal import selectors, services
from casecenter.portal.models import Message
from casecenter.supervision.models import Deadline

COMMENTS = ["民警态度很好，处理及时。", "进展有点慢。", "", "谢谢民警！", "希望尽快追回损失。"]
QUESTIONS = [
    "请问我的电动车什么时候能发还？",
    "嫌疑人抓到了吗？",
    "需要我再去派出所补充材料吗？",
    "伤情鉴定结果出来了吗？",
]
ANSWERS = [
    "您好，案件正在侦查中，有进展会及时告知您。",
    "您好，涉案财物鉴定后即可发还，届时电话通知您。",
    "您好，暂时不需要补充材料，谢谢配合。",
]


def _lead(case: Case) -> User:
    return case.assignments.get(role=AssignmentRole.LEAD, ended_at__isnull=True).user


def _date_back(message: Message, days: int) -> None:
    """Move a message and its reply clock ``days`` into the past (demo only)."""
    at = message.at - timedelta(days=days)
    Message.objects.filter(pk=message.pk).update(at=at)
    clock = Deadline.objects.get(subject=message.subject)
    try:
        due = law.due(clock.rule_id, at, calendar=work_calendar()).ends_at
    except law.UnknownCalendarYear:  # a year without its holiday notice: shift as is
        due = clock.due_at - timedelta(days=days)
    Deadline.objects.filter(pk=clock.pk).update(
        trigger_at=at,
        warn_at=max(at, clock.warn_at + (due - clock.due_at)),
        due_at=due,
        next_check_at=at,
    )


def build(rng: random.Random) -> dict[str, int]:
    """Receipts, ratings and messages on the demo's cases; returns the counts."""
    counts = {"receipts": 0, "ratings": 0, "messages": 0, "unanswered": 0}
    victims = [
        party
        for case in Case.objects.filter(secret=False).order_by("pk")
        for party in case.parties.filter(role=PartyRole.VICTIM).select_related("case")
    ]
    for n, party in enumerate(victims):
        if n % 5 == 4:  # some victims never got a receipt (refused, or no phone)
            continue
        case = party.case
        with transaction.atomic():
            receipt, _ = services.issue_receipt(
                _lead(case), case, party, language="en" if n % 7 == 0 else "zh-hans"
            )
        counts["receipts"] += 1
        for step in selectors.milestones(case):
            if rng.random() < 0.35:
                stars = rng.choice((5, 5, 4, 4, 3, 2))
                services.rate(
                    receipt, milestone=step.key, stars=stars, comment=rng.choice(COMMENTS)
                )
                counts["ratings"] += 1
        if n % 3 == 0:
            message = services.leave_message(receipt, rng.choice(QUESTIONS))
            counts["messages"] += 1
            if counts["unanswered"] < 3 and case.organisation.code == "zgc":
                _date_back(message, days=6 + counts["unanswered"])
                counts["unanswered"] += 1
            elif n % 2 == 0:  # the others wait, still within their three working days
                services.answer_message(_lead(case), message, rng.choice(ANSWERS))
    return counts
