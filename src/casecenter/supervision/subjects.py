"""Where a clock is shown: a clock about a record (``Deadline.subject`` "kind:id",
e.g. "matter:12", "assistance:3") on the page its app registers for that kind in
its ``AppConfig.ready``; any other clock of a case on the case's page."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from casecenter.supervision.models import Deadline

#: subject kind → name of the URL that takes the record's id
PAGES: dict[str, str] = {}


def register(kind: str, url_name: str) -> None:
    PAGES[kind] = url_name


def subject_page(deadline: Deadline) -> str:
    """The page its app registered for the clock's subject ("" when none): the
    record the clock is about, which may be another organisation's than the
    case's (a specialised unit's request for help on a station's case)."""
    kind, _, ident = deadline.subject.partition(":")
    url_name = PAGES.get(kind)
    if not url_name or not ident.isdigit():
        return ""
    try:
        return reverse(url_name, args=[int(ident)])
    except NoReverseMatch:
        return ""


def page(deadline: Deadline) -> str:
    """The path of the page a clock is shown on ("" when there is none): its
    subject's page where one is registered, else its case's clocks."""
    found = subject_page(deadline)
    if found or not deadline.case_id:
        return found
    return reverse("case-detail", args=[deadline.case_id]) + "#clocks"
