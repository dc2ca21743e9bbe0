"""Shell of the UI: the home page, login, and the error pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from casecenter.accounts.models import Role
from casecenter.cases.models import CaseState
from casecenter.cases.selectors import case_list
from casecenter.incidents.models import IncidentState
from casecenter.incidents.selectors import incident_list

#: where the other organisations' people start: they have no police desk
PARTNER_DESKS = {
    Role.PROSECUTOR: "exchange-hub",
    Role.JUDGE: "exchange-hub",
    Role.DUTY_LAWYER: "exchange-hub",
    Role.DETENTION_STAFF: "meeting-list",
    Role.DEFENCE_LAWYER: "meeting-list",
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The officer's desk: my open cases, open incidents, the station's caseload by
    stage. The procuratorate's, court's and legal aid's people start at their
    inbox; the detention centre's and lawyers at the meetings."""
    user = request.user
    if user.role in PARTNER_DESKS:
        return redirect(PARTNER_DESKS[user.role])
    by_state = dict(
        case_list(user).order_by().values_list("state").annotate(n=Count("id", distinct=True))
    )
    context = {
        "my_cases": case_list(user, assigned_to_me=True).exclude(state=CaseState.CLOSED)[:10],
        "open_incidents": incident_list(user, state=IncidentState.OPEN)[:10],
        "stages": [(label, by_state.get(value, 0), value) for value, label in CaseState.choices],
    }
    return render(request, "web/home.html", context)


def error_400(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A bad request — or a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, which is 413."""
    from django.core.exceptions import RequestDataTooBig
    from django.views.defaults import bad_request

    response = bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        response.status_code = 413
    return response


def error_404(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "web/404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    """Stands alone (no user, no database): it must render when those are what failed."""
    return render(request, "web/500.html", status=500)
