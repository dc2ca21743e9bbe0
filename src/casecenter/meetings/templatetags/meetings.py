"""Template pieces of the meetings pages: the badge of a state (the existing
colours of app.css: waiting orange, running blue, done green, refused red)."""

from __future__ import annotations

from django import template

from casecenter import law

register = template.Library()

BADGES = {
    # bookings
    "requested": "review-pending",
    "confirmed": "clock-running",
    "held": "review-approved",
    "refused": "review-returned",
    "cancelled": "closed",
    "missed": "clock-breached",
    # licences
    "pending": "review-pending",
    "verified": "review-approved",
}


@register.filter
def state_badge(state: str) -> str:
    """The badge class of a booking's or a licence's state."""
    return BADGES.get(state, "")


@register.filter
def masked_name(name: str) -> str:
    """A detainee's name as lists show it: ``张**``."""
    return law.mask_name(name)
