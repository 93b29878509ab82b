"""A line chart as inline SVG, rendered on the server (no JavaScript, no chart library in the
repository): one line per series over the days of the window. No Django imports."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

# Distinguishable on screen and in grey print; the first is the product's brand blue.
COLOURS = ("#1d4f91", "#c8102e", "#1e7b45", "#b8860b", "#6b3fa0", "#0f7c8c", "#8a5a44")


def _nice_max(value: int) -> int:
    """The smallest 1/2/5 × 10^k at or above value (at least 1), for the y axis."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return max(1, m * step)
        step *= 10


def line_chart(series: Sequence[tuple[str, Sequence[int]]], x_labels: Sequence[str], *,
               title: str = "", width: int = 760, height: int = 260) -> str:
    """SVG markup; ``series`` are (name, one count per x label). Names and labels are escaped."""
    left, right, top, bottom = 40, 16, 16, 34
    legend_h = 18 * ((len(series) + 2) // 3)
    plot_w, plot_h = width - left - right, height - top - bottom
    total_h = height + legend_h
    n = max(1, len(x_labels))
    y_max = _nice_max(max((max(values, default=0) for _, values in series), default=0))

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / y_max

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total_h}" '
             f'width="100%" role="img" aria-label="{escape(title)}" class="hot-chart">']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for k in range(5):
        value = y_max * k / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" '
                     f'y2="{y(value):.1f}" stroke="#e4e8ee"/>')
        label = f"{value:g}" if value == int(value) else f"{value:.1f}"
        parts.append(f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
                     f'font-size="11" fill="#63707d">{label}</text>')
    every = max(1, (n + 9) // 10)  # at most ~10 day labels
    for i, text in enumerate(x_labels):
        if i % every == 0 or i == n - 1:
            parts.append(f'<text x="{x(i):.1f}" y="{height - 12}" text-anchor="middle" '
                         f'font-size="11" fill="#63707d">{escape(text)}</text>')
    for s, (name, values) in enumerate(series):
        colour = COLOURS[s % len(COLOURS)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                     f'points="{points}"><title>{escape(name)}</title></polyline>')
        for i, v in enumerate(values):
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}">'
                         f"<title>{escape(name)}: {v}</title></circle>")
        lx, ly = left + (s % 3) * (plot_w / 3), height + 4 + 18 * (s // 3)
        parts.append(f'<rect x="{lx:.1f}" y="{ly}" width="12" height="4" fill="{colour}"/>'
                     f'<text x="{lx + 16:.1f}" y="{ly + 6}" font-size="12" fill="#1f2933">'
                     f"{escape(name[:24])}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _axis_label(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.0f}%"
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def bar_chart(series: Sequence[tuple[str, Sequence[float | None]]], x_labels: Sequence[str], *,
              title: str = "", percent: bool = False, width: int = 760,
              height: int = 280) -> str:
    """SVG markup of grouped bars: one group per x label, one bar per series. ``percent``:
    the values are fractions 0..1 and the axis reads 0-100 %. None draws no bar."""
    left, right, top, bottom = 44, 16, 16, 60
    legend_h = 18 * ((len(series) + 2) // 3)
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(1, len(x_labels))
    peak = max((v for _, values in series for v in values if v is not None), default=0)
    y_max: float = 1.0 if percent else _nice_max(int(-(-peak // 1)))
    group_w = plot_w / n
    bar_w = max(1.0, group_w * 0.8 / max(1, len(series)))

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / y_max

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + legend_h}" '
             f'width="100%" role="img" aria-label="{escape(title)}" class="report-chart bar-chart">']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for k in range(5):
        value = y_max * k / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" '
                     f'y2="{y(value):.1f}" stroke="#e4e8ee"/>')
        parts.append(f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
                     f'font-size="11" fill="#63707d">{_axis_label(value, percent)}</text>')
    every = max(1, (n + 19) // 20)  # at most ~20 labels under the bars
    for i, text in enumerate(x_labels):
        gx = left + group_w * i + group_w * 0.1
        for s, (name, values) in enumerate(series):
            v = values[i] if i < len(values) else None
            if v is None:
                continue
            colour = COLOURS[s % len(COLOURS)]
            shown = f"{v * 100:.1f}%" if percent else f"{v:g}"
            parts.append(f'<rect x="{gx + s * bar_w:.1f}" y="{y(v):.1f}" width="{bar_w:.1f}" '
                         f'height="{top + plot_h - y(v):.1f}" fill="{colour}">'
                         f"<title>{escape(text)} · {escape(name)}: {shown}</title></rect>")
        if i % every == 0:
            cx = left + group_w * (i + 0.5)
            parts.append(f'<text x="{cx:.1f}" y="{height - bottom + 14}" text-anchor="end" '
                         f'font-size="11" fill="#63707d" transform="rotate(-30 {cx:.1f} '
                         f'{height - bottom + 14})">{escape(text[:14])}</text>')
    for s, (name, _values) in enumerate(series):
        colour = COLOURS[s % len(COLOURS)]
        lx, ly = left + (s % 3) * (plot_w / 3), height + 4 + 18 * (s // 3)
        parts.append(f'<rect x="{lx:.1f}" y="{ly}" width="12" height="8" fill="{colour}"/>'
                     f'<text x="{lx + 16:.1f}" y="{ly + 8}" font-size="12" fill="#1f2933">'
                     f"{escape(name[:24])}</text>")
    parts.append("</svg>")
    return "".join(parts)


STATE_COLOURS = {"idle": "#1e7b45", "busy": "#b8860b", "ringing": "#6b3fa0",
                 "talking": "#1d4f91", "wrap_up": "#0f7c8c", "signed_in": "#8a96a3"}


def timeline(rows: Sequence[tuple[str, Sequence[tuple[str, str, float, float]]]],
             legend: Sequence[tuple[str, str]], *, title: str = "", width: int = 760,
             hours: tuple[int, int] = (0, 24)) -> str:
    """One band per row (an agent): (state, label, start, end) with start/end in hours of the
    day; ``legend`` is (state, label) for the states shown."""
    left, right, band, gap, top = 110, 10, 18, 6, 8
    first, last = hours
    span = max(1, last - first)
    plot_w = width - left - right
    height = top + len(rows) * (band + gap) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="100%" role="img" aria-label="{escape(title)}" class="timeline">']
    if title:
        parts.append(f"<title>{escape(title)}</title>")

    def x(hour: float) -> float:
        return left + plot_w * (min(max(hour, first), last) - first) / span

    for i, (name, pieces) in enumerate(rows):
        y = top + i * (band + gap)
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" font-size="12" '
                     f'fill="#1f2933">{escape(name[:14])}</text>')
        for state, label, start, end in pieces:
            if end <= first or start >= last:
                continue
            parts.append(f'<rect x="{x(start):.1f}" y="{y}" width="{max(0.5, x(end) - x(start)):.1f}" '
                         f'height="{band}" fill="{STATE_COLOURS.get(state, "#8a96a3")}">'
                         f"<title>{escape(label)}</title></rect>")
    axis_y = top + len(rows) * (band + gap)
    for hour in range(first, last + 1, max(1, span // 12)):
        parts.append(f'<text x="{x(hour):.1f}" y="{axis_y + 12}" text-anchor="middle" '
                     f'font-size="11" fill="#4a5561">{hour:02d}</text>')
    for k, (state, label) in enumerate(legend):
        lx = left + k * 110
        parts.append(f'<rect x="{lx}" y="{axis_y + 20}" width="12" height="10" '
                     f'fill="{STATE_COLOURS.get(state, "#8a96a3")}"/><text x="{lx + 16}" '
                     f'y="{axis_y + 29}" font-size="12" fill="#1f2933">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
