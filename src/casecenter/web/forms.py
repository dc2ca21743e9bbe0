"""How the UI shows domain errors: on the form, or as a 404/403 page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest

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
