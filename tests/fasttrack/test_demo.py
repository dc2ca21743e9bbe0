"""The demo's fast tracks: every stage, the seed's 30-hour case first, one past its
48 hours with its alerts, a returned package sent again, a track moved to the
ordinary procedure, ordinary transfers in every state, and the newcomer's case."""

from __future__ import annotations

import pytest

from casecenter.cases.models import Case
from casecenter.demo.data import DemoBuilder, load
from casecenter.demo.fasttrack import READY_TITLE, SEED_TITLE, ensure_ready_case
from casecenter.exchange import packaging
from casecenter.exchange.models import Matter, Package
from casecenter.fasttrack import selectors
from casecenter.fasttrack.models import FastTrack
from casecenter.supervision.models import Alert

pytestmark = pytest.mark.django_db


def test_the_demo_holds_fast_tracks_in_every_stage():
    users = load(60)
    timelines = {t.title: selectors.timeline(t) for t in FastTrack.objects.all()}
    seed = timelines[SEED_TITLE]
    assert seed.track.state == "closed" and seed.hours == 30.0 and not seed.over
    current = {t.current.stage.code for t in timelines.values() if t.current}
    assert {"submitted", "indicted", "hearing"} <= current
    over = [t for t in timelines.values() if t.over]
    assert [t.track.title for t in over] == ["李某危险驾驶案"]
    assert FastTrack.objects.filter(state="abandoned").count() == 1
    # the late track's stages alerted their own organisations
    late = Alert.objects.filter(rule_id="fast_track.stage", kind="breach")
    assert {a.organisation.code for a in late} >= {"zgc", "hd-fyzx", "hd-jc"}
    assert Alert.objects.filter(rule_id="fast_track.48h", kind="breach").count() == 1
    # packages in every state, every one still verifies
    assert set(Package.objects.values_list("state", flat=True)) == {"sent", "accepted", "returned"}
    for package in Package.objects.all():
        assert packaging.verify(package).ok, package.number
    assert Matter.objects.filter(kind="prosecution_review").exists()
    # the newcomer's case waits, and only one is made however often the demo starts
    ready = Case.objects.get(title=READY_TITLE)
    assert not FastTrack.objects.filter(case=ready).exists()
    assert ensure_ready_case(DemoBuilder(seed=None), users) == ready
    assert Case.objects.filter(title=READY_TITLE).count() == 1
