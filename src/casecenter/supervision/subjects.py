"""Where a clock is shown: a case's clocks on the case page; a clock of another
record (``Deadline.subject`` "kind:id", e.g. "matter:12") on the page that app
registers for its kind, in its ``AppConfig.ready``."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from casecenter.supervision.models import Deadline

#: subject kind → name of the URL that takes the record's id
PAGES: dict[str, str] = {}


def register(kind: str, url_name: str) -> None:
    PAGES[kind] = url_name


def page(deadline: Deadline) -> str:
    """The path of the page a clock is shown on ("" when there is none)."""
    if deadline.case_id:
        return reverse("case-detail", args=[deadline.case_id]) + "#clocks"
    kind, _, ident = deadline.subject.partition(":")
    url_name = PAGES.get(kind)
    if not url_name or not ident.isdigit():
        return ""
    try:
        return reverse(url_name, args=[int(ident)])
    except NoReverseMatch:
        return ""
