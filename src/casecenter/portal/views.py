"""Public pages (no login) and the staff's receipt printing. Thin: parse, call, render."""

from __future__ import annotations

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from casecenter.accounts.lockout import client_address
from casecenter.cases import selectors as cases
from casecenter.errors import DomainError
from casecenter.portal import services
from casecenter.portal.models import Receipt
from casecenter.portal.selectors import (
    party_view,
    public_case,
    station_feedback,
    with_public_stamp,
)
from casecenter.portal.timeline import timeline
from casecenter.web.forms import get_object_or_404_domain, run_service, submit_form

SESSION_KEY = "portal_receipts"


class FindForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("receipt number"), max_length=40)
    last4 = forms.RegexField(
        label=gettext_lazy("last four digits of your phone"), regex=r"^[0-9]{4}$", max_length=4
    )


def _client(request: HttpRequest) -> str:
    """The client's address (a trusted proxy's word for it only when
    ``CASECENTER_TRUSTED_PROXIES`` names that proxy): the same as the login lockout's."""
    return (client_address(request) or "unknown")[:60]


def _too_many(exc: services.TooManyAttempts) -> str:
    """What a slowed client or receipt is told, with the ways in that still work."""
    if exc.receipt_slowed and exc.station_phone:
        return _(
            "This receipt is locked for a while after several wrong answers. Scan the QR "
            "code on your receipt to open it at once, or call the handling unit: %(phone)s."
        ) % {"phone": exc.station_phone}
    if exc.receipt_slowed:
        return _(
            "This receipt is locked for a while after several wrong answers. Scan the QR "
            "code on your receipt to open it at once, or call the handling unit."
        )
    return _(
        "Too many wrong answers from this connection. Please try again in a few minutes, "
        "or scan the QR code on your receipt."
    )


def _remember(request: HttpRequest, receipt: Receipt) -> None:
    ids = [i for i in request.session.get(SESSION_KEY, []) if i != receipt.pk][-4:]
    request.session[SESSION_KEY] = [*ids, receipt.pk]
    request.session.cycle_key()


def find(request: HttpRequest) -> HttpResponse:
    """Receipt number plus the last four digits of the phone the party gave.

    ``?n=`` fills in the receipt number (the link in notifications).
    """
    form = FindForm(request.POST or None, initial={"number": request.GET.get("n", "")[:40]})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            receipt = services.open_by_number(
                form.cleaned_data["number"], form.cleaned_data["last4"], client=_client(request)
            )
        except services.TooManyAttempts as exc:
            form.add_error(None, _too_many(exc))
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
    except services.TooManyAttempts as exc:
        return render(
            request, "portal/find.html", {"form": FindForm(), "problem": _too_many(exc)}, status=429
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


#: what the public page reads of a receipt, its case and unit (the rest stays unread:
#: this query is most of the page's work; tests/portal/test_public_cache.py counts them)
OPENED_FIELDS = [
    *("number", "issued_at", "revoked_at"),
    *("case__number", "case__kind", "case__state", "case__secret", "case__closed_at"),
    *("case__organisation__name", "case__organisation__name_en", "case__organisation__phone"),
]


def _opened(request: HttpRequest) -> list[Receipt]:
    """The receipts this browser opened that still open their case (checked on the
    rows read now, never on anything cached), the newest first."""
    ids = request.session.get(SESSION_KEY, [])
    receipts = (
        Receipt.objects.select_related("case__organisation")
        .filter(pk__in=ids)
        .only(*OPENED_FIELDS)
        .order_by()
    )
    opened = [r for r in with_public_stamp(receipts) if services.viewable(r)]
    return sorted(opened, key=lambda r: (r.issued_at, r.pk), reverse=True)


def case(request: HttpRequest) -> HttpResponse:
    """The public timeline of the cases this browser opened, with the party's feedback."""
    receipts = _opened(request)
    if not receipts:
        return redirect("portal-find")
    views = [party_view(r) for r in receipts]
    return render(
        request,
        "portal/case.html",
        {"views": [(v, timeline(request, v)) for v in views]},
    )


class RateForm(forms.Form):
    milestone = forms.CharField(max_length=40)
    stars = forms.TypedChoiceField(
        label=gettext_lazy("rating"), choices=[(i, i) for i in range(1, 6)], coerce=int
    )
    comment = forms.CharField(
        label=gettext_lazy("comment"), max_length=services.COMMENT_MAX, required=False
    )


class MessageForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("message"), max_length=services.MESSAGE_MAX, widget=forms.Textarea
    )


def _receipt_of(request: HttpRequest, receipt_id: int) -> Receipt | None:
    return next((r for r in _opened(request) if r.pk == receipt_id), None)


def _feedback_post(request: HttpRequest, receipt_id: int, form, call, success: str):
    """A party's rating or message: only for a receipt this browser opened."""
    receipt = _receipt_of(request, receipt_id)
    if receipt is None:
        return redirect("portal-find")
    submit_form(request, form, lambda data: call(receipt, data), success)
    return redirect("portal-case")


@require_POST
def rate(request: HttpRequest, receipt_id: int) -> HttpResponse:
    return _feedback_post(
        request,
        receipt_id,
        RateForm(request.POST),
        lambda receipt, data: services.rate(receipt, **data),
        _("Thank you for your rating."),
    )


@require_POST
def message(request: HttpRequest, receipt_id: int) -> HttpResponse:
    return _feedback_post(
        request,
        receipt_id,
        MessageForm(request.POST),
        lambda receipt, data: services.leave_message(receipt, data["body"]),
        _("Your message has been sent to the handling unit."),
    )


@login_required
@require_POST
def issue(request: HttpRequest, case_id: int, party_id: int) -> HttpResponse:
    """Issue (or reissue) a receipt and show it for printing, QR code and all."""
    the_case = get_object_or_404_domain(cases.get_case, request.user, case_id)
    party = the_case.parties.filter(pk=party_id).select_related("person").first()
    if party is None:
        messages.error(request, _("No such person in this case."))
        return redirect("case-detail", pk=case_id)
    language = request.POST.get("party_language", "zh-hans")
    try:
        receipt, token = services.issue_receipt(request.user, the_case, party, language=language)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("case-detail", pk=case_id)
    link = request.build_absolute_uri(reverse("portal-token", args=[token]))
    qr = segno.make(link, error="m").svg_inline(scale=4, border=2)
    with translation.override(receipt.language):  # printed in the party's language
        return render(
            request,
            "portal/receipt.html",
            {
                "receipt": receipt,
                "case": the_case,
                "link": link,
                "qr": qr,
                "view": public_case(the_case, receipt),
                "find_url": request.build_absolute_uri(reverse("portal-find")),
            },
        )


@login_required
@require_POST
def answer(request: HttpRequest, case_id: int, message_id: int) -> HttpResponse:
    """Staff answer a party's message from the case page (or the feedback list)."""
    the_case = get_object_or_404_domain(cases.get_case, request.user, case_id)
    found = the_case.messages.filter(pk=message_id).first()
    back = request.POST.get("next") or reverse("case-detail", args=[case_id])
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("case-detail", args=[case_id])
    if found is None:
        messages.error(request, _("No such message in this case."))
        return redirect(back)
    run_service(
        request,
        lambda: services.answer_message(request.user, found, request.POST.get("answer", "")),
        _("Answer sent; the party is told by SMS or e-mail where they gave one."),
    )
    return redirect(back)


@login_required
def feedback(request: HttpRequest) -> HttpResponse:
    """Ratings and messages of the cases the user reads, unanswered messages first."""
    return render(
        request,
        "portal/feedback.html",
        {"feedback": station_feedback(request.user), "now": timezone.now()},
    )
