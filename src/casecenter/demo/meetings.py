"""Demo remote lawyer meetings (远程律师视频会见) at the Haidian detention centre.

Built through the services, with the moments placed in the past (``at``), so
the numbering, clocks and audit log are what real use produces:

- licences: 陈明 (defence lawyer, 明德律师事务所) and 郑丽 (duty lawyer, legal
  aid) verified by 孙浩 of the detention centre; 何欣's registered an hour or
  two ago and waiting for verification;
- two remote meeting rooms, eight detainees received over the last weeks;
- bookings in every state: a meeting missed two days ago, one refused with
  reasons, one held yesterday, one cancelled by the lawyer, one requested
  ~50 hours ago and never confirmed (its 48-hour clock is breached: the worker's
  next round alerts the centre), one requested ~40 hours ago (its warning comes
  within hours), one confirmed for later today (tomorrow morning when the demo
  is built in the evening), and one asked for two hours ago.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from casecenter import law
from casecenter.accounts.models import Organisation, User
from casecenter.meetings import detainees, lawyers, services, sessions
from casecenter.meetings.licence import compose
from casecenter.meetings.models import Booking, Room

CENTRE = "hd-kss"
STAFF = "sunhao"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡"
GIVEN = "伟芳娜敏静强磊军洋勇杰涛明超平刚华建国志海东文博宇航鹏飞成亮斌辉"
#: the Beijing districts whose region codes the detainees' ID numbers carry
REGIONS = ["110108", "110105", "110102", "110106", "130102", "370202"]
HANDLING = [("中关村派出所", "ZGC"), ("学院路派出所", "XYL")]
REFUSAL = "该在押人员当日已安排提讯，请另约时间。"


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _id_number(rng: random.Random, today: date, used: set[str]) -> str:
    while True:
        born = date(today.year - rng.randint(19, 62), rng.randint(1, 12), rng.randint(1, 28))
        first17 = f"{rng.choice(REGIONS)}{born:%Y%m%d}{rng.randint(0, 999):03d}"
        number = first17 + law.check_digit(first17)
        if number not in used:
            used.add(number)
            return number


def _licence(rng: random.Random, user: User, practice: str) -> str:
    return compose(
        "1101", rng.randint(2003, 2019), practice, user.sex or "M", f"{rng.randint(0, 9999999):07d}"
    )


def _slot(day: date, hour: int, minute: int = 0, minutes: int = 60) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time(hour, minute)))
    return start, start + timedelta(minutes=minutes)


def _later_today(now: datetime) -> tuple[datetime, datetime]:
    """An hour's slot later today (from the next full hour after the next, at the
    earliest 09:00); tomorrow at 09:00 when the day is too late for one."""
    local = timezone.localtime(now)
    start = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    start = max(start, timezone.make_aware(datetime.combine(local.date(), time(9))))
    if start.date() != local.date() or start.time() > time(19):
        return _slot(local.date() + timedelta(days=1), 9)
    return start, start + timedelta(hours=1)


@transaction.atomic
def build(rng: random.Random, users: dict[str, User]) -> dict[str, Booking]:
    """The detention centre's rooms, detainees, the lawyers' licences and
    bookings in every state; returns the bookings by what they show."""
    centre = Organisation.objects.get(code=CENTRE)
    staff = users[STAFF]
    now = timezone.now()
    today = timezone.localdate(now)

    # the lawyers' licences: two verified three weeks ago, one waiting
    for username, practice in (("chenming", "1"), ("zhengli", "8")):
        lawyer = lawyers.register_licence(
            users[username],
            licence_number=_licence(rng, users[username], practice),
            at=now - timedelta(days=22),
        )
        lawyers.verify_lawyer(staff, lawyer, at=now - timedelta(days=21))
    lawyers.register_licence(
        users["hexin"],
        licence_number=_licence(rng, users["hexin"], "1"),
        at=now - timedelta(hours=1, minutes=40),
    )

    rooms = [
        Room.objects.create(centre=centre, code=f"hj-{n}", name=name, terminal=f"HD-KSS-VT-0{n}")
        for n, name in ((1, "远程会见室一"), (2, "远程会见室二"))
    ]

    used: set[str] = set()
    held = []
    for n in range(8):
        place, code = HANDLING[n % 2]
        received = now - timedelta(days=rng.uniform(7, 60), minutes=rng.randint(0, 600))
        person = {"name": _name(rng), "id_number": _id_number(rng, today, used)}
        detainees.register_detainee(
            staff,
            **person,
            handling_organisation=place,
            case_number=f"{code}-X-{timezone.localtime(received).year}-{rng.randint(1, 300):05d}",
            received_at=received,
        )
        held.append(person)

    def request(username: str, n: int, when, hours_ago: float) -> Booking:
        legal_aid = username != "chenming"
        return services.request_booking(
            users[username],
            centre=centre,
            starts_at=when[0],
            ends_at=when[1],
            authority="legal_aid" if legal_aid else "engagement",
            authority_reference=(
                f"京海法援函〔{today.year}〕{rng.randint(100, 999)}号"
                if legal_aid
                else f"（{today.year}）明德刑委字第{rng.randint(10, 99):03d}号"
            ),
            at=now - timedelta(hours=hours_ago),
            **held[n],
        )

    def ago(hours: float) -> datetime:
        return now - timedelta(hours=hours)

    made: dict[str, Booking] = {}
    # in the order they were asked for, so the numbers run with time
    missed = request("chenming", 7, _slot(today - timedelta(days=2), 15), 24 * 5)
    services.confirm_booking(staff, missed, room=rooms[1], at=ago(24 * 4))
    made["missed"] = sessions.mark_missed(
        staff, missed, reason="律师未按时接入。", at=missed.starts_at + timedelta(minutes=40)
    )
    refused = request("zhengli", 5, _slot(today + timedelta(days=4), 9), 24 * 4)
    made["refused"] = services.refuse_booking(staff, refused, reason=REFUSAL, at=ago(24 * 4 - 5))
    held_meeting = request("chenming", 0, _slot(today - timedelta(days=1), 10), 24 * 3)
    services.confirm_booking(staff, held_meeting, room=rooms[0], at=ago(24 * 3 - 6))
    sessions.start_meeting(staff, held_meeting, at=held_meeting.starts_at + timedelta(minutes=3))
    made["held"] = sessions.end_meeting(
        staff, held_meeting, at=held_meeting.starts_at + timedelta(minutes=52)
    )
    cancelled = request("chenming", 6, _slot(today + timedelta(days=2), 14), 24 * 3 - 1)
    made["cancelled"] = services.cancel_booking(
        users["chenming"], cancelled, reason="已与当事人家属另行沟通。", at=ago(24 * 2 + 12)
    )
    made["breached"] = request("chenming", 3, _slot(today + timedelta(days=2), 10), 50)
    made["warning"] = request("zhengli", 2, _slot(today + timedelta(days=1), 14), 40)
    confirmed = request("zhengli", 1, _later_today(now), 20)
    made["confirmed"] = services.confirm_booking(staff, confirmed, room=rooms[0], at=ago(18))
    made["requested"] = request("chenming", 4, _slot(today + timedelta(days=3), 15), 2)
    return made
