"""UI for the custodians' rooms: inventories, shelf labels, stock-taking (盘点)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casecenter.errors import DomainError
from casecenter.property import labels, selectors, services
from casecenter.property.forms import SignOffForm
from casecenter.property.models import StockTake
from casecenter.web.forms import get_object_or_404_domain


@login_required
def room_list(request: HttpRequest) -> HttpResponse:
    rooms = selectors.rooms_of(request.user).prefetch_related("locations")
    return render(request, "property/rooms.html", {"rooms": rooms})


@login_required
def room_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The room's inventory: every shelf and what lies on it."""
    room = get_object_or_404_domain(selectors.get_room, request.user, pk)
    return render(
        request,
        "property/room.html",
        {
            "room": room,
            "shelves": selectors.shelves_with_items(request.user, room),
            "open_count": selectors.counts_of(room).filter(state=StockTake.State.OPEN).first(),
        },
    )


@login_required
def location_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One shelf's inventory (where scanning a shelf label leads)."""
    location = get_object_or_404_domain(selectors.get_location, request.user, pk)
    items = selectors.shelf_items(request.user, location)
    return render(request, "property/location.html", {"location": location, "items": items})


@login_required
def shelf_labels(request: HttpRequest, pk: int) -> HttpResponse:
    room = get_object_or_404_domain(selectors.get_room, request.user, pk)
    return render(
        request,
        "property/label.html",
        {"room": room, "labels": [labels.location_label(loc) for loc in room.locations.all()]},
    )


@login_required
def count_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The room's counts, newest first, and the button to start one."""
    room = get_object_or_404_domain(selectors.get_room, request.user, pk)
    if request.method == "POST":
        try:
            count = services.start_count(request.user, room)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Count started: scan a shelf label, then the items on that shelf.")
            )
            return redirect("property-count", pk=count.pk)
        return redirect("property-counts", pk=room.pk)
    counts = selectors.counts_of(room)
    open_count = counts.filter(state=StockTake.State.OPEN).first()
    return render(
        request, "property/counts.html", {"room": room, "counts": counts, "open_count": open_count}
    )


def _count_context(count: StockTake) -> dict:
    result = services.count_result(count)
    return {
        "count": count,
        "room": count.room,
        "tally": selectors.tally(count),
        "result": result,
        "missing": [(number, count.expected.get(number, "")) for number in result["missing"]],
        "differences": len(result["missing"])
        + len(result["unexpected"])
        + len(result["misplaced"]),
    }


@login_required
def count_detail(request: HttpRequest, pk: int) -> HttpResponse:
    count = get_object_or_404_domain(selectors.get_count, request.user, pk)
    context = _count_context(count)
    context["sign_form"] = SignOffForm() if count.state == StockTake.State.OPEN else None
    return render(request, "property/count.html", context)


def _verdict_text(verdict: selectors.Verdict) -> str:
    """A read's meaning, said at once to the person scanning."""
    words = {
        "shelf": _("Shelf %(code)s: now scan the items on it."),
        "ok": _("%(code)s is in its place."),
        "misplaced": _("%(code)s belongs on %(expected)s."),
        "no_shelf": _("%(code)s counted, but scan a shelf label first."),
        "unexpected": _("%(code)s is not expected in this room."),
    }
    return words[verdict.kind] % {"code": verdict.code, "expected": verdict.expected_shelf}


@login_required
@require_POST
def count_scan(request: HttpRequest, pk: int) -> HttpResponse:
    """One label read into a count; the htmx box gets the live tally back."""
    count = get_object_or_404_domain(selectors.get_count, request.user, pk)
    try:
        scan = services.record_scan(request.user, count, labels.read_scan(request.POST.get("code")))
    except DomainError as exc:
        verdict = ("error", exc.message)
    else:
        read = selectors.verdict(count, scan)
        verdict = (read.kind, _verdict_text(read))
    if not request.htmx:
        (messages.error if verdict[0] == "error" else messages.success)(request, verdict[1])
        return redirect("property-count", pk=count.pk)
    count.refresh_from_db()
    context = {**_count_context(count), "verdict": verdict}
    return render(request, "property/_count_live.html", context)


@login_required
@require_POST
def count_sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    count = get_object_or_404_domain(selectors.get_count, request.user, pk)
    form = SignOffForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The note is too long."))
        return redirect("property-count", pk=count.pk)
    try:
        services.sign_off(request.user, count, note=form.cleaned_data["note"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Count signed off."))
    return redirect("property-count", pk=count.pk)
