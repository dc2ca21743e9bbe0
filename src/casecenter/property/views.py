"""UI for seized items: search, the item page and its moves, photos, labels, the scan box.

Rooms, shelves and counts are in ``storage_views``. Views parse, call a
service or selector, render; what a viewer may do is decided by the services
(and offered by ``forms.moves_for``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from casecenter import images
from casecenter.accounts.models import Organisation, User
from casecenter.cases import selectors as cases
from casecenter.errors import InvalidInput, NotFound
from casecenter.property import labels, selectors, services
from casecenter.property.forms import (
    METHODS,
    PURPOSES,
    AppraisalResultForm,
    RegisterItemForm,
    may_record_result,
    move_form,
    moves_for,
)
from casecenter.property.models import (
    Appraisal,
    Category,
    CustodyEvent,
    Item,
    ItemState,
    Location,
    Photo,
    Room,
)
from casecenter.web.forms import get_object_or_404_domain, submit_form


def _number(value: str | None) -> int | None:
    """An id from a query: 1 to 15 ASCII digits, anything else is none."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 15 else None


@login_required
def item_list_view(request: HttpRequest) -> HttpResponse:
    f = {k: request.GET.get(k, "")[:100] for k in ("number", "description", "category", "state")}
    f["room"] = request.GET.get("room", "")[:15]
    rows = selectors.item_list(
        request.user,
        number=f["number"].strip(),
        description=f["description"].strip(),
        category=f["category"] if f["category"] in Category.values else "",
        state=f["state"] if f["state"] in ItemState.values else "",
        room=_number(f["room"]),
    )
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    template = "property/_item_rows.html" if request.htmx else "property/items.html"
    return render(
        request,
        template,
        {
            "page": page,
            "filters": f,
            "categories": Category.choices,
            "states": ItemState.choices,
            "rooms": selectors.rooms_of(request.user),
        },
    )


def _sides(event: CustodyEvent) -> tuple[str, str]:
    """Who gave and who took, a person outside the system (``counterparty``) included."""
    giver = str(event.giver) if event.giver_id else ""
    receiver = str(event.receiver) if event.receiver_id else ""
    if event.counterparty:
        if event.kind == CustodyEvent.Kind.RETURNED:
            giver = giver or event.counterparty
        else:
            receiver = receiver or event.counterparty
    return giver, receiver


def _event_words(event: CustodyEvent) -> list[str]:
    """The facts of a custody event that its columns do not hold, in words."""
    data, words = event.data or {}, []
    if data.get("purpose") in PURPOSES:
        words.append(_("purpose: %(p)s") % {"p": PURPOSES[data["purpose"]]})
    if data.get("expected_return_at"):
        try:
            when = timezone.localtime(datetime.fromisoformat(data["expected_return_at"]))
        except (TypeError, ValueError):
            pass  # an odd record must not break the page; the audit log has it verbatim
        else:
            words.append(_("to be returned by %(at)s") % {"at": when.strftime("%Y-%m-%d %H:%M")})
    if data.get("method") in METHODS:
        words.append(_("disposal: %(m)s") % {"m": METHODS[data["method"]]})
    if data.get("approved_by"):
        approver = User.objects.filter(pk=data["approved_by"]).first()
        words.append(_("approved by %(who)s") % {"who": approver or "?"})
    if data.get("receipt"):
        words.append(_("receipt %(number)s") % {"number": data["receipt"]})
    if data.get("officers"):
        names = ", ".join(str(u) for u in User.objects.filter(pk__in=data["officers"]))
        words.append(_("seized by %(names)s") % {"names": names})
    return words


@login_required
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404_domain(selectors.get_item, request.user, pk)
    user = request.user
    may_result = may_record_result(user, item)
    appraisals = [
        (a, AppraisalResultForm(auto_id=f"id_a{a.pk}_%s") if may_result else None)
        for a in selectors.appraisals_of(item)
    ]
    shown = selectors.read_item(user, item)
    sealed = selectors.is_sealed(item)
    events = [(e, *_sides(e), [] if sealed else _event_words(e)) for e in selectors.events_of(item)]
    return render(
        request,
        "property/item.html",
        {
            "item": item,
            "sealed": sealed,
            "owner": shown.owner,
            "case_visible": cases.case_list(user).filter(pk=item.case_id).exists(),
            "events": events,
            "clocks": shown.clocks,
            "appraisals": appraisals,
            "appraisal_form": move_form("appraisal", user, item),
            "photos": item.photos.order_by("uploaded_at", "id"),
            "photo_form": move_form("photo", user, item),
            "moves": moves_for(user, item),
            "now": timezone.now(),
        },
    )


def _move_call(name: str, user: User, item: Item) -> Callable[[dict], Any]:
    """The service call of a move, from the move form's cleaned data."""
    calls: dict[str, Callable[[dict], Any]] = {
        "hand-over": lambda d: services.hand_over(
            user, item, receiver=User.objects.get(pk=d["receiver"]), at=d["at"]
        ),
        "store": lambda d: services.store_item(
            user, item, location=Location.objects.get(pk=d["location"]), at=d["at"]
        ),
        "move": lambda d: services.move_item(
            user, item, location=Location.objects.get(pk=d["location"]), at=d["at"]
        ),
        "check-out": lambda d: services.check_out(
            user,
            item,
            purpose=d["purpose"],
            to=d["to"],
            expected_return_at=d["expected_return_at"],
            reason=d["reason"],
            at=d["at"],
        ),
        "return": lambda d: services.return_item(
            user, item, location=Location.objects.get(pk=d["location"]), at=d["at"]
        ),
        "transfer": lambda d: services.transfer(
            user,
            item,
            organisation=Organisation.objects.get(pk=d["organisation"]),
            receipt_number=d["receipt_number"],
            receiver_name=d["receiver_name"],
            at=d["at"],
        ),
        "dispose": lambda d: services.dispose(
            user,
            item,
            method=d["method"],
            approver=User.objects.get(pk=d["approver"]),
            reason=d["reason"],
            at=d["at"],
        ),
        "appraisal": lambda d: services.request_appraisal(
            user,
            item,
            kind=d["kind"],
            room=Room.objects.get(pk=d["room"]),
            question=d["question"],
        ),
        "photo": lambda d: services.add_photo(user, item, d["photo"]),
    }
    return calls[name]


MOVE_DONE = {
    "hand-over": gettext_lazy("Hand-over recorded."),
    "store": gettext_lazy("Item stored."),
    "move": gettext_lazy("Item moved."),
    "check-out": gettext_lazy("Check-out recorded; its return clock is running."),
    "return": gettext_lazy("Return recorded."),
    "transfer": gettext_lazy("Transfer recorded."),
    "dispose": gettext_lazy("Disposal recorded."),
    "appraisal": gettext_lazy("Appraisal requested."),
    "photo": gettext_lazy("Photo added."),
}


@login_required
@require_POST
def item_move(request: HttpRequest, pk: int, move: str) -> HttpResponse:
    item = get_object_or_404_domain(selectors.get_item, request.user, pk)
    form = move_form(move, request.user, item, request.POST, request.FILES)
    if form is None:  # not this viewer's move in this state (the page was stale)
        messages.error(request, _("This step is not open to you in the item's present state."))
    else:
        submit_form(request, form, _move_call(move, request.user, item), str(MOVE_DONE[move]))
    anchor = {"appraisal": "#appraisals", "photo": "#photos"}.get(move, "")
    return redirect(reverse("property-item", args=[item.pk]) + anchor)


@login_required
@require_POST
def appraisal_result(request: HttpRequest, pk: int) -> HttpResponse:
    appraisal = Appraisal.objects.filter(pk=pk).select_related("item").first()
    if appraisal is None:
        raise Http404
    item = get_object_or_404_domain(selectors.get_item, request.user, appraisal.item_id)
    submit_form(
        request,
        AppraisalResultForm(request.POST),
        lambda d: services.record_appraisal_result(
            request.user, appraisal, result=d["result"], value=d["value"]
        ),
        _("Appraisal result recorded."),
    )
    return redirect(reverse("property-item", args=[item.pk]) + "#appraisals")


@login_required
def photo_file(request: HttpRequest, pk: int) -> HttpResponse:
    """A photo of an item in the viewer's scope, as the image type it was checked to be."""
    photo = Photo.objects.filter(pk=pk).first()
    if photo is None:
        raise Http404
    item = get_object_or_404_domain(selectors.get_item, request.user, photo.item_id)
    if selectors.is_sealed(item):
        raise Http404  # a sealed item's photos are not its custodian's to see
    return images.response(photo.file, photo.content_type)


@login_required
def item_label(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404_domain(selectors.get_item, request.user, pk)
    return render(
        request,
        "property/label.html",
        {"item": item, "labels": [labels.item_label(item, sealed=selectors.is_sealed(item))]},
    )


@login_required
@require_POST
def item_register(request: HttpRequest, pk: int) -> HttpResponse:
    """The case page's "register a seized item" form."""
    case = get_object_or_404_domain(cases.get_case, request.user, pk)
    form = RegisterItemForm(request.POST, case=case)
    registered: list = []

    def register(d: dict) -> None:
        owner = case.parties.filter(pk=d["owner"]).first() if d["owner"] else None
        registered.append(
            services.register_item(
                request.user,
                case,
                category=d["category"],
                description=d["description"],
                quantity=d["quantity"],
                unit=d["unit"],
                seized_at=d["seized_at"],
                seized_place=d["seized_place"],
                owner=owner,
                officers=list(User.objects.filter(pk__in=d["officers"])),
            )
        )

    submit_form(request, form, register, _("Seized item registered: print its label."))
    if registered:
        return redirect("property-item", pk=registered[0].pk)
    return redirect(reverse("case-detail", args=[case.pk]) + "#property")


@login_required
def scan(request: HttpRequest) -> HttpResponse:
    """The scan box: a hand scanner types a label's code and Enter. An item's number
    opens the item, a shelf's code its inventory; anything else says so."""
    raw = request.GET.get("code")
    if raw is None:
        return render(request, "property/scan.html", {"code": ""})
    try:
        found = selectors.lookup(request.user, labels.read_scan(raw))
    except (InvalidInput, NotFound) as exc:
        status = 404 if isinstance(exc, NotFound) else 400
        context = {"code": raw[:100], "problem": exc.message, "unreadable": status == 400}
        return render(request, "property/scan.html", context, status=status)
    if found.item is not None:
        return redirect("property-item", pk=found.item.pk)
    return redirect("property-location", pk=found.location.pk)
