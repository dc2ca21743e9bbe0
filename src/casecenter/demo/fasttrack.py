"""The demo's fast tracks and hand-overs: drunk-driving cases in every stage of the
48-hour track — the first the seed's (caught at night, judged 30 hours later),
one past its 48 hours, one returned once by the procuratorate, one moved to the
ordinary procedure — ordinary transfers for prosecution in every state, and a
fresh case, made again at each start, that a newcomer walks through the whole
track as the police, legal aid, the procuratorate and the court.

Every step is the services' own, placed in the past with their ``at`` moments.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from casecenter.accounts.models import Organisation, User
from casecenter.cases import services as cases
from casecenter.cases.models import AssignmentRole, Case, CaseKind, CaseState, PartyRole
from casecenter.demo import dossiers as demo_dossiers
from casecenter.dossiers import services as dossiers
from casecenter.dossiers.models import Document, ReviewState
from casecenter.exchange import sending, steps
from casecenter.exchange import services as exchange
from casecenter.exchange.models import Matter, Package, PackageKind
from casecenter.fasttrack import services as fasttrack
from casecenter.fasttrack.models import FastTrack

#: the title that marks the newcomer's case (docs/fasttrack.md, README)
READY_TITLE = "马某某危险驾驶案（演示：速裁待办）"
SEED_TITLE = "马某危险驾驶案（3月31日夜查获，30小时判决）"
VERDICT = "被告人{name}犯危险驾驶罪，判处拘役{months}个月，并处罚金人民币{fine}元。"
PLACE = "海淀分局执法办案管理中心（就地开庭）"
H = timedelta(hours=1)


class FastTrackDemo:
    def __init__(
        self, rng: random.Random, users: dict[str, User], person: Callable[[], tuple[str, str]]
    ):
        self.rng, self.users, self.person = rng, users, person
        self.orgs = {o.code: o for o in Organisation.objects.all()}
        self.lead, self.partner = users["zhangwei"], users["lina"]
        self.legal = users["sunli"]

    # --- a case ready for the track --------------------------------------------------

    def drunk_driving_case(self, title: str, caught: datetime, *, blood: bool = True) -> Case:
        """A dangerous-driving case caught at ``caught``: filed, under investigation,
        its records and the blood-alcohol appraisal in the dossier, approved."""
        name, id_number = self.person()
        case = cases.accept_case(
            self.lead,
            kind=CaseKind.CRIMINAL,
            category="dangerous_driving",
            title=title,
            summary=(
                f"{caught:%m月%d日}夜，犯罪嫌疑人{name}酒后驾驶小型轿车行驶至北四环西路时被"
                "执勤民警查获，经呼气酒精检测，涉嫌醉酒驾驶机动车。"
            ),
            occurred_at=caught,
            place="北京市海淀区北四环西路",
        )
        cases.assign_officer(self.lead, case, self.partner, AssignmentRole.ASSISTING)
        cases.add_party(self.lead, case, role=PartyRole.SUSPECT, name=name, id_number=id_number)
        demo_dossiers.registration_form(case, self.lead, self.legal)
        case = self._step(case, self.lead, "file", "经审查，涉嫌危险驾驶罪，决定立案。")
        case = self._step(
            case, self.lead, "start_investigation", officers=[self.lead, self.partner]
        )
        records = [("interrogation_record", "讯问笔录（第一次）")]
        if blood:
            records.append(("appraisal_opinion", "血液酒精含量检验鉴定书"))
        for kind, title_ in records:
            document = dossiers.add_case_document(
                self.lead,
                case,
                kind=kind,
                title=title_,
                chunks=[demo_dossiers.scanned_page(title_, case)],
                filename=f"{title_}.pdf",
                at=caught + H,
            )
            dossiers.review(
                self.legal, document, decision="approved", version=1, at=caught + 1.5 * H
            )
        return case

    @staticmethod
    def _step(case: Case, actor: User, name: str, reason: str = "", officers=()) -> Case:
        case.refresh_from_db(fields=["version"])
        return cases.transition_case(
            actor, case, name, expected_version=case.version, reason=reason, officers=officers
        )

    def start(self, case: Case, caught: datetime, months: int = 2) -> FastTrack:
        return fasttrack.start(
            self.lead,
            case,
            suspect=case.parties.get(role=PartyRole.SUSPECT),
            captured_at=caught,
            admits_guilt=True,
            facts_clear=True,
            expected_sentence_months=months,
            no_exclusion=True,
            at=caught + 5 * H,
        )

    def opinion(self, track: FastTrack, at: datetime) -> None:
        """The fast-track opinion generated, and everything approved by legal affairs."""
        dossiers.generate(self.lead, track.case, "fast_track_opinion", at=at)
        for document in Document.objects.filter(
            dossier__case=track.case, review_state=ReviewState.PENDING
        ):
            dossiers.review(
                self.legal,
                document,
                decision="approved",
                version=document.versions_count,
                at=at + H / 2,
            )

    # --- the partners' steps -------------------------------------------------------

    def take(self, user: User, package: Package, at: datetime) -> Matter | None:
        exchange.receive(user, package, at=at)
        return exchange.accept(user, package, at=at + H / 6).matter

    def legal_aid(
        self, track: FastTrack, notified: datetime, assigned: datetime | None, met: datetime | None
    ) -> Matter:
        notice = fasttrack.notify_legal_aid(
            self.lead, track, legal_aid=self.orgs["hd-fyzx"], at=notified
        )
        duty = self.users["zhengli"]
        matter = self.take(duty, notice, notified + H / 3)
        if assigned:
            steps.assign_lawyer(
                duty, matter, lawyer=self.users["hexin" if track.pk % 2 else "zhengli"], at=assigned
            )
        if met:
            lawyer = self.users["hexin" if track.pk % 2 else "zhengli"]
            steps.record_lawyer_meeting(
                lawyer,
                matter,
                mode="on_site" if track.pk % 3 else "remote",
                started_at=met,
                minutes=40,
            )
        return matter

    def submit(self, track: FastTrack, at: datetime) -> Package:
        return fasttrack.submit(self.legal, track, procuratorate=self.orgs["hd-jc"], at=at)

    def indict(self, review: Matter, at: datetime, months: int) -> Package:
        return steps.indict(
            self.users["zhoujian"],
            review,
            court=self.orgs["hd-fy"],
            charge="危险驾驶罪",
            proposal=f"拘役{months}个月，并处罚金人民币{1000 * (months + 2)}元",
            at=at,
        )

    def judge(
        self, trial: Matter, hearing: datetime, judgment: datetime, name: str, months: int
    ) -> None:
        judge = self.users["wufang"]
        steps.schedule_hearing(judge, trial, hearing_at=hearing, place=PLACE)
        steps.record_judgment(
            judge,
            trial,
            verdict=VERDICT.format(name=name, months=months, fine=1000 * (months + 2)),
            hearing_at=hearing,
            judgment_at=judgment,
        )

    def file_judgments(self, track: FastTrack, at: datetime) -> None:
        for package in Package.objects.filter(fast_track=track, kind=PackageKind.JUDGMENT):
            user = self.lead if package.receiver.code in ("zgc", "xyl") else self.users["zhoujian"]
            self.take(user, package, at)

    # --- the scenarios -------------------------------------------------------------

    def seed_case(self, now: datetime) -> FastTrack:
        """The seed: caught at 21:40, judged 30 hours later (次日起诉，当天就地开庭、当庭宣判)."""
        day = timezone.localtime(now - timedelta(days=3))
        c = day.replace(hour=21, minute=40, second=0, microsecond=0)
        case = self.drunk_driving_case(SEED_TITLE, c)
        track = self.start(case, c)
        name = case.parties.get(role=PartyRole.SUSPECT).person.name
        self.legal_aid(track, c + 6.5 * H, c + 11 * H, c + 13 * H)
        self.opinion(track, c + 8 * H)
        sent = self.submit(track, c + 10 * H)
        review = self.take(self.users["zhoujian"], sent, c + 10.5 * H)
        indictment = self.indict(review, c + 26 * H, 2)
        trial = self.take(self.users["wufang"], indictment, c + 26.5 * H)
        self.judge(trial, c + 29 * H, c + 30 * H, name, 2)
        self.file_judgments(track, c + 31 * H)
        return track

    def past_48_hours(self, now: datetime) -> FastTrack:
        """Late at every stage from the submission on: 60 hours and no indictment."""
        c = now - 60 * H
        case = self.drunk_driving_case("李某危险驾驶案", c)
        track = self.start(case, c)
        self.legal_aid(track, c + 26 * H, c + 34 * H, c + 40 * H)
        self.opinion(track, c + 27 * H)
        sent = self.submit(track, c + 30 * H)
        self.take(self.users["zhoujian"], sent, c + 31 * H)
        return track

    def returned_once(self, now: datetime) -> FastTrack:
        """The procuratorate returned the first package (the blood test was missing);
        the corrected dossier went again and waits for the indictment."""
        c = now - 20 * H
        case = self.drunk_driving_case("王某危险驾驶案", c, blood=False)
        track = self.start(case, c)
        self.legal_aid(track, c + 6 * H, c + 7 * H, c + 9 * H)
        self.opinion(track, c + 8 * H)
        first = self.submit(track, c + 10 * H)
        prosecutor = self.users["zhoujian"]
        exchange.receive(prosecutor, first, at=c + 11 * H)
        exchange.return_package(
            prosecutor,
            first,
            reasons="缺少血液酒精含量检验鉴定书，请补充后重新移送。",
            at=c + 11.5 * H,
        )
        blood = dossiers.add_case_document(
            self.lead,
            case,
            kind="appraisal_opinion",
            title="血液酒精含量检验鉴定书",
            chunks=[demo_dossiers.scanned_page("血液酒精含量检验鉴定书", case)],
            filename="血液酒精含量检验鉴定书.pdf",
            at=c + 13 * H,
        )
        dossiers.review(self.legal, blood, decision="approved", version=1, at=c + 13.5 * H)
        again = sending.resend(self.legal, first)
        self.take(prosecutor, again, now - 5 * H)
        return track

    def at_legal_aid(self, now: datetime) -> FastTrack:
        """Just started: legal aid notified and not yet signed for; opinion pending."""
        c = now - 9 * H
        case = self.drunk_driving_case("赵某危险驾驶案", c)
        track = self.start(case, c)
        fasttrack.notify_legal_aid(self.lead, track, legal_aid=self.orgs["hd-fyzx"], at=c + 6 * H)
        dossiers.generate(self.lead, case, "fast_track_opinion", at=c + 7 * H)
        return track

    def at_court(self, now: datetime) -> FastTrack:
        """Indicted; the court's hearing at the center is in an hour."""
        c = now - 40 * H
        case = self.drunk_driving_case("孙某危险驾驶案", c)
        track = self.start(case, c, months=3)
        self.legal_aid(track, c + 6 * H, c + 8 * H, c + 12 * H)
        self.opinion(track, c + 9 * H)
        sent = self.submit(track, c + 14 * H)
        review = self.take(self.users["zhoujian"], sent, c + 15 * H)
        indictment = self.indict(review, c + 34 * H, 3)
        trial = self.take(self.users["wufang"], indictment, c + 35 * H)
        steps.schedule_hearing(self.users["wufang"], trial, hearing_at=now + H, place=PLACE)
        return track

    def abandoned(self, now: datetime) -> FastTrack:
        c = now - timedelta(days=5)
        case = self.drunk_driving_case("周某危险驾驶案", c)
        track = self.start(case, c)
        self.legal_aid(track, c + 6 * H, c + 8 * H, None)
        fasttrack.abandon(
            self.lead,
            track,
            reason="犯罪嫌疑人翻供，不再认罪认罚，转为普通程序办理。",
            at=c + 20 * H,
        )
        return track

    def ordinary_transfers(self, now: datetime) -> int:
        """Transferred cases handed to the procuratorate: accepted (the month's
        review running), returned with reasons, one not yet signed for."""
        moved = 0
        transferred = Case.objects.filter(
            state=CaseState.TRANSFERRED, secret=False, organisation__code__in=["zgc", "xyl"]
        ).exclude(fast_track__isnull=False)
        for n, case in enumerate(transferred.order_by("pk")[:5]):
            sender = self.legal
            package = sending.send_from_case(
                sender,
                case,
                kind=PackageKind.PROSECUTION_REVIEW,
                receiver=self.orgs["hd-jc"],
                at=now - timedelta(days=6 - n),
            )
            prosecutor = self.users["zhoujian"]
            if n == 4:
                continue  # waiting in the procuratorate's inbox
            exchange.receive(prosecutor, package, at=package.sent_at + 2 * H)
            if n == 3:
                exchange.return_package(
                    prosecutor,
                    package,
                    reasons="被害人陈述与现场勘验笔录矛盾，请补充侦查。",
                    at=package.sent_at + 3 * H,
                )
            else:
                exchange.accept(prosecutor, package, at=package.sent_at + 3 * H)
            moved += 1
        return moved

    def build(self) -> list[FastTrack]:
        now = timezone.now()
        tracks = [
            self.seed_case(now),
            self.past_48_hours(now),
            self.returned_once(now),
            self.at_court(now),
            self.at_legal_aid(now),
            self.abandoned(now),
        ]
        self.ordinary_transfers(now)
        ready_case(self)
        return tracks


def ready_case(demo: FastTrackDemo) -> Case:
    """The newcomer's case: caught three hours ago, filed, under investigation, its
    records approved — nothing of the fast track done yet."""
    caught = timezone.now() - 3 * H
    return demo.drunk_driving_case(READY_TITLE, caught.replace(second=0, microsecond=0))


def ensure_ready_case(builder: Any, users: dict[str, User]) -> Case | None:
    """At each demo start: a fresh case to walk, unless one is still waiting
    (``builder`` names people: the demo's ``DemoBuilder``)."""
    waiting = Case.objects.filter(title=READY_TITLE, fast_track__isnull=True).first()
    if waiting is not None or not {"zhangwei", "lina", "sunli"} <= set(users):
        return waiting
    return ready_case(FastTrackDemo(builder.rng, users, builder.person))


def build(
    rng: random.Random, users: dict[str, User], person: Callable[[], tuple[str, str]]
) -> list[FastTrack]:
    return FastTrackDemo(rng, users, person).build()
