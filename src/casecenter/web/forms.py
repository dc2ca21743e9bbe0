"""How the UI shows domain errors: on the form, or as a 404/403 page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404

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
