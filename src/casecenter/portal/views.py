"""Public pages (no login) and the staff's receipt printing. Thin: parse, call, render."""

from __future__ import annotations

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from casecenter.cases import selectors as cases
from casecenter.errors import DomainError
from casecenter.portal import services
from casecenter.portal.models import Receipt
from casecenter.portal.selectors import public_case
from casecenter.web.forms import get_object_or_404_domain

SESSION_KEY = "portal_receipts"


class FindForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("receipt number"), max_length=40)
    last4 = forms.RegexField(
        label=gettext_lazy("last four digits of your phone"), regex=r"^[0-9]{4}$", max_length=4
    )


def _client(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "unknown")[:60]


def _remember(request: HttpRequest, receipt: Receipt) -> None:
    ids = [i for i in request.session.get(SESSION_KEY, []) if i != receipt.pk][-4:]
    request.session[SESSION_KEY] = [*ids, receipt.pk]
    request.session.cycle_key()


def find(request: HttpRequest) -> HttpResponse:
    """Receipt number plus the last four digits of the phone the party gave."""
    form = FindForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            receipt = services.open_by_number(
                form.cleaned_data["number"], form.cleaned_data["last4"], client=_client(request)
            )
        except services.TooManyAttempts:
            form.add_error(None, _("Too many attempts. Please try again in a few minutes."))
            status = 429
        else:
            if receipt is not None:
                _remember(request, receipt)
                return redirect("portal-case")
            form.add_error(
                None,
                _("The receipt number and phone digits do not match a case that can be viewed."),
            )
            status = 404
    return render(request, "portal/find.html", {"form": form}, status=status)


def by_token(request: HttpRequest, token: str) -> HttpResponse:
    """The QR code's link: open the case, then drop the token from the address."""
    try:
        receipt = services.open_by_token(token, client=_client(request))
    except services.TooManyAttempts:
        return render(
            request,
            "portal/find.html",
            {
                "form": FindForm(),
                "problem": _("Too many attempts. Please try again in a few minutes."),
            },
            status=429,
        )
    if receipt is None:
        return render(
            request,
            "portal/find.html",
            {
                "form": FindForm(),
                "problem": _(
                    "This link is not valid (any more). Use the "
                    "receipt number and your phone digits."
                ),
            },
            status=404,
        )
    _remember(request, receipt)
    return redirect("portal-case")


def case(request: HttpRequest) -> HttpResponse:
    """The public timeline of the cases this browser opened."""
    ids = request.session.get(SESSION_KEY, [])
    receipts = [
        r
        for r in Receipt.objects.select_related("case__organisation").filter(pk__in=ids)
        if services._public(r)
    ]
    if not receipts:
        return redirect("portal-find")
    return render(request, "portal/case.html", {"cases": [public_case(r) for r in receipts]})


@login_required
@require_POST
def issue(request: HttpRequest, case_id: int, party_id: int) -> HttpResponse:
    """Issue (or reissue) a receipt and show it for printing, QR code and all."""
    the_case = get_object_or_404_domain(cases.get_case, request.user, case_id)
    party = the_case.parties.filter(pk=party_id).select_related("person").first()
    if party is None:
        messages.error(request, _("No such person in this case."))
        return redirect("case-detail", pk=case_id)
    try:
        receipt, token = services.issue_receipt(request.user, the_case, party)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("case-detail", pk=case_id)
    link = request.build_absolute_uri(reverse("portal-token", args=[token]))
    qr = segno.make(link, error="m").svg_inline(scale=4, border=2)
    return render(
        request,
        "portal/receipt.html",
        {
            "receipt": receipt,
            "case": the_case,
            "link": link,
            "qr": qr,
            "view": public_case(receipt),
            "find_url": request.build_absolute_uri(reverse("portal-find")),
        },
    )
