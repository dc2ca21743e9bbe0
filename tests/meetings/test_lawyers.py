"""Lawyers' licences: registered by the lawyer, verified or refused by detention
staff or an administrator; only a verified lawyer books."""

from __future__ import annotations

import pytest

from casecenter.audit.models import AuditEntry
from casecenter.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from casecenter.meetings import lawyers, selectors, services
from casecenter.meetings.models import Booking, Lawyer, LawyerState
from tests.meetings.conftest import DETAINEE_ID, licence_number, slot

pytestmark = pytest.mark.django_db


def test_a_lawyer_registers_a_licence_that_waits_for_verification(people):
    lawyer = lawyers.register_licence(people["lawyer"], licence_number=licence_number("M"))
    assert lawyer.state == LawyerState.PENDING
    assert (lawyer.practice, lawyer.first_licensed) == ("1", 2010)
    assert lawyer.organisation.code == "md-law"
    entry = AuditEntry.objects.get(action="meeting.lawyer_registered")
    assert entry.actor_id == people["lawyer"].pk and entry.object_id == str(lawyer.pk)


@pytest.mark.parametrize("who", ["staff", "admin"])
def test_detention_staff_or_an_administrator_verify_a_licence(people, who):
    lawyer = lawyers.register_licence(people["duty"], licence_number=licence_number("F"))
    lawyers.verify_lawyer(people[who], lawyer)
    lawyer.refresh_from_db()
    assert lawyer.state == LawyerState.VERIFIED and lawyer.verified_by == people[who]
    assert lawyer.verified_at is not None
    assert AuditEntry.objects.filter(action="meeting.lawyer_verified").count() == 1


@pytest.mark.parametrize("who", ["officer", "judge", "lawyer2", "duty"])
def test_nobody_else_verifies_and_nothing_changes(people, who):
    lawyer = lawyers.register_licence(people["lawyer"], licence_number=licence_number("M"))
    with pytest.raises(PermissionDenied):
        lawyers.verify_lawyer(people[who], lawyer)
    lawyer.refresh_from_db()
    assert lawyer.state == LawyerState.PENDING
    assert not AuditEntry.objects.filter(action="meeting.lawyer_verified").exists()


def test_a_refused_licence_says_why_and_may_be_corrected_and_registered_again(people):
    lawyer = lawyers.register_licence(people["lawyer"], licence_number=licence_number("M"))
    with pytest.raises(InvalidInput) as no_reason:
        lawyers.refuse_lawyer(people["staff"], lawyer, reason="  ")
    assert no_reason.value.code == "lawyer.reason"
    lawyers.refuse_lawyer(people["staff"], lawyer, reason="执业证号与证书不符")
    lawyer.refresh_from_db()
    assert lawyer.state == LawyerState.REFUSED and lawyer.refusal_reason == "执业证号与证书不符"
    again = lawyers.register_licence(
        people["lawyer"], licence_number=licence_number("M", "7654321")
    )
    assert again.pk == lawyer.pk and again.state == LawyerState.PENDING
    assert again.refusal_reason == "" and again.licence_number.endswith("7654321")


def test_a_verified_licence_is_not_changed_by_the_lawyer_but_may_be_withdrawn(people, verified):
    lawyer = verified("lawyer")
    with pytest.raises(Conflict) as caught:
        lawyers.register_licence(people["lawyer"], licence_number=licence_number("M", "1111111"))
    assert caught.value.code == "lawyer.verified"
    with pytest.raises(Conflict):
        lawyers.verify_lawyer(people["staff"], lawyer)
    lawyers.refuse_lawyer(people["staff"], lawyer, reason="执业证已被暂停")
    lawyer.refresh_from_db()
    assert lawyer.state == LawyerState.REFUSED
    assert AuditEntry.objects.get(action="meeting.lawyer_refused").data["was"] == "verified"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("1101201011001234", "licence.length"),
        ("99012010110012345", "licence.region"),
        ("11011970110012345", "licence.year"),
        ("11012010910012345", "licence.practice"),
        ("11012010150012345", "licence.sex"),
        ("11012010100012345", "licence.sex_mismatch"),  # a woman's licence on a man's account
    ],
)
def test_a_wrong_licence_number_is_refused_and_nothing_is_written(people, number, code):
    with pytest.raises(InvalidInput) as caught:
        lawyers.register_licence(people["lawyer"], licence_number=number)
    assert caught.value.code == code
    assert not Lawyer.objects.exists() and not AuditEntry.objects.exists()


def test_one_licence_number_belongs_to_one_account(people):
    lawyers.register_licence(people["lawyer2"], licence_number=licence_number("F", "5555555"))
    people["lawyer"].sex = ""  # an account without a sex: the digit is not compared
    with pytest.raises(Conflict) as caught:
        lawyers.register_licence(people["lawyer"], licence_number=licence_number("F", "5555555"))
    assert caught.value.code == "lawyer.licence_taken"


@pytest.mark.parametrize("who", ["staff", "officer", "judge", "admin"])
def test_only_lawyers_register_a_licence(people, who):
    with pytest.raises(PermissionDenied):
        lawyers.register_licence(people[who], licence_number=licence_number("M"))
    assert not Lawyer.objects.exists()


def test_a_lawyer_outside_a_law_firm_or_legal_aid_center_is_refused(people, make_user):
    from casecenter.accounts.models import Role

    misplaced = make_user("misplaced", Role.DEFENCE_LAWYER, org="legal_aid")
    with pytest.raises(InvalidInput) as caught:
        lawyers.register_licence(misplaced, licence_number=licence_number("M"))
    assert caught.value.code == "lawyer.organisation"


def test_only_a_verified_lawyer_books(people, centres, detainee, verified):
    lawyers.register_licence(people["lawyer"], licence_number=licence_number("M"))
    starts_at, ends_at = slot()

    def request():
        return services.request_booking(
            people["lawyer"],
            centre=centres["centre"],
            name="张三",
            id_number=DETAINEE_ID,
            starts_at=starts_at,
            ends_at=ends_at,
            authority="engagement",
            authority_reference="委字001",
        )

    with pytest.raises(PermissionDenied) as caught:
        request()
    assert caught.value.code == "booking.lawyer_unverified"
    assert not Booking.objects.exists()
    # no look-up happened either: an unverified lawyer learns nothing of who is held
    assert not AuditEntry.objects.filter(action__startswith="meeting.detainee_").exclude(
        action="meeting.detainee_registered"
    )
    lawyers.verify_lawyer(people["staff"], Lawyer.objects.get())
    assert request().state == "requested"


def test_the_verification_list_is_for_verifiers_pending_first(people, verified):
    verified("duty")
    pending = lawyers.register_licence(people["lawyer"], licence_number=licence_number("M"))
    assert [x.pk for x in selectors.lawyers(people["staff"])][0] == pending.pk
    assert [x.pk for x in selectors.lawyers(people["admin"], "pending")] == [pending.pk]
    for who in ("lawyer", "officer", "judge"):
        with pytest.raises(NotFound):
            selectors.lawyers(people[who])
