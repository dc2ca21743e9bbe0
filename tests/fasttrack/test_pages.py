"""The fast track and the hand-overs in the UI (test client, Chinese by default):
every organisation's pages render what it may see, and its forms take its steps."""

from __future__ import annotations

import re

from django.test import Client
from django.utils import timezone

from casecenter.exchange.models import Matter, Package
from casecenter.fasttrack.models import FastTrack


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url, follow=True)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def post(client: Client, url: str, data: dict) -> str:
    response = client.post(url, data, follow=True)
    assert response.status_code == 200, (url, response.status_code)
    text = response.content.decode()
    assert 'class="error"' not in text, re.findall(r'class="error"[^>]*>([^<]*)', text)
    return text


def local(at) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")


def test_a_case_goes_the_whole_way_through_the_pages(drunk_driving, officers, partners):
    from casecenter.dossiers import services as dossiers
    from casecenter.dossiers.models import Document, Review, ReviewState

    orgs, case = partners["orgs"], drunk_driving
    lead, legal = browser(officers["lead"]), browser(officers["legal"])
    text = page(lead, f"/cases/{case.pk}/")
    assert 'data-testid="fast-track-form"' in text and "认罪认罚" in text
    text = post(
        lead,
        f"/fast-track/cases/{case.pk}/start/",
        {
            "suspect": case.suspect.pk,
            "captured_at": local(case.captured_at),
            "admits_guilt": "on",
            "facts_clear": "on",
            "expected_sentence_months": "2",
            "no_exclusion": "on",
        },
    )
    track = FastTrack.objects.get(case=case)
    assert 'data-testid="stages"' in text and "stage-chart" in text
    post(lead, f"/fast-track/{track.pk}/legal-aid/", {"legal_aid": orgs["fyzx"].pk})
    dossiers.generate(officers["lead"], case, "fast_track_opinion")
    for d in Document.objects.filter(dossier__case=case, review_state=ReviewState.PENDING):
        dossiers.review(
            officers["legal"], d, decision=Review.Decision.APPROVED, version=d.versions_count
        )
    text = post(legal, f"/fast-track/{track.pk}/submit/", {"procuratorate": orgs["jc"].pk})
    assert "已提交检察机关" in text or "提交检察机关" in text

    # legal aid
    aid = browser(partners["lawyer"])
    notice = Package.objects.get(kind="legal_aid")
    assert notice.number in page(aid, "/exchange/")
    text = post(aid, f"/exchange/packages/{notice.pk}/receive/", {})
    assert 'data-testid="arrival"' in text and "✔" in text
    text = post(aid, f"/exchange/packages/{notice.pk}/accept/", {})
    matter = Matter.objects.get(kind="legal_aid")
    assert matter.number in text and "马明" in text  # the matter page, with its people
    post(aid, f"/exchange/matters/{matter.pk}/lawyer/", {"lawyer": partners["lawyer"].pk})
    post(
        aid,
        f"/exchange/matters/{matter.pk}/meeting/",
        {"mode": "on_site", "started_at": local(timezone.now()), "minutes": "30"},
    )

    # procuratorate
    prosecutor = browser(partners["prosecutor"])
    package = Package.objects.get(kind="fast_track")
    text = page(prosecutor, f"/exchange/packages/{package.pk}/")
    assert 'data-testid="entries"' in text and package.signer in text
    post(prosecutor, f"/exchange/packages/{package.pk}/receive/", {})
    post(prosecutor, f"/exchange/packages/{package.pk}/accept/", {})
    review = Matter.objects.get(kind="fast_track_review")
    post(
        prosecutor,
        f"/exchange/matters/{review.pk}/indict/",
        {"court": orgs["court"].pk, "charge": "危险驾驶罪", "proposal": "拘役二个月"},
    )

    # court
    judge = browser(officers["judge"])
    indictment = Package.objects.get(kind="indictment")
    post(judge, f"/exchange/packages/{indictment.pk}/receive/", {})
    post(judge, f"/exchange/packages/{indictment.pk}/accept/", {})
    trial = Matter.objects.get(kind="fast_track_trial")
    post(
        judge,
        f"/exchange/matters/{trial.pk}/hearing/",
        {"hearing_at": local(timezone.now()), "place": "执法办案管理中心（就地开庭）"},
    )
    text = post(
        judge,
        f"/exchange/matters/{trial.pk}/judgment/",
        {
            "verdict": "判处拘役二个月，并处罚金人民币四千元",
            "hearing_at": local(timezone.now()),
            "judgment_at": local(timezone.now()),
        },
    )
    assert 'data-testid="judgment"' in text

    # back at the police
    judgment = Package.objects.get(kind="judgment", receiver__code="zgc")
    post(lead, f"/exchange/packages/{judgment.pk}/receive/", {})
    post(lead, f"/exchange/packages/{judgment.pk}/accept/", {})
    track.refresh_from_db()
    assert track.state == FastTrack.State.CLOSED
    text = page(lead, f"/fast-track/{track.pk}/")
    assert text.count('class="done') >= 9 and "已结束" not in text
    board = page(judge, "/fast-track/")
    assert case.number in board and 'data-testid="fast-track-figures"' in board


def test_pages_of_others_are_not_found(ready_to_submit, officers, partners):
    from casecenter.fasttrack import services

    package = services.submit(
        officers["legal"], ready_to_submit, procuratorate=partners["orgs"]["jc"]
    )
    judge = browser(officers["judge"])
    page(judge, f"/fast-track/{ready_to_submit.pk}/", 404)
    page(judge, f"/exchange/packages/{package.pk}/", 404)
    page(judge, f"/cases/{ready_to_submit.case_id}/", 404)
    assert package.number not in page(judge, "/exchange/")
    stranger = browser(officers["stranger"])  # another station
    page(stranger, f"/exchange/packages/{package.pk}/", 404)
    # the prosecutor has the package but no matter yet: the track is not theirs to follow
    page(browser(partners["prosecutor"]), f"/fast-track/{ready_to_submit.pk}/", 404)


def test_a_refused_package_shows_its_reasons_to_both_sides(ready_to_submit, officers, partners):
    from casecenter.dossiers import storage
    from casecenter.fasttrack import services

    package = services.submit(
        officers["legal"], ready_to_submit, procuratorate=partners["orgs"]["jc"]
    )
    target = package.files.order_by("path").first()
    storage.storage().delete(target.storage_name)  # the file is gone from storage
    text = post(browser(partners["prosecutor"]), f"/exchange/packages/{package.pk}/receive/", {})
    assert "file.missing" in text and target.path in text
    text = page(browser(officers["legal"]), f"/exchange/packages/{package.pk}/")
    assert "file.missing" in text and 'data-testid="resend"' in text
