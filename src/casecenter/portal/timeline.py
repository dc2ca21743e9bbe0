"""The public timeline of one receipt, rendered once for what it shows.

Rendering the timeline (milestones, each with its rating form) is most of a
public page's work, and it shows the same thing until the case has a new event
or the party rates a step. It is rendered from a :class:`~.selectors.PartyView`
and kept in the cache under a digest of everything it is made from: the public
case (receipt, case number, unit, milestones), the party's ratings, the
language, the time zone and the template itself. Nothing is invalidated: a
change in any of them is another key. No personal data is in it (the party's
messages are rendered apart, per request, and never cached).

The one thing that differs between two requests for the same timeline is the
CSRF token of its forms, which belongs to the browser. The fragment is rendered
with a marker in its place — derived from ``SECRET_KEY``, so the same on every
node and not something a case's text could contain — and each request puts its
own token there.
"""

from __future__ import annotations

import hashlib
from functools import cache as once

from django.core.cache import cache
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.safestring import SafeString, mark_safe

from casecenter.portal.selectors import PartyView

TEMPLATE = "portal/_timeline.html"
#: bounds memory, not staleness: a key names exactly what its fragment shows
SECONDS = 3600
STARS = range(1, 6)


@once
def _marker() -> str:
    return salted_hmac("casecenter.portal.timeline", "csrf token").hexdigest()


@once
def _template_digest() -> str:
    source = get_template(TEMPLATE).template.source
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def _key(view: PartyView) -> str:
    made_of = repr(
        (
            _template_digest(),
            translation.get_language(),
            timezone.get_current_timezone_name(),
            view.case,
            sorted(view.rated.items()),
        )
    )
    return "portal:timeline:" + hashlib.sha256(made_of.encode()).hexdigest()


def timeline(request: HttpRequest, view: PartyView) -> SafeString:
    """The timeline of ``view`` as HTML, with this request's CSRF token in its forms."""
    key = _key(view)
    html = cache.get(key)
    if html is None:
        context = {"c": view.case, "rated": view.rated, "star_choices": STARS}
        html = render_to_string(TEMPLATE, {**context, "csrf_token": _marker()})
        cache.set(key, html, SECONDS)
    return mark_safe(html.replace(_marker(), get_token(request)))  # noqa: S308 - our render
