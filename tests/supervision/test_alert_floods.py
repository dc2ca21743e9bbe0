"""Alert floods: the alert list's filters, orders and grouping of repeats, and
acknowledging many alerts at once with one reason — on the page and in the API,
only ever over the alerts the user may see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casecenter.audit.models import AuditEntry
from casecenter.supervision import services, views
from casecenter.supervision.models import Alert, AlertState, Rule
from tests.supervision.conftest import post

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def raise_(name: str, rule: str, *, case, subject: str, org, minutes_ago: int) -> Alert:
    """An alert of ``rule`` about ``subject``, raised ``minutes_ago`` minutes ago."""
    with transaction.atomic():
        alert = services.raise_alert(
            key=f"test:{name}",
            rule=Rule.objects.get(code=rule),
            kind=Alert.Kind.EVENT,
            case=case,
            organisation_id=org.pk,
            title_zh=f"提醒{name}",
            title_en=f"Alert {name}",
            explanation_zh=f"说明{name}",
            explanation_en=f"Explanation {name}",
            subject=subject,
            at=NOW - timedelta(minutes=minutes_ago),
        )
    assert alert is not None
    return alert


@pytest.fixture
def flood(make_case, orgs):
    """Seven alerts the lead officer sees (four groups of repeats) and one of
    the same rule and subject they may not see:

    ======  =====================  ==========  ============  =========  =======
    name    rule                   severity    subject       filed      raised
    ======  =====================  ==========  ============  =========  =======
    v1-v3   custody.vitals         critical    stay:1        station    -50/-30/-10
    v4      custody.vitals         critical    stay:2        other      -40
    p1, p2  property.return        warning     case:<a>      station    -60/-20
    n1      summons.notify_family  info        case:<b>      station    -5
    hidden  custody.vitals         critical    stay:1        court      -1
    ======  =====================  ==========  ============  =========  =======
    """
    Rule.objects.filter(code="summons.notify_family").update(severity="info")
    a, b = make_case(), make_case(title="盗窃案二")
    station, other = orgs["station"], orgs["other"]
    alerts = {
        "v1": raise_("v1", "custody.vitals", case=a, subject="stay:1", org=station, minutes_ago=50),
        "v2": raise_("v2", "custody.vitals", case=a, subject="stay:1", org=station, minutes_ago=30),
        "v3": raise_("v3", "custody.vitals", case=a, subject="stay:1", org=station, minutes_ago=10),
        "v4": raise_("v4", "custody.vitals", case=b, subject="stay:2", org=other, minutes_ago=40),
        "p1": raise_(
            "p1", "property.return", case=a, subject=f"case:{a.pk}", org=station, minutes_ago=60
        ),
        "p2": raise_(
            "p2", "property.return", case=a, subject=f"case:{a.pk}", org=station, minutes_ago=20
        ),
        "n1": raise_(
            "n1",
            "summons.notify_family",
            case=b,
            subject=f"case:{b.pk}",
            org=station,
            minutes_ago=5,
        ),
        "hidden": raise_(
            "hidden",
            "custody.vitals",
            case=None,
            subject="stay:1",
            org=orgs["court"],
            minutes_ago=1,
        ),
    }
    alerts["a"], alerts["b"] = a, b
    return alerts


def names(flood, rows) -> list[str]:
    """The fixture's names of the listed alerts, in the order listed."""
    by_id = {alert.pk: name for name, alert in flood.items() if isinstance(alert, Alert)}
    return [by_id[row["id"]] for row in rows]


def browser_of(user, language: str = "zh-hans") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def states(flood, *keys) -> list[str]:
    return [Alert.objects.get(pk=flood[k].pk).state for k in keys]


VISIBLE = ["v1", "v2", "v3", "v4", "p1", "p2", "n1"]


# --- filters --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["n1", "v3", "p2", "v2", "v4", "v1", "p1"]),
        ("rule=custody.vitals", ["v3", "v2", "v4", "v1"]),
        ("severity=info", ["n1"]),
        ("severity=critical", ["v3", "v2", "v4", "v1"]),
        ("subject=stay:1", ["v3", "v2", "v1"]),
        ("rule=custody.vitals&organisation={station}", ["v3", "v2", "v1"]),
        ("organisation={other}", ["v4"]),
        ("organisation={court}", []),
        ("rule=custody.separation", []),
        ("rule=property.return&subject=stay:1", []),
    ],
)
def test_api_filters_select_exactly_the_matching_visible_alerts(api, flood, orgs, query, expected):
    query = query.format(**{k: o.pk for k, o in orgs.items()})
    rows = api("lead").get(f"/api/alerts?{query}").json()
    assert names(flood, rows) == expected


def test_the_case_filter_matches_part_of_the_case_number(api, flood):
    part = flood["b"].number[1:]
    assert flood["a"].number.find(part) == -1
    rows = api("lead").get("/api/alerts", {"case": part}).json()
    assert names(flood, rows) == ["n1", "v4"]


def test_the_state_filter_keeps_active_as_not_resolved(api, flood, officers):
    services.acknowledge_alert(officers["lead"], flood["p1"], note="在办")
    with transaction.atomic():
        services.resolve_automatically([flood["n1"]], zh="已通知", en="notified")
    lead = api("lead")
    assert names(flood, lead.get("/api/alerts?state=acknowledged").json()) == ["p1"]
    assert names(flood, lead.get("/api/alerts?state=resolved").json()) == ["n1"]
    assert set(names(flood, lead.get("/api/alerts?state=open").json())) == set(VISIBLE) - {
        "p1",
        "n1",
    }
    assert set(names(flood, lead.get("/api/alerts?state=active").json())) == set(VISIBLE) - {"n1"}


def test_bad_filter_values_are_refused_as_json(api, flood):
    lead = api("lead")
    for bad in ("sort=loudest", "severity=huge", "organisation=0", "organisation=x", "group=maybe"):
        r = lead.get(f"/api/alerts?{bad}")
        assert r.status_code == 422 and r.json()["code"] == "invalid_input", bad
    r = lead.get("/api/alerts", {"case": "x" * 41})
    assert r.status_code == 422


# --- orders -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["n1", "v3", "p2", "v2", "v4", "v1", "p1"]),
        ("oldest", ["p1", "v1", "v4", "v2", "p2", "v3", "n1"]),
        ("severity", ["v3", "v2", "v4", "v1", "p2", "p1", "n1"]),
        ("rule", ["v3", "v2", "v4", "v1", "p2", "p1", "n1"]),
    ],
)
def test_api_sorts_newest_oldest_most_severe_or_by_rule(api, flood, sort, expected):
    rows = api("lead").get(f"/api/alerts?sort={sort}").json()
    assert names(flood, rows) == expected


# --- groups -------------------------------------------------------------------------


def test_grouped_list_shows_each_rule_and_subject_once_with_its_counts(api, flood, officers):
    services.acknowledge_alert(officers["lead"], flood["v2"])
    rows = api("lead").get("/api/alerts?group=true").json()
    assert [
        (n, r["count"], r["open_count"]) for n, r in zip(names(flood, rows), rows, strict=True)
    ] == [
        ("n1", 1, 1),
        ("v3", 3, 2),  # the newest of stay:1; the alert the lead may not see is not counted
        ("p2", 2, 2),
        ("v4", 1, 1),
    ]
    assert rows[1]["subject"] == "stay:1"


def test_groups_follow_the_order_and_filters_and_are_paged(api, flood):
    lead = api("lead")
    oldest = lead.get("/api/alerts?group=true&sort=oldest").json()
    assert names(flood, oldest) == ["p2", "v3", "v4", "n1"]  # by each group's first alert
    severe = lead.get("/api/alerts?group=true&sort=severity").json()
    assert names(flood, severe) == ["v3", "v4", "p2", "n1"]
    second_page = lead.get("/api/alerts?group=true&limit=2&offset=2").json()
    assert names(flood, second_page) == ["p2", "v4"]
    station_vitals = lead.get(
        f"/api/alerts?group=true&rule=custody.vitals&organisation={flood['v1'].organisation_id}"
    ).json()
    assert [(r["count"], r["open_count"]) for r in station_vitals] == [(3, 3)]


def test_an_alert_about_no_record_is_a_group_of_its_own(api, flood, orgs):
    lone = [
        raise_(
            f"x{i}", "dsr.answer", case=flood["a"], subject="", org=orgs["station"], minutes_ago=i
        )
        for i in (2, 3)
    ]
    Alert.objects.filter(pk__in=[a.pk for a in lone]).update(subject="")  # as before subjects
    rows = api("lead").get("/api/alerts?group=true&rule=dsr.answer").json()
    assert [(r["id"], r["count"]) for r in rows] == [(lone[0].pk, 1), (lone[1].pk, 1)]


# --- acknowledging many at once (API) ----------------------------------------------------


def test_api_acknowledges_many_with_one_reason(api, flood):
    ids = [flood["v1"].pk, flood["v3"].pk, flood["p1"].pk]
    r = post(api("lead"), "/api/alerts/acknowledge", {"ids": ids, "note": "设备误报，已派人查看"})
    assert r.status_code == 200, r.content
    assert [(a["id"], a["state"], a["acknowledgement"]) for a in r.json()] == [
        (pk, "acknowledged", "设备误报，已派人查看") for pk in sorted(ids)
    ]
    assert states(flood, "v1", "v2", "v3", "p1") == ["acknowledged", "open", "acknowledged"] + [
        "acknowledged"
    ]
    assert AuditEntry.objects.filter(action="alert.acknowledged").count() == 3


@pytest.mark.parametrize(
    ("ids", "note", "status", "code"),
    [
        (["v1", "hidden"], "误报", 403, "alert.not_yours"),
        (["v1", 10**9], "误报", 403, "alert.not_yours"),
        (["v1", "v2"], "   ", 422, "alert.bulk_note"),
        (["v1", "v2"], "", 422, "invalid_input"),
        (["v1", "v2"], None, 422, "invalid_input"),
        ([], "误报", 422, "invalid_input"),
        (None, "误报", 422, "invalid_input"),
        (["v1", "p1"], "误报", 409, "alert.not_open"),  # p1 was acknowledged before
        (list(range(1, services.BULK_LIMIT + 2)), "误报", 422, "invalid_input"),
        (["v1", 0], "误报", 422, "invalid_input"),
        (["v1", "x"], "误报", 422, "invalid_input"),
        (["v1"], "x" * 2001, 422, "invalid_input"),
        (["v1"], "误\x00报", 422, "invalid_input"),
    ],
)
def test_api_bulk_refusals_change_nothing(api, flood, officers, ids, note, status, code):
    services.acknowledge_alert(officers["lead"], flood["p1"])
    body = {}
    if ids is not None:
        body["ids"] = [flood[i].pk if i in flood else i for i in ids]
    if note is not None:
        body["note"] = note
    lead = api("lead")
    before = AuditEntry.objects.count()
    r = post(lead, "/api/alerts/acknowledge", body)
    assert r.status_code == status and r.json()["code"] == code, r.content
    assert states(flood, "v1", "v2", "hidden") == ["open", "open", "open"]
    assert AuditEntry.objects.count() == before


def test_api_acknowledges_one_alert_with_or_without_a_note(api, flood):
    lead = api("lead")
    r = post(lead, f"/api/alerts/{flood['v1'].pk}/acknowledge", {"note": "已派医生"})
    assert r.status_code == 200 and r.json()["acknowledgement"] == "已派医生"
    r = lead.generic("POST", f"/api/alerts/{flood['v2'].pk}/acknowledge")  # no body at all
    assert r.status_code == 200 and r.json()["acknowledgement"] == ""
    r = post(lead, f"/api/alerts/{flood['v3'].pk}/acknowledge", {"note": "x" * 2001})
    assert r.status_code == 422
    assert states(flood, "v1", "v2", "v3") == ["acknowledged", "acknowledged", "open"]


# --- the page -----------------------------------------------------------------------------


def test_page_groups_repeats_by_default_with_the_count_and_a_link_to_the_group(flood, officers):
    page = browser_of(officers["lead"]).get("/alerts/").content.decode()
    assert page.count('data-testid="alert"') == 4
    v3 = page.index(f'id="alert-{flood["v3"].pk}"')
    assert 'data-count="3" data-open="3"' in page[v3 - 200 : v3 + 400]
    assert "×3" in page and "3 条待处理" in page
    assert "subject=stay%3A1" in page and "group=0" in page
    assert "提醒hidden" not in page
    ungrouped = browser_of(officers["lead"]).get("/alerts/?group=0").content.decode()
    assert ungrouped.count('data-testid="alert"') == 7


def test_page_filters_combine_and_stay_in_the_form(flood, officers, orgs):
    url = f"/alerts/?group=0&rule=custody.vitals&organisation={orgs['station'].pk}&sort=oldest"
    page = browser_of(officers["lead"]).get(url).content.decode()
    shown = [k for k in ("v1", "v2", "v3", "v4") if f'id="alert-{flood[k].pk}"' in page]
    assert shown == ["v1", "v2", "v3"]
    assert page.index(f'id="alert-{flood["v1"].pk}"') < page.index(f'id="alert-{flood["v3"].pk}"')
    assert '<option value="custody.vitals" selected>' in page
    assert f'<option value="{orgs["station"].pk}" selected>' in page
    assert '<option value="oldest" selected>' in page


def test_page_offers_only_the_organisations_of_the_users_alerts(flood, officers, orgs):
    page = browser_of(officers["lead"]).get("/alerts/").content.decode()
    assert f'<option value="{orgs["station"].pk}">' in page
    assert f'<option value="{orgs["other"].pk}">' in page
    assert f'<option value="{orgs["court"].pk}"' not in page
    court = browser_of(officers["lead"]).get(f"/alerts/?organisation={orgs['court'].pk}")
    assert court.status_code == 200 and 'data-testid="alert"' not in court.content.decode()


def test_pager_keeps_the_filters(flood, officers, monkeypatch):
    monkeypatch.setattr(views, "ALERTS_PER_PAGE", 2)
    lead = browser_of(officers["lead"])
    page = lead.get("/alerts/?rule=custody.vitals&group=0&sort=oldest").content.decode()
    assert "page=2" in page
    link = page[page.index("pager") :]
    assert "rule=custody.vitals&" in link and "group=0&" in link and "sort=oldest&" in link
    second = lead.get("/alerts/?rule=custody.vitals&group=0&sort=oldest&page=2").content.decode()
    assert second.index(f'id="alert-{flood["v2"].pk}"') < second.index(
        f'id="alert-{flood["v3"].pk}"'
    )


def test_page_shows_how_an_alert_was_resolved_by_the_system(flood, officers):
    with transaction.atomic():
        services.resolve_automatically([flood["n1"]], zh="已通知家属", en="family notified")
    page = browser_of(officers["lead"]).get("/alerts/?state=resolved").content.decode()
    assert (
        'data-testid="row-resolution">已办结' in page
        and "系统: 已通知家属 / family notified" in page
    )


def test_grouped_page_needs_no_query_per_group(flood, officers, orgs):
    lead = browser_of(officers["lead"])
    lead.get("/alerts/")  # sessions, language: warm
    with CaptureQueriesContext(connection) as few:
        lead.get("/alerts/")
    for i in range(6):
        raise_(
            f"m{i}",
            "dsr.answer",
            case=flood["a"],
            subject=f"matter:{i}",
            org=orgs["station"],
            minutes_ago=i,
        )
    with CaptureQueriesContext(connection) as more:
        page = lead.get("/alerts/").content.decode()
    assert page.count('data-testid="alert"') == 10
    assert len(more) == len(few)


# --- acknowledging on the page ------------------------------------------------------


def test_page_acknowledges_the_chosen_alerts_with_one_reason(flood, officers):
    lead = browser_of(officers["lead"])
    r = lead.post(
        "/alerts/acknowledge/",
        {"ids": [flood["v1"].pk, flood["p1"].pk], "note": "统一处理", "next": "/alerts/?group=0"},
    )
    assert r.status_code == 302 and r.url == "/alerts/?group=0"
    assert states(flood, "v1", "p1", "v2") == ["acknowledged", "acknowledged", "open"]
    assert Alert.objects.get(pk=flood["v1"].pk).acknowledgement == "统一处理"
    assert "已确认2条提醒" in lead.get(r.url).content.decode()


def test_page_acknowledges_every_open_alert_of_a_chosen_group(flood, officers):
    lead = browser_of(officers["lead"])
    services.acknowledge_alert(officers["lead"], flood["v2"])
    token = f"{flood['v3'].pk}|custody.vitals|stay:1"
    page = lead.get("/alerts/").content.decode()
    assert f'value="{token}"' in page
    r = lead.post("/alerts/acknowledge/", {"groups": [token], "note": "同一人心率，医生已到"})
    assert r.status_code == 302
    assert states(flood, "v1", "v2", "v3", "v4", "hidden") == [
        "acknowledged",
        "acknowledged",
        "acknowledged",
        "open",
        "open",
    ]
    assert Alert.objects.get(pk=flood["v1"].pk).acknowledgement == "同一人心率，医生已到"
    assert Alert.objects.get(pk=flood["v2"].pk).acknowledgement == ""  # acknowledged before


def test_a_group_acknowledged_leaves_repeats_raised_after_the_list_was_shown(flood, officers, orgs):
    token = f"{flood['v3'].pk}|custody.vitals|stay:1"
    later = raise_(
        "v5",
        "custody.vitals",
        case=flood["a"],
        subject="stay:1",
        org=orgs["station"],
        minutes_ago=0,
    )
    browser_of(officers["lead"]).post("/alerts/acknowledge/", {"groups": [token], "note": "已处理"})
    assert states(flood, "v1", "v3") == ["acknowledged", "acknowledged"]
    assert Alert.objects.get(pk=later.pk).state == AlertState.OPEN


def test_a_group_is_acknowledged_within_the_lists_filters(flood, officers, orgs):
    elsewhere = raise_(
        "w", "custody.vitals", case=flood["a"], subject="stay:1", org=orgs["other"], minutes_ago=55
    )
    station = orgs["station"].pk
    lead = browser_of(officers["lead"])
    page = lead.get(f"/alerts/?organisation={station}").content.decode()
    assert 'data-count="3" data-open="3"' in page
    token = f"{flood['v3'].pk}|custody.vitals|stay:1"
    lead.post(
        "/alerts/acknowledge/",
        {"groups": [token], "note": "本所已处理", "organisation": station, "state": "active"},
    )
    assert states(flood, "v1", "v2", "v3") == ["acknowledged"] * 3
    assert Alert.objects.get(pk=elsewhere.pk).state == AlertState.OPEN


def test_all_on_this_page_works_without_javascript(flood, officers, monkeypatch):
    lead = browser_of(officers["lead"])
    monkeypatch.setattr(views, "ALERTS_PER_PAGE", 2)
    page = lead.get("/alerts/?group=0").content.decode()
    shown = [f"{flood[k].pk}" for k in ("n1", "v3")]
    for pk in shown:
        assert f'name="page_ids" value="{pk}"' in page
    lead.post(
        "/alerts/acknowledge/",
        {"all": "1", "page_ids": shown, "note": "本页统一确认", "next": "/alerts/?group=0"},
    )
    assert states(flood, "n1", "v3", "p2") == ["acknowledged", "acknowledged", "open"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"ids": ["v1", "hidden"], "note": "误报"}, "所选提醒中有不是发给您的。"),
        ({"ids": ["v1", "p1"], "note": "误报"}, "所选提醒中有1条已被处理。"),
        ({"ids": ["v1", "v2"], "note": "  "}, "请说明确认这些提醒的理由。"),
        ({"note": "误报"}, "请选择要确认的提醒。"),
        ({"ids": ["v1", "x1"], "note": "误报"}, "不是本列表中的提醒。"),
        ({"groups": ["v1|custody.vitals"], "note": "误报"}, "不是本列表中的一组提醒。"),
        ({"ids": ["v1"], "note": "误\x00报"}, "不允许是用空字符串。"),
    ],
)
def test_page_bulk_refusals_are_messages_and_change_nothing(flood, officers, data, message):
    services.acknowledge_alert(officers["lead"], flood["p1"])
    lead = browser_of(officers["lead"])
    data = dict(data, next="/alerts/")
    data["ids"] = [str(flood[i].pk) if i in flood else i for i in data.get("ids", [])]
    r = lead.post("/alerts/acknowledge/", data)
    assert r.status_code == 302 and r.url == "/alerts/"
    assert message in lead.get("/alerts/").content.decode()
    assert states(flood, "v1", "v2", "hidden") == ["open", "open", "open"]


def test_page_acknowledges_one_alert_with_a_note(flood, officers):
    lead = browser_of(officers["lead"])
    r = lead.post(
        f"/alerts/{flood['v1'].pk}/acknowledge/", {"note": "医生已到", "next": "/alerts/"}
    )
    assert r.status_code == 302
    alert = Alert.objects.get(pk=flood["v1"].pk)
    assert alert.state == AlertState.ACKNOWLEDGED and alert.acknowledgement == "医生已到"
    page = lead.get("/alerts/?group=0").content.decode()
    assert 'data-testid="row-acknowledgement">已确认' in page and "lead: 医生已到" in page


def test_page_reads_in_english(flood, officers):
    page = browser_of(officers["lead"], "en").get("/alerts/").content.decode()
    for text in (
        "Newest first",
        "Repeats grouped",
        "×3",
        "3 open",
        "Show the 3 alerts of this group",
    ):
        assert text in page, text
    assert "Acknowledge all 3 open" in page and "Select all on this page" in page
