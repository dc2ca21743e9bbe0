"""How the UI shows domain errors: on the form, or as a 404/403 page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from casecenter.errors import DomainError, NotFound, PermissionDenied

T = TypeVar("T")


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    form.add_error(None, exc.message)


def get_object_or_404_domain(selector: Callable[..., T], *args: Any) -> T:
    """Call a selector; its NotFound becomes a 404 page, PermissionDenied a 403."""
    try:
        return selector(*args)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc


def run_service(request: HttpRequest, call: Callable[[], Any], success: str) -> None:
    """Run a service call from a form post: its DomainError becomes an error
    message on the next page, success a success message."""
    try:
        call()
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)


def submit_form(
    request: HttpRequest, form: forms.Form, call: Callable[[dict], Any], success: str
) -> None:
    """Call ``call(cleaned_data)`` if the form is valid; report either way."""
    if form.is_valid():
        run_service(request, lambda: call(form.cleaned_data), success)
        return
    problems = "; ".join(
        f"{form.fields[name].label if name in form.fields else ''} {' '.join(errors)}".strip()
        for name, errors in form.errors.items()
    )
    messages.error(request, _("Please correct the form: %(problems)s") % {"problems": problems})


def _now_local() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def moment_field(label: str) -> forms.DateTimeField:
    """A date-and-time field for when something happened, defaulting to now."""
    return forms.DateTimeField(
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        initial=_now_local,
    )
