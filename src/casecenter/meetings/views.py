"""UI of remote lawyer video meetings (远程律师视频会见).

- ``/meetings/``: a lawyer's own bookings; a detention centre's staff: the
  requests waiting for them with their 48-hour clock (most urgent first),
  today's meetings, and the rest.
- ``/meetings/new/``: a verified lawyer books a slot.
- ``/meetings/<id>/``: a booking with its clock and what its viewer may do.
- ``/meetings/lawyers/``: licences to verify (staff, administrators).
- ``/meetings/lawyer/``: a lawyer's own licence.
- ``/meetings/detainees/``: the centre's detainees (register, release).

Views parse, call a service or selector, render. What a viewer may do is
decided by the services; a refused post comes back as a message and changes
nothing. Anyone without a part in meetings (police, judges…) gets 404.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casecenter.errors import DomainError
from casecenter.meetings import access, detainees, lawyers, selectors, services, sessions
from casecenter.meetings.forms import (
    BookingForm,
    ConfirmForm,
    DetaineeForm,
    LicenceForm,
    MomentForm,
    ReasonForm,
    RefuseForm,
)
from casecenter.meetings.models import Booking, BookingState, LawyerState, Room
from casecenter.web.forms import (
    add_domain_error,
    get_object_or_404_domain,
    run_service,
    submit_form,
)


def _page(booking: Booking) -> str:
    return reverse("meeting-detail", args=[booking.pk])


@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    now = timezone.now()
    if access.staff_centre(user) is not None:
        desk = selectors.centre_desk(user, now=now)
        pending = sum(1 for x in selectors.lawyers(user) if x.state == LawyerState.PENDING)
        return render(
            request,
            "meetings/desk.html",
            {"desk": desk, "now": now, "centre": access.staff_centre(user), "pending": pending},
        )
    if access.is_lawyer(user):
        upcoming, past = selectors.lawyer_bookings(user, now=now)
        return render(
            request,
            "meetings/mine.html",
            {
                "licence": selectors.own_licence(user),
                "upcoming": upcoming,
                "past": past,
                "now": now,
            },
        )
    if access.may_verify(user):  # an administrator: the licences are their part
        return redirect("meeting-lawyers")
    raise Http404


@login_required
def new_booking(request: HttpRequest) -> HttpResponse:
    """The booking form; a refused request is shown on the form, kept as typed."""
    if not access.is_lawyer(request.user):
        raise Http404
    licence = selectors.own_licence(request.user)
    tomorrow = timezone.localdate() + timedelta(days=1)
    form = BookingForm(
        request.POST or None, initial={"day": tomorrow, "start": "09:00", "end": "10:00"}
    )
    if request.method == "POST" and form.is_valid():
        starts_at, ends_at = form.slot()
        data = form.cleaned_data
        try:
            booking = services.request_booking(
                request.user,
                centre=selectors.centres().filter(pk=data["centre"]).first(),
                name=data["name"],
                id_number=data["id_number"],
                starts_at=starts_at,
                ends_at=ends_at,
                authority=data["authority"],
                authority_reference=data["authority_reference"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("Booking %(number)s requested; the centre arranges it within 48 hours.")
                % {"number": booking.number},
            )
            return redirect(_page(booking))
    return render(
        request,
        "meetings/new.html",
        {"form": form, "licence": licence, "verified": bool(licence and licence.is_verified)},
        status=422 if request.method == "POST" else 200,
    )


@login_required
def booking_page(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    booking = get_object_or_404_domain(selectors.get_booking, user, pk)
    detainee = selectors.read_detainee(user, booking.detainee, booking=booking)
    clocks = selectors.booking_clocks(booking)
    staff = access.is_centre_staff(user, booking.centre_id)
    own = booking.lawyer.user_id == user.pk
    now = timezone.now()
    state = booking.state
    requested, confirmed = state == BookingState.REQUESTED, state == BookingState.CONFIRMED
    return render(
        request,
        "meetings/booking.html",
        {
            "booking": booking,
            "detainee": detainee,
            "clocks": clocks,
            "now": now,
            "staff": staff,
            "join_link": booking.centre_link if staff else booking.lawyer_link if own else "",
            "confirm_form": ConfirmForm(booking=booking) if staff and requested else None,
            "refuse_form": RefuseForm(auto_id="id_refuse_%s") if staff and requested else None,
            "cancel_form": (
                ReasonForm(auto_id="id_cancel_%s")
                if own and (requested or confirmed) and booking.starts_at > now
                else None
            ),
            "start_form": MomentForm(auto_id="id_start_%s") if staff and confirmed else None,
            "missed_form": (
                ReasonForm(auto_id="id_missed_%s")
                if staff and confirmed and booking.starts_at <= now
                else None
            ),
            "end_form": (
                MomentForm(auto_id="id_end_%s") if staff and booking.in_progress else None
            ),
        },
    )


def _act(
    request: HttpRequest,
    pk: int,
    form: Callable[[Booking], forms.Form],
    call: Callable[[Booking, dict], Any],
    success: str,
) -> HttpResponse:
    """A step of a booking posted from its page: the form checked, the service
    called, the outcome told on the booking's page."""
    booking = get_object_or_404_domain(selectors.get_booking, request.user, pk)
    submit_form(request, form(booking), lambda d: call(booking, d), success)
    return redirect(_page(booking))


@login_required
@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda b: ConfirmForm(request.POST, booking=b),
        lambda b, d: services.confirm_booking(
            request.user, b, room=Room.objects.filter(pk=d["room"]).first()
        ),
        _("Meeting confirmed; its clock is met."),
    )


@login_required
@require_POST
def refuse(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda b: RefuseForm(request.POST),
        lambda b, d: services.refuse_booking(request.user, b, reason=d["reason"]),
        _("Booking refused; the lawyer sees your reasons."),
    )


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda b: ReasonForm(request.POST),
        lambda b, d: services.cancel_booking(request.user, b, reason=d["reason"]),
        _("Booking cancelled."),
    )


@login_required
@require_POST
def start(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda b: MomentForm(request.POST),
        lambda b, d: sessions.start_meeting(request.user, b, at=d["at"]),
        _("Meeting started; the video session is open, recording off."),
    )


@login_required
@require_POST
def end(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda b: MomentForm(request.POST),
        lambda b, d: sessions.end_meeting(request.user, b, at=d["at"]),
        _("Meeting ended; the video session is closed."),
    )


@login_required
@require_POST
def missed(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda b: ReasonForm(request.POST),
        lambda b, d: sessions.mark_missed(request.user, b, reason=d["reason"]),
        _("Meeting marked as missed."),
    )


# --- lawyers ------------------------------------------------------------------------------


@login_required
def lawyer_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in LawyerState.values:
        state = ""
    rows = get_object_or_404_domain(selectors.lawyers, request.user, state)
    return render(
        request,
        "meetings/lawyers.html",
        {
            "rows": rows,
            "state": state,
            "states": LawyerState.choices,
            "refuse_form": RefuseForm,
        },
    )


@login_required
@require_POST
def lawyer_verify(request: HttpRequest, pk: int) -> HttpResponse:
    lawyer = get_object_or_404_domain(selectors.get_lawyer, request.user, pk)
    run_service(
        request,
        lambda: lawyers.verify_lawyer(request.user, lawyer),
        _("Licence verified: the lawyer may book meetings."),
    )
    return redirect(reverse("meeting-lawyers") + f"#lawyer-{lawyer.pk}")


@login_required
@require_POST
def lawyer_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    lawyer = get_object_or_404_domain(selectors.get_lawyer, request.user, pk)
    submit_form(
        request,
        RefuseForm(request.POST),
        lambda d: lawyers.refuse_lawyer(request.user, lawyer, reason=d["reason"]),
        _("Licence refused; the lawyer sees your reasons."),
    )
    return redirect(reverse("meeting-lawyers") + f"#lawyer-{lawyer.pk}")


@login_required
def lawyer_profile(request: HttpRequest) -> HttpResponse:
    if not access.is_lawyer(request.user):
        raise Http404
    if request.method == "POST":
        submit_form(
            request,
            LicenceForm(request.POST),
            lambda d: lawyers.register_licence(request.user, licence_number=d["licence_number"]),
            _("Licence registered; a detention centre verifies it."),
        )
        return redirect("meeting-lawyer-profile")
    licence = selectors.own_licence(request.user)
    may_register = licence is None or licence.state != LawyerState.VERIFIED
    return render(
        request,
        "meetings/lawyer.html",
        {"licence": licence, "form": LicenceForm() if may_register else None},
    )


# --- detainees ----------------------------------------------------------------------------


@login_required
def detainee_list(request: HttpRequest) -> HttpResponse:
    centre = access.staff_centre(request.user)
    if centre is None:
        raise Http404
    if request.method == "POST":
        submit_form(
            request,
            DetaineeForm(request.POST),
            lambda d: detainees.register_detainee(
                request.user,
                name=d["name"],
                id_number=d["id_number"],
                handling_organisation=d["handling_organisation"],
                case_number=d["case_number"],
                received_at=d["received_at"],
            ),
            _("Detainee registered."),
        )
        return redirect("meeting-detainees")
    rows = selectors.centre_detainees(request.user)[:300]
    return render(
        request,
        "meetings/detainees.html",
        {"centre": centre, "rows": rows, "form": DetaineeForm(auto_id="id_new_%s")},
    )


@login_required
@require_POST
def detainee_release(request: HttpRequest, pk: int) -> HttpResponse:
    detainee = get_object_or_404_domain(selectors.get_detainee, request.user, pk)
    submit_form(
        request,
        MomentForm(request.POST),
        lambda d: detainees.release_detainee(request.user, detainee, at=d["at"]),
        _("Release recorded; the detainee's open bookings are refused."),
    )
    return redirect("meeting-detainees")
