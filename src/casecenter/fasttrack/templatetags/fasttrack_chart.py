"""The stage-by-stage chart of a fast track: each stage's target and when it was
reached, on one axis of hours since capture (an inline SVG, no script)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from casecenter import law
from casecenter.fasttrack.selectors import Timeline
from casecenter.supervision.forms import in_english

register = template.Library()

LEFT, WIDTH, ROW, TOP = 170, 560, 26, 24


@register.simple_tag
def stage_chart(timeline: Timeline) -> SafeString:
    rows = [r for r in timeline.rows if r.stage.code != "closed"]
    span = max(
        law.fasttrack.TRACK_HOURS,
        timeline.hours,
        *(r.done_hours or 0 for r in rows),
        *(r.target_hours or 0 for r in rows),
    )
    span = (int(span) // 12 + 1) * 12

    def x(hours: float) -> float:
        return round(LEFT + WIDTH * hours / span, 1)

    height = TOP + ROW * len(rows) + 10
    ticks = format_html_join(
        "",
        '<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" class="tick"/>'
        '<text x="{0}" y="14" class="axis">{3}h</text>',
        ((x(h), TOP - 6, height - 6, h) for h in range(0, span + 1, 12)),
    )
    limit = format_html(
        '<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" class="limit"/>',
        x(law.fasttrack.TRACK_HOURS),
        TOP - 6,
        height - 6,
    )
    english = in_english()
    parts = []
    for n, row in enumerate(rows):
        y = TOP + ROW * n + ROW / 2
        name = row.name_en if english else row.name_zh
        parts.append(format_html('<text x="0" y="{}" class="stage">{}</text>', y + 4, name))
        if row.target_hours is not None:
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="3" height="14" class="target">'
                    "<title>{}</title></rect>",
                    x(row.target_hours) - 1.5,
                    y - 7,
                    f"target {row.target_hours:g} h",
                )
            )
        if row.done_hours is not None:
            parts.append(
                format_html(
                    '<line x1="{}" y1="{}" x2="{}" y2="{}" class="run"/>'
                    '<circle cx="{}" cy="{}" r="6" class="done{}"><title>{}</title></circle>',
                    x(0),
                    y,
                    x(row.done_hours),
                    y,
                    x(row.done_hours),
                    y,
                    " late" if row.late else "",
                    f"{row.done_hours:g} h",
                )
            )
        elif row.current:
            parts.append(
                format_html(
                    '<line x1="{}" y1="{}" x2="{}" y2="{}" class="run waiting"/>',
                    x(0),
                    y,
                    x(timeline.hours),
                    y,
                )
            )
    return format_html(
        '<svg class="stage-chart" viewBox="0 0 {} {}" role="img" aria-label="{}">{}{}{}</svg>',
        LEFT + WIDTH + 20,
        height,
        "stages: target and reached, hours since capture",
        ticks,
        limit,
        SafeString("".join(parts)),
    )
