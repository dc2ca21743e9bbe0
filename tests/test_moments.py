"""A moment a user states is checked the same way by every service."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from casecenter.errors import InvalidInput
from casecenter.moments import LEEWAY, past_moment


def check(at):
    return past_moment(at, code="thing", what_zh="时间", what_en="time")


def test_no_moment_means_now_and_a_naive_one_is_local():
    before = timezone.now()
    assert before <= check(None) <= timezone.now()
    naive = datetime(2026, 3, 2, 10, 15)
    assert check(naive) == timezone.make_aware(naive)


@given(ahead=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_a_moment_past_the_leeway_is_refused_and_within_it_kept(ahead):
    at = timezone.now() + ahead
    if ahead > LEEWAY + timedelta(seconds=1):
        with pytest.raises(InvalidInput) as refused:
            check(at)
        assert refused.value.code == "thing.future"
    elif ahead < LEEWAY - timedelta(seconds=1):
        assert check(at) == at


def test_a_moment_before_1990_is_implausible():
    with pytest.raises(InvalidInput) as refused:
        check(timezone.make_aware(datetime(1989, 12, 31, 23, 0)))
    assert refused.value.code == "thing.implausible" and "有误" in refused.value.message_zh
    assert check(timezone.make_aware(datetime(1990, 1, 2))).year == 1990


@pytest.mark.django_db
def test_a_dossier_document_dated_tomorrow_is_refused_and_nothing_is_written(officers, make_case):
    from casecenter.dossiers import services
    from casecenter.dossiers.models import Document

    with pytest.raises(InvalidInput) as refused:
        services.add_case_document(
            officers["lead"],
            make_case(),
            kind="evidence",
            chunks=[b"%PDF-1.7\n"],
            at=timezone.now() + timedelta(days=1),
        )
    assert refused.value.code == "dossier.future" and not Document.objects.exists()
