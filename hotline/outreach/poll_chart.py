"""A horizontal bar chart as inline SVG, rendered on the server (no JavaScript, no chart
library): one bar per answer of a poll question. No Django imports."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

BAR_COLOUR = "#1d4f91"  # the product's brand blue (hotline/insight/chart.py)


def bar_chart(bars: Sequence[tuple[str, int]], *, title: str = "", width: int = 640) -> str:
    """SVG markup; ``bars`` are (label, count). Labels are escaped; each bar says its count and
    its share of the total."""
    row_h, label_w, count_w, top = 26, 200, 90, 8
    height = top * 2 + row_h * max(1, len(bars))
    total = sum(n for _label, n in bars)
    biggest = max((n for _label, n in bars), default=0) or 1
    plot_w = width - label_w - count_w
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="100%" role="img" aria-label="{escape(title)}" class="poll-chart">']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for i, (label, n) in enumerate(bars):
        y = top + i * row_h
        w = plot_w * n / biggest
        share = f"{100 * n / total:.0f}%" if total else "0%"
        short = label if len(label) <= 14 else label[:13] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" font-size="13" '
                     f'fill="#1f2933">{escape(short)}<title>{escape(label)}</title></text>')
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
                     f'fill="{BAR_COLOUR}"><title>{escape(label)}: {n}</title></rect>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 17}" font-size="12" '
                     f'fill="#63707d">{n} ({share})</text>')
    parts.append("</svg>")
    return "".join(parts)
