"""Template pieces of supervision: the case page's clocks card, the header's bell,
and the choice of a bilingual field in the user's language."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext

from casecenter import law
from casecenter.accounts.models import Role
from casecenter.cases.access import is_supervising
from casecenter.cases.models import Case
from casecenter.supervision import live, selectors, services, subjects
from casecenter.supervision.forms import ExtendForm, in_english, period_text, variant_choices
from casecenter.supervision.models import DeadlineState, Rule

register = template.Library()


@register.filter
def bilingual(value: object, field: str = "") -> str:
    """``obj|bilingual:"name"`` is ``obj.name_en`` or ``obj.name_zh``; a mapping
    with "zh" and "en" keys (a clock's computation) gives the matching one, or
    with a field, its "<field>_zh" / "<field>_en" key (a verification problem)."""
    suffix = "en" if in_english() else "zh"
    if isinstance(value, Mapping):
        return str(value.get(f"{field}_{suffix}" if field else suffix, ""))
    return str(getattr(value, f"{field}_{suffix}", ""))


@register.filter
def legal_basis(value: str) -> str:
    """A rule's legal basis as a reader of the user's language cites it."""
    return value if in_english() else law.basis_zh(value)


@register.filter
def duration_text(value: timedelta | None, depth: int = 2) -> str:
    """``2 hours, 5 minutes``, ``1 day`` … in the user's language; ``depth`` units."""
    if not value:
        return "0"
    now = timezone.now()
    return timesince(now - value, now, depth=int(depth))


@register.filter
def role_label(value: str) -> str:
    return str(Role(value).label) if value in Role.values else value


@register.filter
def clock_page(deadline) -> str:  # type: ignore[no-untyped-def]
    """The page a clock is shown on: its case's, or its record's."""
    return subjects.page(deadline)


@register.filter
def subject_page(deadline) -> str:  # type: ignore[no-untyped-def]
    """The page of the record a clock is about ("" for a plain case clock)."""
    return subjects.subject_page(deadline) if deadline else ""


@register.filter
def alert_page(alert) -> str:  # type: ignore[no-untyped-def]
    """The page an alert opens: its record's, its clock's or its case's."""
    return subjects.alert_page(alert)


@register.filter
def page_label(alert) -> str:  # type: ignore[no-untyped-def]
    return subjects.label_of(alert.subject)


@register.filter
def fact_lines(alert) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """An alert's facts as people read them: (label, value) in the request's language.

    A rule that raises alerts of its own writes them under ``facts["lines"]`` as
    ``[label_zh, label_en, value_zh, value_en]``; the other facts are for programs
    (the API) and are never shown as they are."""
    english = in_english()
    rows = []
    for line in (alert.facts or {}).get("lines", ()):
        if isinstance(line, list | tuple) and len(line) == 4:
            rows.append((str(line[1 if english else 0]), str(line[3 if english else 2])))
    return rows


@register.simple_tag
def rule_periods(rule: Rule) -> list[str]:
    """A rule's periods, each with its variant's name; a tuned policy period first."""
    labels = [label for _, label in variant_choices(rule.code)]
    tuned = services.tuned_period(rule)
    if tuned:
        labels.insert(0, gettext("%(period)s (local policy)") % {"period": period_text(tuned)})
    return labels


@register.simple_tag
def open_alert_count(user) -> int:  # type: ignore[no-untyped-def]
    return selectors.open_alert_count(user) if getattr(user, "receives_alerts", False) else 0


@register.simple_tag
def latest_alert_id() -> int:
    return live.latest_alert_id()


@register.inclusion_tag("supervision/_clocks.html", takes_context=True)
def clocks_card(context: template.Context, case: Case) -> dict:
    """The case's clocks, with the extension form for the legal-affairs unit."""
    request = context["request"]
    user = request.user
    may_extend = user.role in services.EXTENDING_ROLES and is_supervising(user, case)
    deadlines = selectors.case_deadlines(case).prefetch_related("extensions__approved_by")
    rows = []
    # open clocks first (a breach not yet answered on top), then the closed ones
    for deadline in sorted(
        deadlines,
        key=lambda d: (d.closed_at is not None, d.state != DeadlineState.BREACHED, d.due_at),
    ):
        choices = variant_choices(deadline.rule_id, deadline.variant)
        running = deadline.state == DeadlineState.RUNNING
        form = (
            ExtendForm(variant_choices=choices, auto_id=f"id_x{deadline.pk}_%s")
            if may_extend and running and choices
            else None
        )
        rows.append((deadline, form))
    return {
        "rows": rows,
        "now": timezone.now(),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
