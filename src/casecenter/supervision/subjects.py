"""Where a clock or an alert is shown.

A clock about a record (``Deadline.subject`` "kind:id", e.g. "matter:12",
"assistance:3") is shown on the page its app registers for that kind in its
``AppConfig.ready``; any other clock of a case on the case's page. An alert
opens the page of its own ``subject`` where one is registered (a custody
alert: the person's stay, which the center's staff may open, not the station's
case, which they may not), else its clock's page, else its case's.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from casecenter.supervision.models import Alert, Deadline

#: subject kind → name of the URL that takes the record's id
PAGES: dict[str, str] = {}
#: subject kind → what its page is called ("Stay"), lazily translated
LABELS: dict[str, object] = {}


def register(kind: str, url_name: str, label: object = None) -> None:
    PAGES[kind] = url_name
    if label is not None:
        LABELS[kind] = label


def label_of(subject: str) -> str:
    """What the page of a subject is called, in the request's language ("" if unnamed)."""
    label = LABELS.get(subject.partition(":")[0])
    return str(label) if label is not None else ""


def page_of(subject: str) -> str:
    """The registered page of a "kind:id" subject ("" when none)."""
    kind, _, ident = subject.partition(":")
    url_name = PAGES.get(kind)
    if not url_name or not ident.isdigit():
        return ""
    try:
        return reverse(url_name, args=[int(ident)])
    except NoReverseMatch:
        return ""


def subject_page(deadline: Deadline) -> str:
    """The page its app registered for the clock's subject ("" when none): the
    record the clock is about, which may be another organisation's than the
    case's (a specialised unit's request for help on a station's case)."""
    return page_of(deadline.subject)


def page(deadline: Deadline) -> str:
    """The path of the page a clock is shown on ("" when there is none): its
    subject's page where one is registered, else its case's clocks."""
    found = subject_page(deadline)
    if found or not deadline.case_id:
        return found
    return reverse("case-detail", args=[deadline.case_id]) + "#clocks"


def alert_page(alert: Alert) -> str:
    """The page an alert opens ("" when none): its subject's, its clock's, its case's."""
    found = page_of(alert.subject)
    if found:
        return found
    if alert.deadline_id:
        return page(alert.deadline)
    return reverse("case-detail", args=[alert.case_id]) if alert.case_id else ""
