"""UI of the three-level response: the inbox (a unit's requests, the commander's
board, an officer's own), the request form, and a request's page with its
timeline, clock and the steps its viewer may take.

Views parse, call a service or selector, render. A refused step comes back as
a message on the request's page, never a half-done change.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from casecenter.assistance import access, selectors, services
from casecenter.assistance.forms import (
    AnswerForm,
    AskForm,
    CloseForm,
    EscalateForm,
    FollowUpForm,
    WithdrawForm,
)
from casecenter.assistance.models import Level, State
from casecenter.errors import DomainError
from casecenter.supervision.forms import period_text
from casecenter.web.forms import add_domain_error, get_object_or_404_domain, submit_form

STATES = [
    ("", gettext_lazy("All")),
    ("waiting", gettext_lazy("Waiting for an answer")),
    (State.ANSWERED, gettext_lazy("Answered")),
    (State.CLOSED, gettext_lazy("Closed by the asker")),
    (State.WITHDRAWN, gettext_lazy("Withdrawn")),
]


def _boxes(request: HttpRequest) -> list[tuple[str, str]]:
    """The inbox's tabs this user has, the default first."""
    user = request.user
    boxes = []
    if selectors.is_board_user(user):
        boxes.append(("board", _("Response board")))
    if selectors.is_helper(user):
        boxes.append(("unit", _("Requests to my unit")))
    boxes.append(("mine", _("My cases' requests")))
    return boxes


@login_required
def assistance_list(request: HttpRequest) -> HttpResponse:
    boxes = _boxes(request)
    box = request.GET.get("box", "")[:10]
    if box not in dict(boxes):
        box = boxes[0][0]
    state = request.GET.get("state", "")[:10]
    if state not in selectors.STATE_FILTERS:
        state = ""
    context = {"boxes": boxes, "box": box, "states": STATES, "filters": {"box": box}}
    if box == "board":
        context["board"] = selectors.board(request.user)
    else:
        rows = (
            selectors.unit_inbox(request.user, state=state)
            if box == "unit"
            else selectors.my_requests(request.user, state=state)
        )
        context["page"] = Paginator(rows, 25).get_page(request.GET.get("page"))
        context["filters"]["state"] = state
        context["now"] = timezone.now()
    return render(request, "assistance/list.html", context)


def _ask_form(request: HttpRequest, case, data=None) -> AskForm:
    return AskForm(data, units=access.units_in_reach(case), targets=selectors.level_targets())


@login_required
def assistance_new(request: HttpRequest) -> HttpResponse:
    """``?case=<id>``: the form to ask a unit in the case's reach for help."""
    raw = request.GET.get("case", "")
    if not raw:  # choose the case first
        cases = selectors.cases_to_ask_about(request.user)
        return render(request, "assistance/choose_case.html", {"cases": cases})
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 15):
        raise Http404
    case = get_object_or_404_domain(selectors.case_to_ask_about, request.user, int(raw))
    form = _ask_form(request, case, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            unit = access.units_in_reach(case).filter(pk=data["unit"]).first()
            try:
                made = services.ask_for_help(
                    request.user,
                    case,
                    unit=unit,
                    level=data["level"],
                    topic=data["topic"],
                    question=data["question"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Request %(number)s sent; its response clock is running.")
                    % {"number": made.number},
                )
                return redirect("assistance-detail", pk=made.pk)
        status = 422
    return render(
        request,
        "assistance/new.html",
        {
            "case": case,
            "form": form,
            "targets": [
                (level, label, period_text(period) if period else None)
                for level, label, period in selectors.level_targets()
            ],
        },
        status=status,
    )


@login_required
def assistance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    view = get_object_or_404_domain(selectors.read_request, request.user, pk)
    req = view.request
    targets = selectors.level_targets()
    return render(
        request,
        "assistance/detail.html",
        {
            "view": view,
            "req": req,
            "now": timezone.now(),
            "answer_form": (
                AnswerForm(initial={"round": req.round}, auto_id="id_answer_%s")
                if view.may_answer
                else None
            ),
            "follow_up_form": FollowUpForm(auto_id="id_follow_%s") if view.may_follow_up else None,
            "close_form": CloseForm() if view.may_close else None,
            "withdraw_form": WithdrawForm() if view.may_withdraw else None,
            "escalate_form": (
                EscalateForm(levels=view.higher_levels, targets=targets)
                if view.may_escalate
                else None
            ),
        },
    )


def _step_view(make_form: Callable, call: Callable, success: str) -> Callable:
    """The post of one step on a request's page: its form, its service, back to
    the page with a message (a refused step changes nothing)."""

    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        req = get_object_or_404_domain(selectors.get_request, request.user, pk)
        submit_form(
            request,
            make_form(request.POST, req),
            lambda d: call(request.user, req, d),
            str(success),
        )
        return redirect("assistance-detail", pk=pk)

    return view


assistance_answer = _step_view(
    lambda data, req: AnswerForm(data),
    lambda user, req, d: services.answer_request(
        user, req, answer=d["answer"], channel=d["channel"], round=d["round"]
    ),
    gettext_lazy("Answer sent to the officer."),
)
assistance_follow_up = _step_view(
    lambda data, req: FollowUpForm(data),
    lambda user, req, d: services.follow_up(user, req, question=d["question"]),
    gettext_lazy("Follow-up sent; the unit's response clock runs again."),
)
assistance_escalate = _step_view(
    lambda data, req: EscalateForm(
        data,
        levels=[lv for lv in Level.values if lv < req.level],
        targets=selectors.level_targets(),
    ),
    lambda user, req, d: services.escalate_request(user, req, level=d["level"], reason=d["reason"]),
    gettext_lazy("Level raised; the new level's clock runs from now."),
)
assistance_close = _step_view(
    lambda data, req: CloseForm(data),
    lambda user, req, d: services.close_request(user, req, helpful=d["helpful"], note=d["note"]),
    gettext_lazy("Request closed."),
)
assistance_withdraw = _step_view(
    lambda data, req: WithdrawForm(data),
    lambda user, req, d: services.withdraw_request(user, req, reason=d["reason"]),
    gettext_lazy("Request withdrawn; its clock is cancelled."),
)
