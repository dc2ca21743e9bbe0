"""No form input, however odd, makes a UI page answer 500."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

FIELDS = [
    "channel",
    "received_at",
    "place",
    "category",
    "summary",
    "reporter_name",
    "reporter_phone",
    "reporter_id_number",
    "kind",
    "title",
    "secret",
    "transition",
    "version",
    "reason",
    "officers",
    "role",
    "name",
    "id_number",
    "phone",
    "user",
    "occurred_at",
    "language",
]
values = st.one_of(
    st.text(max_size=40),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(
        [
            "2026-11-25T10:00",
            "0001-01-01T00:00",
            "9999-12-31T23:59",
            "criminal",
            "theft",
            "call_110",
            "file",
            "start_investigation",
            "suspect",
            "1",
            "0",
            "11010819900307123X",
            "on",
            "\x00",
        ]
    ),
)


@pytest.fixture
def target(officers, make_case):
    client = Client()
    client.force_login(officers["lead"])
    case = make_case()
    return client, case.pk


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(
        [
            "/incidents/new/",
            "/cases/new/",
            "/cases/{c}/transition/",
            "/cases/{c}/parties/",
            "/cases/{c}/assign/",
            "/cases/{c}/break-glass/",
            "/incidents/1/convert/",
            "/incidents/1/close/",
        ]
    ),
    form=st.dictionaries(st.sampled_from(FIELDS), values, max_size=8),
)
def test_no_form_input_makes_a_page_answer_500(target, path, form):
    client, case_id = target
    r = client.post(path.format(c=case_id), form)
    assert r.status_code < 500, (path, form)
