"""Charts drawn on the server as inline SVG: no script, no external service, prints as is."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from markupsafe import Markup, escape

# Ratio bands, shared by the matrix colours, the bars and the legend (percent, lower bound).
BANDS = ((95, "band-5"), (90, "band-4"), (80, "band-3"), (70, "band-2"), (0, "band-1"))


def band(percent: float | None) -> str:
    """CSS class of a ratio: band-5 (95% or more) ... band-1 (under 70%), band-none (no data)."""
    if percent is None or (isinstance(percent, float) and math.isnan(percent)):
        return "band-none"
    return next(name for bound, name in BANDS if percent >= bound)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clip(text: str, limit: int) -> str:
    """Cut to `limit` display columns (full-width characters count two), with an ellipsis."""
    if _width(text) <= limit:
        return text
    out, used = "", 0
    for ch in text:
        w = _width(ch)
        if used + w > limit - 1:
            break
        out += ch
        used += w
    return out + "…"


@dataclass(frozen=True)
class Bar:
    label: str  # shown at the left, clipped
    title: str  # full text, in the tooltip
    percent: float | None
    previous: float | None = None  # the previous round, drawn as a tick
    href: str | None = None


def bar_chart(bars: list[Bar], *, previous_label: str = "", label_width: int = 34) -> Markup:
    """Horizontal bars, 0–100%, one per row, with the value at the end of each bar and the
    previous round as a dark tick.

    A picture of a table the page shows beside it, with the same links: hidden from screen
    readers and out of the Tab order, so that they meet each item once, in the table (an image
    that holds links is neither an image nor a list to them)."""
    row, top, left, plot = 22, 26, 6 * label_width + 16, 520  # 12px text: 6px a column
    height = top + row * len(bars) + 8
    width = left + plot + 56
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        ' aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">'
    ]
    for tick in range(0, 101, 25):
        x = left + plot * tick / 100
        out.append(
            f'<line class="grid" x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 6}"/>'
            f'<text class="axis" x="{x:.1f}" y="{top - 10}" text-anchor="middle">{tick}%</text>'
        )
    for i, bar in enumerate(bars):
        y = top + i * row
        value = bar.percent
        text = "－" if value is None or math.isnan(value) else f"{value:.1f}%"
        name = escape(clip(bar.label, label_width))
        tip = escape(f"{bar.title}: {text}")
        label_svg = (
            f'<text class="label" x="{left - 8}" y="{y + 15}" text-anchor="end">{name}</text>'
        )
        if bar.href:
            label_svg = f'<a href="{escape(bar.href)}" tabindex="-1">{label_svg}</a>'
        out.append(f"<g><title>{tip}</title>{label_svg}")
        if value is not None and not math.isnan(value):
            w = plot * value / 100
            out.append(
                f'<rect class="bar {band(value)}" x="{left}" y="{y + 4}" width="{w:.1f}"'
                f' height="{row - 8}" rx="2"/>'
            )
        out.append(f'<text class="value" x="{left + plot + 6}" y="{y + 15}">{text}</text>')
        if bar.previous is not None and not math.isnan(bar.previous):
            x = left + plot * bar.previous / 100
            out.append(
                f'<line class="previous" x1="{x:.1f}" y1="{y + 1}"'
                f' x2="{x:.1f}" y2="{y + row - 1}"/>'
            )
        out.append("</g>")
    out.append("</svg>")
    return Markup("".join(out))


def legend(previous_label: str = "") -> list[tuple[str, str]]:
    """(css class, text) pairs for a legend of the bands."""
    return [
        ("band-5", "95%〜"),
        ("band-4", "90〜95%"),
        ("band-3", "80〜90%"),
        ("band-2", "70〜80%"),
        ("band-1", "〜70%"),
    ]
