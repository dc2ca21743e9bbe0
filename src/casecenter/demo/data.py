"""Realistic demo data: a branch bureau's stations, officers, incidents and cases.

Everything is created through the services, so the demo's timelines, audit
log and numbering are exactly what real use produces. Seeded: the same data
every time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from casecenter import law
from casecenter.accounts.models import Organisation, OrganisationKind, Role, Unit, User
from casecenter.cases import services as cases
from casecenter.cases.models import Assignment, AssignmentRole, Case, CaseKind, CaseState, PartyRole
from casecenter.demo import assistance, custody, fasttrack, meetings, portal
from casecenter.demo import dossiers as demo_dossiers
from casecenter.demo.mfa import ensure_demo_authenticators
from casecenter.demo.property import PropertyBuilder
from casecenter.dossiers import services as dossiers
from casecenter.incidents import services as incidents
from casecenter.incidents.models import Channel
from casecenter.measures import services as measures
from casecenter.measures.models import MeasureKind
from casecenter.supervision.worker import run_once

DEMO_PASSWORD = "casecenter-demo"  # noqa: S105 - printed for the newcomer on purpose

ORGANISATIONS = [
    # code, kind, name, English name, parent code
    (
        "hd-fz",
        OrganisationKind.LEGAL_AFFAIRS,
        "海淀分局法制支队",
        "Haidian Legal Affairs Unit",
        None,
    ),
    (
        "hd-zx",
        OrganisationKind.CASE_CENTER,
        "海淀分局执法办案管理中心",
        "Haidian Case-Handling Center",
        "hd-fz",
    ),
    (
        "zgc",
        OrganisationKind.POLICE_STATION,
        "中关村派出所",
        "Zhongguancun Police Station",
        "hd-fz",
    ),
    (
        "xyl",
        OrganisationKind.POLICE_STATION,
        "学院路派出所",
        "Xueyuan Road Police Station",
        "hd-fz",
    ),
    ("hd-jc", OrganisationKind.PROCURATORATE, "海淀区人民检察院", "Haidian Procuratorate", None),
    ("hd-fy", OrganisationKind.COURT, "海淀区人民法院", "Haidian Court", None),
    ("hd-fyzx", OrganisationKind.LEGAL_AID, "海淀区法律援助中心", "Haidian Legal Aid Center", None),
    ("hd-kss", OrganisationKind.DETENTION_CENTRE, "海淀看守所", "Haidian Detention Centre", None),
    ("md-law", OrganisationKind.LAW_FIRM, "北京明德律师事务所", "Beijing Mingde Law Firm", None),
]

USERS = [
    # username, name, sex, role, organisation, unit kind
    ("zhangwei", "张伟", "M", Role.CASE_OFFICER, "zgc", Unit.Kind.TEAM),
    ("lina", "李娜", "F", Role.CASE_OFFICER, "zgc", Unit.Kind.TEAM),
    ("wangqiang", "王强", "M", Role.CASE_OFFICER, "zgc", Unit.Kind.TEAM),
    ("liuyang", "刘洋", "M", Role.CASE_OFFICER, "xyl", Unit.Kind.TEAM),
    ("zhoumin", "周敏", "F", Role.CASE_OFFICER, "xyl", Unit.Kind.TEAM),
    ("chenjing", "陈静", "F", Role.CASE_MANAGEMENT, "zgc", Unit.Kind.CASE_MANAGEMENT),
    ("huanglei", "黄磊", "M", Role.CASE_MANAGEMENT, "xyl", Unit.Kind.CASE_MANAGEMENT),
    ("sunli", "孙丽", "F", Role.LEGAL_AFFAIRS, "hd-fz", Unit.Kind.LEGAL_AFFAIRS),
    ("zhaogang", "赵刚", "M", Role.CUSTODY_STAFF, "hd-zx", Unit.Kind.CUSTODY),
    ("qianyu", "钱雨", "F", Role.CUSTODY_STAFF, "hd-zx", Unit.Kind.CUSTODY),
    ("maqun", "马群", "M", Role.COMMANDER, "hd-zx", Unit.Kind.COMMAND),
    ("wangyi", "王医生", "M", Role.MEDICAL, "hd-zx", None),
    ("zhoujian", "周健", "M", Role.PROSECUTOR, "hd-jc", None),
    ("wufang", "吴芳", "F", Role.JUDGE, "hd-fy", None),
    ("zhengli", "郑丽", "F", Role.DUTY_LAWYER, "hd-fyzx", None),
    ("hexin", "何欣", "M", Role.DUTY_LAWYER, "hd-fyzx", None),
    ("sunhao", "孙浩", "M", Role.DETENTION_STAFF, "hd-kss", None),
    ("chenming", "陈明", "M", Role.DEFENCE_LAWYER, "md-law", None),
    # the specialised units stationed at the center (三级响应)
    ("tianye", "田野", "M", Role.SPECIALIST, "hd-zx", Unit.Kind.CRIMINAL_INVESTIGATION),
    ("jiangtao", "蒋涛", "M", Role.SPECIALIST, "hd-zx", Unit.Kind.ECONOMIC_CRIME),
    ("fengxue", "冯雪", "F", Role.SPECIALIST, "hd-zx", Unit.Kind.NARCOTICS),
    ("admin", "系统管理员", "", Role.ADMIN, "hd-fz", None),
]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
    "许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强海燕晓东文博宇航欣怡子轩浩然梓涵"
)
STREETS = [
    "中关村大街",
    "海淀大街",
    "知春路",
    "学院路",
    "成府路",
    "北四环西路",
    "苏州街",
    "万泉河路",
    "清华东路",
    "五道口",
    "双清路",
    "志新路",
    "花园路",
    "北三环西路",
    "西土城路",
]
PLACES = [
    "小区门口",
    "地铁站出口",
    "商场一层",
    "写字楼大堂",
    "饭馆内",
    "路口",
    "公交站",
    "停车场",
    "网吧",
    "便利店",
]

SCENARIOS = [
    # category, kind, incident summary, case title
    (
        "assault",
        CaseKind.ADMINISTRATIVE,
        "报警人称与他人因排队发生口角，被对方殴打致面部受伤。",
        "殴打他人案",
    ),
    (
        "theft",
        CaseKind.CRIMINAL,
        "报警人称停放在楼下的电动自行车被盗，价值约三千元。",
        "电动自行车被盗案",
    ),
    (
        "fraud",
        CaseKind.CRIMINAL,
        "报警人称接到冒充客服电话，按对方指示转账后发现被骗。",
        "电信网络诈骗案",
    ),
    ("theft", CaseKind.CRIMINAL, "报警人称在地铁上手机被扒窃。", "扒窃手机案"),
    (
        "dangerous_driving",
        CaseKind.CRIMINAL,
        "夜查中发现一名驾驶人酒后驾驶机动车，呼气检测超标。",
        "危险驾驶案",
    ),
    ("quarrel", CaseKind.ADMINISTRATIVE, "多人在饭馆内酒后滋事，损坏桌椅。", "寻衅滋事案"),
    ("damage", CaseKind.ADMINISTRATIVE, "报警人称车辆被人故意划伤。", "故意损毁财物案"),
    ("drugs", CaseKind.ADMINISTRATIVE, "群众举报出租屋内有人吸食毒品。", "吸毒案"),
    ("injury", CaseKind.CRIMINAL, "两人因琐事斗殴，一人头部受伤送医，伤情待鉴定。", "故意伤害案"),
    ("gambling", CaseKind.ADMINISTRATIVE, "群众举报棋牌室内有人聚众赌博。", "赌博案"),
]
NO_CASE = [
    ("dispute", "邻里因噪音发生纠纷，民警到场调解，双方达成谅解。"),
    ("traffic", "两车轻微剐蹭，双方协商解决，已移交交管部门处理。"),
    ("missing", "家属报称老人走失，民警协助寻找，已找到。"),
]


class DemoBuilder:
    """Builds the demo world with a seeded random generator."""

    def __init__(
        self, seed: int | None = 20261126, progress: Callable[[int, int], None] | None = None
    ):
        self.rng = random.Random(seed)
        self.progress = progress or (lambda done, total: None)
        self.used_ids: set[str] = set()

    # --- people -----------------------------------------------------------
    def name(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(
            self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2)))
        )

    def person(self) -> tuple[str, str]:
        """A name and a resident ID number of an adult."""
        return self.name(), self.id_number()

    def id_number(self, *, minor: bool = False) -> str:
        today = timezone.localdate()
        while True:
            age = self.rng.randint(14, 17) if minor else self.rng.randint(19, 70)
            born = date(today.year - age, self.rng.randint(1, 12), self.rng.randint(1, 28))
            first17 = f"110108{born:%Y%m%d}{self.rng.randint(0, 999):03d}"
            number = first17 + law.check_digit(first17)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def phone(self) -> str:
        return f"1{self.rng.choice('3578')}{self.rng.randint(0, 999999999):09d}"

    def place(self) -> str:
        street, spot = self.rng.choice(STREETS), self.rng.choice(PLACES)
        return f"北京市海淀区{street}{self.rng.randint(1, 200)}号{spot}"

    # --- world ------------------------------------------------------------
    @transaction.atomic
    def organisations_and_users(self) -> dict[str, User]:
        orgs: dict[str, Organisation] = {}
        for code, kind, name, name_en, parent in ORGANISATIONS:
            orgs[code] = Organisation.objects.create(
                code=code,
                kind=kind,
                name=name,
                name_en=name_en,
                parent=orgs.get(parent) if parent else None,
                phone=f"010-8{self.rng.randint(0, 9999999):07d}",
            )
        users = {}
        for n, (username, name, sex, role, org, unit_kind) in enumerate(USERS):
            unit = None
            if unit_kind:
                unit, _ = Unit.objects.get_or_create(
                    organisation=orgs[org],
                    kind=unit_kind,
                    defaults={"name": Unit.Kind(unit_kind).label},
                )
            user = User(
                username=username,
                display_name=name,
                sex=sex,
                role=role,
                organisation=orgs[org],
                unit=unit,
                badge_number=f"0{31000 + n * 7}",
                is_staff=role == Role.ADMIN,
                is_superuser=role == Role.ADMIN,
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            users[username] = user
        return users

    def cases(self, users: dict[str, User], count: int) -> None:
        stations = {
            "zgc": [users["zhangwei"], users["lina"], users["wangqiang"]],
            "xyl": [users["liuyang"], users["zhoumin"]],
        }
        legal = users["sunli"]
        now = timezone.now()
        for n in range(count):
            org = "zgc" if n % 3 else "xyl"
            officers = stations[org]
            lead = officers[n % len(officers)]
            partner = officers[(n + 1) % len(officers)]
            received = now - timedelta(
                days=self.rng.uniform(0, 60), minutes=self.rng.randint(0, 600)
            )
            if n % 9 == 8:
                category, summary = self.rng.choice(NO_CASE)
                incident = incidents.register_incident(
                    lead,
                    channel=Channel.CALL_110,
                    received_at=received,
                    place=self.place(),
                    category=category,
                    summary=summary,
                    reporter_name=self.name(),
                    reporter_phone=self.phone(),
                )
                if n % 2:
                    incidents.close_incident(lead, incident, reason="现场调解完毕，双方无异议。")
                self.progress(n + 1, count)
                continue
            category, kind, summary, title = SCENARIOS[n % len(SCENARIOS)]
            reporter = self.name()
            incident = incidents.register_incident(
                lead,
                channel=self.rng.choice(Channel.values),
                received_at=received,
                place=self.place(),
                category=category,
                summary=summary,
                reporter_name=reporter,
                reporter_phone=self.phone(),
                reporter_id_number=self.id_number() if n % 2 else "",
            )
            stage = self.rng.random()
            if stage < 0.12:  # still an open incident, waiting for the officer
                self.progress(n + 1, count)
                continue
            case = incidents.convert_to_case(
                lead,
                incident,
                kind=kind,
                title=f"{incident.place[6:14]}{title}",
                secret=n % 97 == 0,
            )
            cases.assign_officer(lead, case, partner, AssignmentRole.ASSISTING)
            if case.secret:  # nobody supervises a secret case unless assigned to it
                cases.assign_officer(lead, case, legal, AssignmentRole.SUPERVISOR)
            if category not in {"theft", "fraud"} or n % 4 == 0:
                cases.add_party(
                    lead,
                    case,
                    role=PartyRole.SUSPECT,
                    name=self.name(),
                    id_number=self.id_number(minor=n % 11 == 0),
                )
            if category in {"assault", "injury", "fraud", "theft"}:
                cases.add_party(
                    lead,
                    case,
                    role=PartyRole.VICTIM,
                    name=self.name(),
                    id_number=self.id_number(),
                    phone=self.phone(),
                )
            if n % 5 == 0:
                cases.add_party(
                    lead, case, role=PartyRole.WITNESS, name=self.name(), phone=self.phone()
                )
            self._advance(case, lead, partner, legal, stage)
            self._measures(case, lead, partner)
            self.progress(n + 1, count)

    def _advance(self, case, lead: User, partner: User, legal: User, stage: float) -> None:
        def step(actor: User, name: str, reason: str = "", officers=()) -> None:
            nonlocal case
            case.refresh_from_db(fields=["version"])
            case = cases.transition_case(
                actor, case, name, expected_version=case.version, reason=reason, officers=officers
            )

        if stage < 0.3:
            return
        if case.kind == CaseKind.CRIMINAL:
            if stage < 0.36:
                step(legal, "refuse_filing", "经审查，没有犯罪事实，不予立案。")
                return
            demo_dossiers.registration_form(case, lead, legal)
            step(lead, "file", "经审查，有犯罪事实需要追究刑事责任，决定立案。")
            if stage < 0.45:
                return
            step(lead, "start_investigation", officers=[lead, partner])
            demo_dossiers.records(case, lead, legal, self.rng, settled=stage >= 0.7)
            if stage < 0.7:
                return
            self._reviewed(case, lead, legal, "prosecution_opinion")
            step(legal, "transfer_for_prosecution", "经法制审核，犯罪事实清楚，证据确实充分。")
        else:
            step(lead, "start_investigation", officers=[lead, partner])
            demo_dossiers.records(case, lead, legal, self.rng, settled=stage >= 0.6)
            if stage < 0.6:
                return
            self._reviewed(case, lead, legal, "admin_decision")
            step(legal, "decide", "依法作出行政拘留五日并处罚款的决定。")
        if stage > 0.85:
            step(lead, "close")
        assert case.state in CaseState.values

    def lend_dossiers(self, users: dict[str, User]) -> None:
        """A few investigating cases' paper dossiers lent to their lead officers."""
        manager = users["chenjing"]
        out = list(
            Case.objects.filter(
                organisation=manager.organisation, state=CaseState.INVESTIGATING, secret=False
            ).order_by("pk")[:4]
        )
        leads = {
            a.case_id: a.user
            for a in Assignment.objects.filter(
                case__in=out, role=AssignmentRole.LEAD, ended_at__isnull=True
            ).select_related("user")
        }
        with transaction.atomic():
            demo_dossiers.loans(out, manager, leads)

    @staticmethod
    def _reviewed(case, lead: User, legal: User, kind: str) -> None:
        """The step's document generated into the dossier and approved by legal affairs."""
        document = dossiers.generate(lead, case, kind)
        dossiers.review(legal, document, decision="approved", version=document.versions_count)

    def _measures(self, case, lead: User, partner: User) -> None:
        """Coercive measures in every state, with clocks met, running and breached."""
        case.refresh_from_db()
        suspect = case.parties.filter(role=PartyRole.SUSPECT).first()
        if suspect is None or case.state in (CaseState.ACCEPTED, CaseState.NOT_FILED):
            return
        now, team, rng = timezone.now(), [lead, partner], self.rng

        def moment(m, kind: str, hours_after: float) -> None:
            at = m.started_at + timedelta(hours=hours_after)
            if at < now:
                measures.record_moment(lead, m, kind, at=at)

        if case.kind == CaseKind.ADMINISTRATIVE:
            arrived = now - timedelta(hours=rng.uniform(3, 60))
            summons = measures.start_measure(
                lead, case, suspect, MeasureKind.SUMMONS, started_at=arrived, officers=team
            )
            moment(summons, "family_notified", rng.choice([0.5, 0.8, 1.6]))
            if case.state == CaseState.INVESTIGATING and rng.random() < 0.85:
                if arrived + timedelta(hours=6) < now:
                    measures.end_measure(
                        lead, summons, at=arrived + timedelta(hours=6), reason="询问查证完毕，离开"
                    )
            elif case.state == CaseState.DECIDED and arrived + timedelta(hours=7) < now:
                measures.start_measure(
                    lead,
                    case,
                    suspect,
                    MeasureKind.ADMIN_DETENTION,
                    started_at=arrived + timedelta(hours=7),
                    officers=team,
                    term_days=rng.choice([5, 7, 10]),
                )
            return
        if case.state == CaseState.FILED:
            measures.start_measure(
                lead,
                case,
                suspect,
                MeasureKind.BAIL,
                started_at=now - timedelta(days=rng.uniform(1, 300)),
                officers=team,
            )
            return
        detained = now - timedelta(hours=rng.uniform(2, 80))
        detention = measures.start_measure(
            lead, case, suspect, MeasureKind.CRIMINAL_DETENTION, started_at=detained, officers=team
        )
        if rng.random() < 0.85:  # most notify in time; the rest are breaches to supervise
            moment(detention, "family_notified", rng.uniform(1, 20))
        moment(detention, "interrogated", rng.uniform(0.5, 12))
        moment(detention, "sent_to_house", rng.uniform(2, 20))
        if case.state == CaseState.TRANSFERRED or (
            case.state == CaseState.CLOSED and detained + timedelta(days=3) < now
        ):
            moment(detention, "arrest_requested", 60)
            moment(detention, "arrest_approved", 75)

    def live_scenario(self, users: dict[str, User]) -> None:
        """Clocks that warn and breach in the next minutes, made anew at each start:
        a newcomer watches them arrive in the browser (the worker runs beside the UI)."""
        lead, partner, now = users["zhangwei"], users["lina"], timezone.now()
        case = cases.accept_case(
            lead,
            kind=CaseKind.CRIMINAL,
            category="injury",
            title="中关村大街聚众斗殴案（演示：实时预警）",
            occurred_at=now - timedelta(hours=25),
            place="北京市海淀区中关村大街",
        )
        cases.assign_officer(lead, case, partner, AssignmentRole.ASSISTING)
        first = cases.add_party(
            lead, case, role=PartyRole.SUSPECT, name=self.name(), id_number=self.id_number()
        )
        second = cases.add_party(
            lead, case, role=PartyRole.SUSPECT, name=self.name(), id_number=self.id_number()
        )
        # the victim a newcomer prints a receipt for (docs/portal.md): phone digits 1234
        cases.add_party(
            lead,
            case,
            role=PartyRole.VICTIM,
            name=self.name(),
            phone="13900001234",
            email="victim@example.cn",
        )
        # first suspect: "send to the detention house" (24 h) warns 90 s from now
        one = measures.start_measure(
            lead,
            case,
            first,
            MeasureKind.CRIMINAL_DETENTION,
            started_at=now - timedelta(hours=22, seconds=-90),
            officers=[lead, partner],
        )
        measures.record_moment(lead, one, "family_notified", at=one.started_at + timedelta(hours=1))
        measures.record_moment(lead, one, "interrogated", at=one.started_at + timedelta(hours=2))
        # second suspect: "notify the family" (24 h) breaches 150 s from now
        two = measures.start_measure(
            lead,
            case,
            second,
            MeasureKind.CRIMINAL_DETENTION,
            started_at=now - timedelta(hours=24, seconds=-150),
            officers=[lead, partner],
        )
        measures.record_moment(lead, two, "interrogated", at=two.started_at + timedelta(hours=3))
        measures.record_moment(lead, two, "sent_to_house", at=two.started_at + timedelta(hours=5))


def load(count: int = 300, progress: Callable[[int, int], None] | None = None) -> dict[str, User]:
    builder = DemoBuilder(progress=progress)
    users = builder.organisations_and_users()
    ensure_demo_authenticators(users)  # MFA of admin, legal affairs, commander: demo/mfa.py
    builder.cases(users, count)
    builder.lend_dossiers(users)  # paper dossiers out, one overdue
    PropertyBuilder(builder.rng, users).build()  # the center's rooms and seized items
    portal.build(builder.rng)  # receipts, ratings, messages (three overdue)
    center = custody.build_center(users)  # the area's plan, cameras, wristbands, badges
    custody.build_stays(builder.rng, users, center)  # people in the area, walking
    fasttrack.build(builder.rng, users, builder.person)  # the 48-hour track, hand-overs
    meetings.build(builder.rng, users)  # remote lawyer meetings at the detention centre
    assistance.build(builder.rng, users)  # three-level response: requests for help
    run_once()  # alerts for the clocks that came due in the demo's past
    return users
