"""The fast track's eligibility (CPL Art. 222–223) and stage targets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casecenter.law import SHANGHAI, fasttrack

ELIGIBLE = dict(
    admits_guilt=True, facts_clear=True, expected_sentence_months=4, no_exclusion=True, minor=False
)


def test_a_drunk_driver_who_admits_guilt_may_take_the_fast_track():
    assert fasttrack.eligibility_problems(**ELIGIBLE) == []


@pytest.mark.parametrize(
    ("change", "code", "basis"),
    [
        ({"admits_guilt": False}, "fast_track.no_admission", "CPL Art. 222"),
        ({"facts_clear": False}, "fast_track.facts", "CPL Art. 222"),
        ({"expected_sentence_months": 37}, "fast_track.sentence", "CPL Art. 222"),
        ({"expected_sentence_months": -1}, "fast_track.sentence", "CPL Art. 222"),
        ({"minor": True}, "fast_track.minor", "CPL Art. 223"),
        ({"no_exclusion": False}, "fast_track.exclusion", "CPL Art. 223"),
    ],
)
def test_each_condition_closes_the_track_with_its_article(change, code, basis):
    problems = fasttrack.eligibility_problems(**{**ELIGIBLE, **change})
    assert [(p.code, p.basis) for p in problems] == [(code, basis)]
    assert problems[0].message_zh and problems[0].message_en


def test_three_years_is_the_limit_and_one_year_switches_to_fifteen_days():
    assert fasttrack.eligibility_problems(**{**ELIGIBLE, "expected_sentence_months": 36}) == []
    assert fasttrack.review_variant(12) == "default"
    assert fasttrack.review_variant(13) == "long_sentence"


@given(
    admits=st.booleans(),
    clear=st.booleans(),
    months=st.integers(-5, 120),
    no_exclusion=st.booleans(),
    minor=st.booleans(),
)
def test_open_exactly_when_every_condition_holds(admits, clear, months, no_exclusion, minor):
    problems = fasttrack.eligibility_problems(
        admits_guilt=admits,
        facts_clear=clear,
        expected_sentence_months=months,
        no_exclusion=no_exclusion,
        minor=minor,
    )
    open_ = admits and clear and 0 <= months <= 36 and no_exclusion and not minor
    assert (problems == []) == open_
    assert len({p.code for p in problems}) == len(problems)  # each reason once


def test_default_targets_reach_judgment_at_48_hours():
    captured = datetime(2026, 3, 31, 21, 40, tzinfo=SHANGHAI)
    due = fasttrack.targets(captured)
    assert list(due) == [
        "eligible",
        "submitted",
        "lawyer_assigned",
        "lawyer_met",
        "indicted",
        "hearing",
        "judgment",
    ]
    assert due["judgment"] - captured == timedelta(hours=48)
    assert due["submitted"] == datetime(2026, 4, 1, 21, 40, tzinfo=SHANGHAI)


@given(
    hours=st.dictionaries(
        st.sampled_from(list(fasttrack.DEFAULT_TARGETS)), st.integers(0, 400), max_size=7
    ),
    offset=st.integers(-12, 14),
)
def test_tuned_targets_never_put_a_later_stage_before_an_earlier_one(hours, offset):
    captured = datetime(2026, 5, 1, 3, 0, tzinfo=UTC) + timedelta(hours=offset)
    due = list(fasttrack.targets(captured, hours).values())
    assert due == sorted(due)
    assert all(moment >= captured for moment in due)


def test_a_moment_of_capture_without_its_zone_is_refused():
    with pytest.raises(ValueError):
        fasttrack.targets(datetime(2026, 3, 31, 21, 40))


def test_stages_run_police_legal_aid_procuratorate_court_and_back():
    assert fasttrack.STAGE_CODES[0] == "captured" and fasttrack.STAGE_CODES[-1] == "closed"
    assert [fasttrack.stage(c).by for c in ("submitted", "lawyer_met", "indicted", "judgment")] == [
        "police",
        "legal_aid",
        "procuratorate",
        "court",
    ]
    assert (
        fasttrack.hours_between(
            datetime(2026, 3, 31, 21, 40, tzinfo=SHANGHAI),
            datetime(2026, 4, 2, 3, 40, tzinfo=SHANGHAI),
        )
        == 30.0
    )
