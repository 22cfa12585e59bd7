"""Per-day bar charts as SVG markup, drawn on the server: no script, nothing to load.

The SVG has no `viewBox`: bars are placed in percentages of its width and in pixels of its fixed
height, so text stays at its real size on a phone and on a wide screen alike. Each day is a group
with a `<title>` (the browser's tooltip) over a full-height hit area, so days without any activity
still say so on hover. Every piece of text is escaped here; templates insert the result with
`|safe`, which is only ever done for markup from this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape

DAY_S = 86_400
TOP_PX = 16  # room above the plot for the max label
BOTTOM_PX = 18  # room below it for the date labels
BAR_SHARE = 0.72  # of each day's slot; the rest is the gap between bars


def day_label(day: int) -> str:
    """Days since the epoch as `2026-11-30`."""
    return datetime.fromtimestamp(day * DAY_S, UTC).strftime("%Y-%m-%d")


def _short_day(day: int) -> str:
    moment = datetime.fromtimestamp(day * DAY_S, UTC)
    return f"{moment:%b} {moment.day}"


def _count(value: int) -> str:
    return f"{value:,}"


def _pct(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") + "%"


def _summary(label: str, days: Sequence[int], values: Mapping[int, int], unit: str) -> str:
    if not days:
        return f"{label}: no days"
    total = sum(values.get(day, 0) for day in days)
    span = f"{day_label(days[0])} to {day_label(days[-1])}"
    if total == 0:
        return f"{label}, {span}: no {unit}"
    best = max(days, key=lambda day: (values.get(day, 0), -day))
    return (
        f"{label}, {span}: {_count(total)} {unit} in total, "
        f"most on {day_label(best)} ({_count(values[best])})"
    )


def day_bars(
    values: Mapping[int, int],
    days: Sequence[int],
    *,
    label: str,
    unit: str,
    height_px: int = 140,
    axis: bool = True,
) -> str:
    """One bar per day of `days` (days since the epoch, in order), zero where `values` has none.

    `label` names the chart for screen readers; `unit` ("page views") goes in each day's tooltip.
    With `axis` off (small charts in a table) there are no text labels, only the bars.
    """
    top, bottom = (TOP_PX, BOTTOM_PX) if axis else (2, 1)
    plot_px = height_px - top - bottom
    base_y = top + plot_px
    highest = max((values.get(day, 0) for day in days), default=0)
    slot = 100 / max(len(days), 1)
    parts = [
        f'<svg class="day-bars" width="100%" height="{height_px}" role="img" '
        f'aria-label="{escape(_summary(label, days, values, unit))}" '
        'xmlns="http://www.w3.org/2000/svg">'
    ]
    if axis:
        parts.append(
            f'<line class="axis" x1="0" x2="100%" y1="{top}" y2="{top}" stroke-dasharray="3 3"/>'
            f'<text x="0" y="{top - 5}">{escape(_count(highest))}</text>'
        )
    for i, day in enumerate(days):
        count = values.get(day, 0)
        bar_px = round(plot_px * count / highest, 1) if highest else 0.0
        if count and bar_px < 1:
            bar_px = 1.0  # a day with activity is never invisible
        x = i * slot + slot * (1 - BAR_SHARE) / 2
        tip = f"{day_label(day)}: {_count(count)} {unit}"
        parts.append(
            f"<g><title>{escape(tip)}</title>"
            f'<rect class="hit" x="{_pct(i * slot)}" y="0" width="{_pct(slot)}" '
            f'height="{height_px}"/>'
            f'<rect class="bar" x="{_pct(x)}" y="{base_y - bar_px}" '
            f'width="{_pct(slot * BAR_SHARE)}" height="{bar_px}"/></g>'
        )
    parts.append(f'<line class="axis" x1="0" x2="100%" y1="{base_y}" y2="{base_y}"/>')
    if axis and days:
        ticks = [(0, "start", "0")]
        if len(days) > 2:
            ticks.append((len(days) // 2, "middle", _pct((len(days) // 2 + 0.5) * slot)))
        if len(days) > 1:
            ticks.append((len(days) - 1, "end", "100%"))
        for index, anchor, tick_x in ticks:
            parts.append(
                f'<text x="{tick_x}" y="{height_px - 4}" text-anchor="{anchor}">'
                f"{escape(_short_day(days[index]))}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
