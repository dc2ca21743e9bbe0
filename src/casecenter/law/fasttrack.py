"""The fast-track procedure (速裁程序): who may take it, and its stages.

Eligibility (CPL Art. 222–223): a case in the basic court's jurisdiction that
may be sentenced to at most three years' fixed-term imprisonment, whose facts
are clear and evidence reliable and sufficient, where the suspect admits guilt
and accepts punishment (认罪认罚, CPL Art. 15) — and none of Art. 223's
exclusions applies; among them a defendant who is a minor (Art. 223(2)).
When the sentence may exceed one year, the procuratorate has 15 days instead
of 10 to decide (Art. 172) and the court 15 instead of 10 (Art. 225).

The 48-hour track from capture to judgment and its stage targets are Beijing
practice (the seed: a drunk driver held his judgment 30 hours after he was
caught), a local policy: the targets below are defaults an administrator tunes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

#: CPL Art. 222: "可能判处三年有期徒刑以下刑罚" — at most 36 months
MAX_SENTENCE_MONTHS = 36
#: CPL Art. 172 / 225: a sentence that may exceed one year gives 15 days, not 10
LONG_SENTENCE_MONTHS = 12
#: the whole track, capture to judgment (Beijing practice)
TRACK_HOURS = 48


@dataclass(frozen=True)
class Problem:
    """Why a case may not take the fast track, with the article it comes from."""

    code: str
    basis: str
    message_zh: str
    message_en: str


def eligibility_problems(
    *,
    admits_guilt: bool,
    facts_clear: bool,
    expected_sentence_months: int,
    no_exclusion: bool,
    minor: bool,
) -> list[Problem]:
    """Every reason the fast track is closed to the case (empty: it is open).

    ``admits_guilt``: the suspect admits guilt and accepts punishment;
    ``facts_clear``: the facts are clear, the evidence reliable and sufficient;
    ``expected_sentence_months``: the sentence the case may carry;
    ``no_exclusion``: the officer confirmed none of Art. 223's exclusions applies;
    ``minor``: the suspect was under 18 at the time of the act (computed, not asked).
    """
    problems = []
    if not admits_guilt:
        problems.append(
            Problem(
                "fast_track.no_admission",
                "CPL Art. 222",
                "犯罪嫌疑人未认罪认罚，不适用速裁程序。",
                "The suspect does not admit guilt and accept punishment.",
            )
        )
    if not facts_clear:
        problems.append(
            Problem(
                "fast_track.facts",
                "CPL Art. 222",
                "案件事实不清楚或证据不确实、充分，不适用速裁程序。",
                "The facts are not clear or the evidence is not sufficient.",
            )
        )
    if expected_sentence_months < 0:
        problems.append(
            Problem(
                "fast_track.sentence",
                "CPL Art. 222",
                "预计刑期不能为负数。",
                "The expected sentence cannot be negative.",
            )
        )
    elif expected_sentence_months > MAX_SENTENCE_MONTHS:
        problems.append(
            Problem(
                "fast_track.sentence",
                "CPL Art. 222",
                "可能判处三年有期徒刑以上刑罚的案件不适用速裁程序。",
                "A case that may carry more than three years' imprisonment cannot be fast-tracked.",
            )
        )
    if minor:
        problems.append(
            Problem(
                "fast_track.minor",
                "CPL Art. 223",
                "被告人是未成年人的，不适用速裁程序。",
                "The fast track is closed to a suspect who is a minor.",
            )
        )
    if not no_exclusion:
        problems.append(
            Problem(
                "fast_track.exclusion",
                "CPL Art. 223",
                "未确认不存在《刑事诉讼法》第二百二十三条规定的不适用情形。",
                "Nobody confirmed that none of CPL Art. 223's exclusions applies.",
            )
        )
    return problems


def review_variant(expected_sentence_months: int) -> str:
    """The period variant of ``fast_track.review`` and ``fast_track.trial``."""
    return "long_sentence" if expected_sentence_months > LONG_SENTENCE_MONTHS else "default"


@dataclass(frozen=True)
class Stage:
    """A stage of the track: who does it, and its default target in hours from capture
    (``None``: no target of its own)."""

    code: str
    name_zh: str
    name_en: str
    by: str  # the kind of organisation that completes it
    target_hours: int | None


STAGES: tuple[Stage, ...] = (
    Stage("captured", "抓获", "Captured", "police", 0),
    Stage("eligible", "适用速裁审查", "Eligibility confirmed", "police", 12),
    Stage("submitted", "提交检察机关", "Submitted to the procuratorate", "police", 24),
    Stage("lawyer_assigned", "指派值班律师", "Duty lawyer assigned", "legal_aid", 26),
    Stage("lawyer_met", "律师会见", "Lawyer met the suspect", "legal_aid", 30),
    Stage("indicted", "提起公诉", "Indicted", "procuratorate", 36),
    Stage("hearing", "就地开庭", "Hearing at the center", "court", 44),
    Stage("judgment", "当庭宣判", "Judgment", "court", TRACK_HOURS),
    Stage("closed", "结案", "Closed", "police", None),
)
STAGE_CODES = tuple(stage.code for stage in STAGES)
#: the default targets (hours after capture), as the supervision rule's tunable params
DEFAULT_TARGETS = {s.code: s.target_hours for s in STAGES if s.target_hours}


def stage(code: str) -> Stage:
    for candidate in STAGES:
        if candidate.code == code:
            return candidate
    raise KeyError(code)


def targets(captured_at: datetime, hours: dict[str, int] | None = None) -> dict[str, datetime]:
    """Each targeted stage's due moment: capture plus its hours (the tuned hours
    where given, else the defaults), never earlier than an earlier stage's."""
    if captured_at.tzinfo is None:
        raise ValueError("the moment of capture needs its time zone")
    chosen = {**DEFAULT_TARGETS, **(hours or {})}
    due: dict[str, datetime] = {}
    floor = 0
    for s in STAGES:
        if s.code not in chosen or s.code == "captured":
            continue
        floor = max(floor, int(chosen[s.code]))
        due[s.code] = captured_at + timedelta(hours=floor)
    return due


def hours_between(start: datetime, end: datetime) -> float:
    """Hours from ``start`` to ``end`` to one decimal, as the dashboard shows them."""
    return round((end - start).total_seconds() / 3600, 1)
