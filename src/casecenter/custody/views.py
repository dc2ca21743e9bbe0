"""Custody-area pages: the live map, entry registration, a stay, the interrogation desk.
Thin: parse, call a service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casecenter import images
from casecenter.accounts.models import POLICE_ROLES, User
from casecenter.cases import access
from casecenter.cases import selectors as cases
from casecenter.custody import selectors, services
from casecenter.custody.forms import EntryForm, ExitForm, SessionForm, parse_belongings
from casecenter.custody.models import INTERROGATION_ZONES, Device, Session, Stay, Zone
from casecenter.measures.models import Measure
from casecenter.supervision.selectors import alerts_about
from casecenter.web.forms import get_object_or_404_domain, run_service, submit_form


@login_required
def live_map(request: HttpRequest) -> HttpResponse:
    """The floor plan: who is where, for how long, recording state, alerts (polls itself)."""
    center = get_object_or_404_domain(selectors.get_center, request.user, request.GET.get("center"))
    partial = request.headers.get("HX-Request") == "true"
    view = selectors.center_map(request.user, center)
    # the page's read is audited; its polls when they show other people than the
    # read audited last in this session (no entry every few seconds for the same list)
    shown = f"{center.pk}:{selectors.shown_on(view)}"
    if not partial or request.session.get("custody-map-audited") != shown:
        selectors.audit_map(request.user, view)
        request.session["custody-map-audited"] = shown
    template = "custody/_map.html" if partial else "custody/map.html"
    return render(
        request,
        template,
        {
            "map": view,
            "stays": selectors.stays_in_area(request.user, center),
            "centers": selectors.centers_for(request.user),
            # the cameras that reported a fault, listed beside the plan with their code
            "faulty": [(z, c) for z in view.zones for c in z.cameras if c.fault],
        },
    )


def _officer_choices(users) -> list[tuple[int, str]]:
    return [(u.pk, f"{u.display_name or u.username} ({u.get_sex_display() or '—'})") for u in users]


@login_required
def enter(request: HttpRequest, party_id: int) -> HttpResponse:
    """入区登记 for a suspect of a case (opened from the case page)."""
    from casecenter.cases.models import Party

    party = Party.objects.select_related("case", "person").filter(pk=party_id).first()
    case = get_object_or_404_domain(cases.get_case, request.user, party.case_id if party else 0)
    if not access.may_read_personal(request.user, case):
        raise Http404  # the page names the person: those who read the case's people only
    center = get_object_or_404_domain(selectors.get_center, request.user, request.GET.get("center"))
    worn = Stay.objects.filter(exited_at__isnull=True, wristband__isnull=False)
    bands = Device.objects.filter(center=center, kind="wristband", active=True).exclude(
        pk__in=worn.values("wristband")
    )
    staff = User.objects.filter(
        is_active=True,
        role__in=POLICE_ROLES,
        organisation_id__in=[center.pk, case.organisation_id],
    ).order_by("username")
    measures = Measure.objects.filter(case=case, party=party, state=Measure.State.IN_FORCE)
    form = EntryForm(
        request.POST or None,
        wristbands=[(d.pk, d.code) for d in bands],
        officers=_officer_choices(staff),
        measures=[(m.pk, m.get_kind_display()) for m in measures],
    )
    if request.method == "POST":
        result: dict[str, Stay] = {}

        def register(d: dict) -> None:
            result["stay"] = services.register_entry(
                request.user,
                center=center,
                party=party,
                wristband=bands.get(pk=d["wristband"]),
                searched_by=staff.get(pk=d["searched_by"]),
                identity_checked=d["identity_checked"],
                health=d["health"],
                injuries=d["injuries"],
                belongings=parse_belongings(d["belongings"]),
                measure=measures.filter(pk=d["measure"]).first() if d["measure"] else None,
            )

        submit_form(request, form, register, _("Registered into the custody area."))
        if "stay" in result:
            return redirect("custody-stay", pk=result["stay"].pk)
    return render(
        request,
        "custody/enter.html",
        {"form": form, "party": party, "case": case, "center": center},
    )


@login_required
def stay_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A stay: the path through the zones beside the recording segments, vitals,
    belongings, sessions with their presence check, and the exit and desk forms."""
    stay = get_object_or_404_domain(selectors.get_stay, request.user, pk)
    sessions = list(stay.sessions.select_related("zone").prefetch_related("officers"))
    return render(
        request,
        "custody/stay.html",
        {
            "stay": stay,
            "path": selectors.stay_path(stay),
            "vitals": list(stay.vitals.order_by("-at")[:20]),
            # hours in the area against the summons or detention clock the arrival started
            "clocks": list(
                stay.measure.deadlines.filter(closed_at__isnull=True).select_related("rule")
            )
            if stay.measure
            else [],
            "belongings": list(stay.belongings.all()),
            # what the desk was alerted to about this person (the alert opens this page)
            "alerts": alerts_about(request.user, f"stay:{stay.pk}"),
            "sessions": [(s, services.session_mismatches(s)) for s in sessions],
            # the medical desk reads the stay; registering and the desk are not theirs
            "may_register": request.user.role in services.DESK_ROLES,
            "exit_form": ExitForm(),
            "session_form": _session_form(stay),
        },
    )


def _session_form(stay: Stay, data=None) -> SessionForm:
    """The desk's form: the center's rooms (interrogation rooms first) and the case's
    officers, all ticked; the service decides what may be opened where."""
    zones = Zone.objects.filter(center=stay.center)
    rooms = sorted(zones, key=lambda z: (z.kind not in INTERROGATION_ZONES, z.code))
    officers = [
        a.user for a in stay.case.assignments.filter(ended_at__isnull=True).select_related("user")
    ]
    return SessionForm(
        data,
        zones=[(z.pk, z.label) for z in rooms],
        officers=_officer_choices(officers),
        initial={"officers": [u.pk for u in officers]},
    )


@login_required
@require_POST
def stay_exit(request: HttpRequest, pk: int) -> HttpResponse:
    stay = get_object_or_404_domain(selectors.get_stay, request.user, pk)
    submit_form(
        request,
        ExitForm(request.POST),
        lambda d: services.register_exit(request.user, stay, reason=d["reason"]),
        _("Registered out of the custody area."),
    )
    return redirect("custody-stay", pk=pk)


@login_required
@require_POST
def session_open(request: HttpRequest, pk: int) -> HttpResponse:
    stay = get_object_or_404_domain(selectors.get_stay, request.user, pk)
    form = _session_form(stay, request.POST)
    parent = stay.sessions.filter(ended_at__isnull=True, parent__isnull=True).last()

    def open_one(d: dict) -> None:
        kind = d["kind"]
        services.open_session(
            request.user,
            stay,
            zone=Zone.objects.get(pk=d["zone"]),
            officers=User.objects.filter(pk__in=d["officers"]),
            kind=kind,
            parent=parent if kind != Session.Kind.INTERROGATION else None,
        )

    submit_form(request, form, open_one, _("Session opened; the room's cameras record."))
    return redirect("custody-stay", pk=pk)


@login_required
@require_POST
def session_close(request: HttpRequest, pk: int, session_id: int) -> HttpResponse:
    stay = get_object_or_404_domain(selectors.get_stay, request.user, pk)
    session = stay.sessions.filter(pk=session_id).first()
    if session is None:
        messages.error(request, _("No such session."))
    else:
        run_service(
            request, lambda: services.close_session(request.user, session), _("Session closed.")
        )
    return redirect("custody-stay", pk=pk)


@login_required
@require_POST
def belonging_photo(request: HttpRequest, pk: int, belonging_id: int) -> HttpResponse:
    stay = get_object_or_404_domain(selectors.get_stay, request.user, pk)
    belonging = stay.belongings.filter(pk=belonging_id).first()
    upload = request.FILES.get("photo")
    if belonging is None or upload is None:
        messages.error(request, _("Choose a photo of one of the belongings."))
    else:
        run_service(
            request,
            lambda: services.photograph_belonging(request.user, belonging, upload),
            _("Photo kept."),
        )
    return redirect("custody-stay", pk=pk)


@login_required
def belonging_photo_file(request: HttpRequest, pk: int, belonging_id: int) -> HttpResponse:
    """The photo, for those who may open the stay, as the image type it was checked to be."""
    stay = get_object_or_404_domain(selectors.get_stay, request.user, pk)
    belonging = stay.belongings.filter(pk=belonging_id).exclude(photo="").first()
    if belonging is None:
        raise Http404
    return images.response(belonging.photo, belonging.photo_type)
