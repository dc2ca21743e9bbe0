"""The rule catalogue's clocks at their boundaries (LAW.md "Rule catalogue").

Every clocked rule of ``law.RULES`` and every variant is checked against a due
moment written out by hand from LAW.md, for one trigger: Tuesday 2025-03-11
09:20, Beijing time. The dates it reaches are ordinary working days except
where a comment says otherwise, so each row tests the rule's own period; the
holiday rule and the in-custody exception have their own tests below.

"Due" means what the worker means: a clock is due from its ``ends_at`` on
(``now >= ends_at``). A minute before, it is not: an hour clock has one
minute left to run, a day clock is still on its last day at 23:59.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casecenter import law
from casecenter.law import SHANGHAI, LawError, UnknownCalendarYear
from casecenter.law.periods import NOT_CONSULTED_CUSTODY, NOT_CONSULTED_HOURS

MINUTE = timedelta(minutes=1)


def at(text: str) -> datetime:
    """A Beijing-time instant from ``YYYY-MM-DD HH:MM``."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def is_due(result: law.PeriodResult, now: datetime) -> bool:
    """The worker's test: a clock is due from its end on."""
    return now >= result.ends_at


TRIGGER = at("2025-03-11 09:20")  # a Tuesday

#: (rule, variant) → the moment the clock falls due for ``TRIGGER``.
#: Hour rules: to the minute. Day and month rules: 00:00 after the last day.
EXPECTED: dict[tuple[str, str], datetime] = {
    # CPL Art. 119: 12 h; 24 h for a major, complex case
    ("summons.criminal", "default"): at("2025-03-11 21:20"),
    ("summons.criminal", "major_complex"): at("2025-03-12 09:20"),
    # PSAPL: 8 h; 24 h where administrative detention may follow
    ("summons.admin", "default"): at("2025-03-11 17:20"),
    ("summons.admin", "detention_possible"): at("2025-03-12 09:20"),
    ("summons.notify_family", "default"): at("2025-03-11 10:20"),
    # CPL Art. 85, 86: 24 h after detention
    ("detention.to_house", "default"): at("2025-03-12 09:20"),
    ("detention.notify_family", "default"): at("2025-03-12 09:20"),
    ("detention.interrogate", "default"): at("2025-03-12 09:20"),
    # CPL Art. 91: 3 days; special 7 days; roving, repeated, gang crime 30 days
    ("detention.arrest_request", "default"): at("2025-03-15 00:00"),  # last day Fri 03-14
    ("detention.arrest_request", "special"): at("2025-03-19 00:00"),  # Tue 03-18
    ("detention.arrest_request", "roving_gang"): at("2025-04-11 00:00"),  # Thu 04-10
    ("arrest.decision", "default"): at("2025-03-19 00:00"),
    # CPL Art. 93, 94: 24 h after arrest
    ("arrest.notify_family", "default"): at("2025-03-12 09:20"),
    ("arrest.interrogate", "default"): at("2025-03-12 09:20"),
    # CPL Art. 156: 2 months; 3 months extended. In custody: Sun 05-11 is not extended.
    ("investigation.custody", "default"): at("2025-05-12 00:00"),
    ("investigation.custody", "extended"): at("2025-06-12 00:00"),  # Wed 06-11
    # CPL Art. 79: bail 12 months, surveillance 6 months
    ("bail.max", "default"): at("2026-03-12 00:00"),  # Wed 2026-03-11
    ("surveillance.max", "default"): at("2025-09-12 00:00"),  # Thu 09-11
    ("surveillance.notify_family", "default"): at("2025-03-12 09:20"),
    # filing after acceptance: 3 days; 7 to verify the lead; 30 for major cases
    ("filing.review", "default"): at("2025-03-15 00:00"),
    ("filing.review", "verify"): at("2025-03-19 00:00"),
    ("filing.review", "major"): at("2025-04-11 00:00"),
    # administrative case: 30 days; 60 extended. 60 days reach Sat 05-10, a rest
    # day after Labour Day, so the last day is Mon 05-12 (not in custody).
    ("admin_case.handle", "default"): at("2025-04-11 00:00"),
    ("admin_case.handle", "extended"): at("2025-05-13 00:00"),
    # a 5-day administrative detention ends Sun 03-16: in custody, not extended
    ("admin_detention.release", "default"): at("2025-03-17 00:00"),
    # CPL Art. 172: 1 month (in custody)
    ("prosecution.review", "default"): at("2025-04-12 00:00"),  # Fri 04-11
    # fast track: 10 days; 15 if the sentence may exceed a year
    ("fast_track.review", "default"): at("2025-03-22 00:00"),  # Fri 03-21
    ("fast_track.review", "long_sentence"): at("2025-03-27 00:00"),  # Wed 03-26
    ("fast_track.trial", "default"): at("2025-03-22 00:00"),
    ("fast_track.trial", "long_sentence"): at("2025-03-27 00:00"),
    ("fast_track.48h", "default"): at("2025-03-13 09:20"),
    ("lawyer.meeting", "default"): at("2025-03-13 09:20"),  # CPL Art. 39: 48 h
    ("legal_aid.notify", "default"): at("2025-03-15 00:00"),
    ("legal_aid.assign", "default"): at("2025-03-15 00:00"),
    ("property.hand_over", "default"): at("2025-03-12 09:20"),
    ("property.return", "default"): at("2025-03-19 00:00"),
    ("property.dispose", "default"): at("2025-04-11 00:00"),
    # 3 working days: Wed 03-12, Thu 03-13, Fri 03-14
    ("portal.message_reply", "default"): at("2025-03-15 00:00"),
    ("dossier.return", "default"): at("2025-03-19 00:00"),
    # hand-over packages are signed for within 24 h (policy)
    ("exchange.receive", "default"): at("2025-03-12 09:20"),
    # three-level response (policy): 1 h, 4 h, 24 h
    ("response.level1", "default"): at("2025-03-11 10:20"),
    ("response.level2", "default"): at("2025-03-11 13:20"),
    ("response.level3", "default"): at("2025-03-12 09:20"),
    ("dsr.answer", "default"): at("2025-03-27 00:00"),
}

CLOCKED = [(code, v) for code, spec in law.RULES.items() for v in spec.periods]
UNCLOCKED = [code for code, spec in law.RULES.items() if not spec.clocked]


def test_every_clocked_rule_and_variant_has_an_expected_due_moment():
    assert sorted(EXPECTED) == sorted(CLOCKED)


@pytest.mark.parametrize(("code", "variant"), CLOCKED, ids=[f"{c}[{v}]" for c, v in CLOCKED])
def test_a_clock_is_due_exactly_at_its_end_and_not_a_minute_before(code, variant):
    expected = EXPECTED[(code, variant)]
    result = law.due(code, TRIGGER, variant=variant)

    assert result.ends_at == expected
    assert is_due(result, expected) is True
    assert is_due(result, expected - MINUTE) is False
    period = law.RULES[code].period(variant)
    if period.unit == "hour":
        # to the minute: a trigger one minute later is due one minute later
        assert expected - TRIGGER == timedelta(hours=period.length)
        assert law.due(code, TRIGGER + MINUTE, variant=variant).ends_at == expected + MINUTE
        assert result.last_day is None
    else:
        # 24:00 of the last day: at 23:59 the last day is still running
        assert result.last_day is not None
        assert expected == datetime.combine(result.last_day + timedelta(days=1), time(0), SHANGHAI)
        before = (expected - MINUTE).astimezone(SHANGHAI)
        assert (before.date(), before.time()) == (result.last_day, time(23, 59))


@pytest.mark.parametrize(
    "code", sorted({c for c, _ in CLOCKED if law.RULES[c].period().unit == "day"})
)
def test_the_day_of_the_trigger_is_not_counted(code):
    late = law.due(code, at("2025-03-10 23:59"))
    early = law.due(code, at("2025-03-11 00:00"))

    assert early.ends_at == law.due(code, TRIGGER).ends_at  # the hour of the day is irrelevant
    assert early.unextended_last_day is not None and late.unextended_last_day is not None
    assert early.unextended_last_day - late.unextended_last_day == timedelta(days=1)


def test_the_due_moment_is_the_same_instant_whatever_zone_the_trigger_is_given_in():
    in_utc = TRIGGER.astimezone(UTC)
    in_new_york = TRIGGER.astimezone(ZoneInfo("America/New_York"))

    for code, variant in CLOCKED:
        expected = EXPECTED[(code, variant)]
        assert law.due(code, in_utc, variant=variant).ends_at == expected
        assert law.due(code, in_new_york, variant=variant).ends_at == expected


# --- holidays and custody (LAW.md worked examples) --------------------------------


def test_filing_review_ending_on_national_day_extends_to_the_first_working_day():
    result = law.due("filing.review", at("2026-09-28 10:00"))

    assert result.unextended_last_day == date(2026, 10, 1)
    assert result.last_day == date(2026, 10, 8)
    assert result.extended_by_holiday is True
    assert result.ends_at == at("2026-10-09 00:00")
    assert not is_due(result, at("2026-10-08 23:59"))


def test_arrest_request_in_custody_ends_on_national_day_without_extension():
    result = law.due("detention.arrest_request", at("2026-09-28 10:00"))

    assert result.last_day == date(2026, 10, 1)
    assert result.extended_by_holiday is False
    assert result.calendar == NOT_CONSULTED_CUSTODY
    assert result.ends_at == at("2026-10-02 00:00")
    assert is_due(result, at("2026-10-02 00:00"))
    assert not is_due(result, at("2026-10-01 23:59"))


def test_a_non_custody_clock_ending_on_a_make_up_working_saturday_is_not_extended():
    # 2026-10-10 is a Saturday worked in exchange for National Day (调休)
    result = law.due("dossier.return", at("2026-10-03 09:00"))

    assert result.last_day == date(2026, 10, 10)
    assert result.extended_by_holiday is False
    assert result.ends_at == at("2026-10-11 00:00")


def test_investigation_custody_counts_two_months_to_the_same_day():
    result = law.due("investigation.custody", at("2026-03-15 11:00"))

    assert result.last_day == date(2026, 5, 15)
    assert result.ends_at == at("2026-05-16 00:00")


def test_investigation_custody_from_a_month_end_ends_on_the_target_month_end():
    assert law.due("investigation.custody", at("2025-12-31 08:00")).last_day == date(2026, 2, 28)
    assert law.due("investigation.custody", at("2024-12-30 08:00")).last_day == date(2025, 2, 28)
    assert law.due("investigation.custody", at("2026-01-31 08:00")).last_day == date(2026, 3, 31)


def test_investigation_custody_extended_to_three_months():
    default = law.due("investigation.custody", at("2026-03-15 11:00"))
    extended = law.due("investigation.custody", at("2026-03-15 11:00"), variant="extended")

    assert extended.last_day == date(2026, 6, 15)
    assert extended.ends_at == at("2026-06-16 00:00")
    assert extended.ends_at > default.ends_at
    assert extended.calendar == NOT_CONSULTED_CUSTODY


def test_a_24_hour_summons_across_national_day_runs_to_the_minute():
    result = law.due("summons.criminal", at("2026-09-30 22:00"), variant="major_complex")

    assert result.ends_at == at("2026-10-01 22:00")
    assert result.calendar == NOT_CONSULTED_HOURS
    assert not is_due(result, at("2026-10-01 21:59"))
    assert is_due(result, at("2026-10-01 22:00"))


def test_arrest_request_variants_special_seven_days_and_roving_gang_thirty():
    detained = at("2026-09-28 10:00")

    assert law.due("detention.arrest_request", detained, variant="special").ends_at == at(
        "2026-10-06 00:00"  # Mon 10-05, a holiday, but in custody
    )
    assert law.due("detention.arrest_request", detained, variant="roving_gang").ends_at == at(
        "2026-10-29 00:00"
    )


def test_a_policy_period_set_by_an_administrator_replaces_the_default():
    result = law.due("portal.message_reply", TRIGGER, period=law.Period(5, "day"))

    assert result.last_day == date(2025, 3, 17)  # Sun 03-16 is a rest day: Mon 03-17
    assert result.unextended_last_day == date(2025, 3, 16)
    assert result.ends_at == at("2025-03-18 00:00")


def test_a_party_message_is_answered_within_three_working_days():
    assert law.rule("portal.message_reply").period() == law.Period(3, "workday")

    result = law.due("portal.message_reply", at("2025-03-14 17:30"))  # a Friday

    assert result.last_day == date(2025, 3, 19)  # Mon 17, Tue 18, Wed 19
    assert result.ends_at == at("2025-03-20 00:00")


def test_no_custody_clock_counts_working_days():
    for spec in law.RULES.values():
        if spec.in_custody:
            assert all(p.unit != "workday" for p in spec.periods.values()), spec.code


def test_a_custody_clock_given_working_days_is_refused():
    with pytest.raises(LawError) as error:
        law.due("admin_detention.release", TRIGGER, period=law.Period(5, "workday"))

    assert error.value.code == "period.workday_custody"


@pytest.mark.parametrize(
    ("period", "en", "zh"),
    [
        (law.Period(1, "hour"), "1 hour", "1小时"),
        (law.Period(3, "day"), "3 days", "3日"),
        (law.Period(2, "month"), "2 months", "2个月"),
        (law.Period(1, "workday"), "1 working day", "1个工作日"),
        (law.Period(3, "workday"), "3 working days", "3个工作日"),
    ],
)
def test_a_period_describes_itself_in_both_languages(period, en, zh):
    assert (period.describe_en(), period.describe_zh()) == (en, zh)


def test_a_non_custody_clock_needing_an_unknown_year_says_so():
    # chinese-calendar 1.11 knows up to 2026; bail from 2026-06 reaches 2027
    with pytest.raises(UnknownCalendarYear):
        law.due("bail.max", at("2026-06-01 10:00"))


def test_an_in_custody_clock_needs_no_calendar_even_in_an_unknown_year():
    result = law.due("investigation.custody", at("2026-12-15 10:00"), variant="extended")

    assert result.last_day == date(2027, 3, 15)


# --- errors -----------------------------------------------------------------------


def test_an_unknown_rule_is_refused():
    with pytest.raises(LawError) as error:
        law.due("summons.forever", TRIGGER)

    assert error.value.code == "rule.unknown"
    assert "summons.forever" in error.value.message_en
    assert error.value.message_zh


def test_an_unknown_variant_is_refused():
    with pytest.raises(LawError) as error:
        law.due("summons.criminal", TRIGGER, variant="roving_gang")

    assert error.value.code == "rule.variant"
    assert "roving_gang" in error.value.message_en


@pytest.mark.parametrize("code", UNCLOCKED)
def test_a_rule_without_a_clock_cannot_fall_due(code):
    with pytest.raises(LawError) as error:
        law.due(code, TRIGGER)

    assert error.value.code == "rule.no_clock"


def test_the_catalogue_lists_the_unclocked_rules_of_law_md():
    assert set(UNCLOCKED) == {
        "summons.rest",
        "juvenile.appropriate_adult",
        "juvenile.sealing",
        "custody.recording",
        "custody.separation",
        "custody.two_officers",
        # the custody area's other live rules (F3.4, F3.5), not yet in LAW.md's table
        "custody.juvenile_room",
        "custody.lawyer_audio",
        "custody.vitals",
        "custody.strap",
        # fast-track stage targets: each clock's due moment is capture + its stage's hours
        "fast_track.stage",
        # a break-glass read alerts the officer's supervisors at once (no clock)
        "access.break_glass",
    }


# --- properties -------------------------------------------------------------------

ZONES = st.sampled_from(
    [SHANGHAI, UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=14))]
)
TRIGGERS = st.datetimes(
    min_value=datetime(2004, 1, 1), max_value=datetime(2026, 12, 31, 23, 59), timezones=ZONES
)


@given(rule=st.sampled_from(CLOCKED), trigger=TRIGGERS)
def test_every_clock_ends_after_its_trigger_and_custody_clocks_are_never_extended(rule, trigger):
    code, variant = rule
    spec = law.RULES[code]
    period = spec.period(variant)
    try:
        result = law.due(code, trigger, variant=variant)
    except UnknownCalendarYear:
        # only a non-custody day or month clock whose last day lies past the
        # package's years may need a calendar nobody loaded — and it says so
        assert not spec.in_custody and period.unit != "hour"
        if period.unit == "workday":
            # fewer than N working days are left after the trigger in the package's last year
            calendar, day = law.WorkCalendar(), trigger.astimezone(SHANGHAI).date()
            left = 0
            while (day := day + timedelta(days=1)) <= date(2026, 12, 31):
                left += not calendar.is_rest_day(day)
            assert left < period.length
            return
        plain = law.compute_period(trigger, period.length, period.unit, in_custody=True)
        assert plain.last_day is not None and plain.last_day.year > 2026
        return

    assert result.ends_at > trigger
    if period.unit == "hour":
        assert result.ends_at - trigger == timedelta(hours=period.length)
    if spec.in_custody:
        assert result.extended_by_holiday is False
        assert result.last_day == result.unextended_last_day
        assert result.calendar == NOT_CONSULTED_CUSTODY
    elif period.unit != "hour":
        assert result.last_day is not None and result.unextended_last_day is not None
        assert result.last_day >= result.unextended_last_day
