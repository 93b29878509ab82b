"""The city's districts as an SVG map for the big screen, coloured by a level 0-4 (today's
orders). The demo city's districts (``hotline/demo/data/org.py``) have drawn outlines; any
other district is drawn as a tile in a row below, so a real city's districts all show before
someone draws their outlines. No Django imports: plain values in, escaped markup out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 600, 420
LEVELS = 4

# Simplified outlines of 示范市 (viewBox 600 x 420): 西山县 the hills in the west, 新城区 and
# 高新区 in the north, 鼓楼区 the old centre, 东湖区 round the lake, 江滨区 along the river.
OUTLINES: dict[str, tuple[tuple[int, int], ...]] = {
    "xishan": ((20, 40), (200, 20), (230, 150), (210, 300), (150, 400), (30, 380), (10, 200)),
    "xincheng": ((200, 20), (380, 30), (370, 130), (260, 140), (230, 150)),
    "gulou": ((230, 150), (260, 140), (370, 130), (380, 230), (300, 260), (220, 240)),
    "gaoxin": ((380, 30), (580, 50), (570, 170), (420, 190), (370, 130)),
    "donghu": ((370, 130), (420, 190), (570, 170), (590, 330), (440, 340), (380, 230)),
    "jiangbin": ((210, 300), (220, 240), (300, 260), (380, 230), (440, 340), (420, 400),
                 (150, 400)),
}


@dataclass(frozen=True)
class DistrictVolume:
    code: str
    name: str
    orders: int

    def level(self, most: int) -> int:
        """0 for none, else 1..LEVELS by the share of the busiest district (which is LEVELS):
        the ceiling of LEVELS x orders / most."""
        if self.orders <= 0 or most <= 0:
            return 0
        return max(1, min(LEVELS, -(-LEVELS * self.orders // most)))


def _tile(index: int) -> tuple[tuple[int, int], ...]:
    x = 10 + (index % 6) * 98
    y = HEIGHT - 2 if index < 6 else HEIGHT - 2 + 60 * (index // 6)
    return ((x, y + 8), (x + 90, y + 8), (x + 90, y + 54), (x, y + 54))


def _centre(points: Sequence[tuple[int, int]]) -> tuple[float, float]:
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def district_map(volumes: Sequence[DistrictVolume], *, title: str) -> str:
    most = max((v.orders for v in volumes), default=0)
    extra = [v for v in volumes if v.code not in OUTLINES]
    height = HEIGHT + (60 * ((len(extra) + 5) // 6) + 10 if extra else 0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
             f'class="city-map" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>"]
    for v in volumes:
        points = OUTLINES.get(v.code) or _tile(extra.index(v))
        cx, cy = _centre(points)
        coords = " ".join(f"{x},{y}" for x, y in points)
        parts.append(
            f'<g class="district lvl-{v.level(most)}" data-district="{escape(v.code)}" '
            f'data-testid="district-{escape(v.code)}">'
            f"<title>{escape(v.name)}: {v.orders}</title>"
            f'<polygon points="{coords}"/>'
            f'<text x="{cx:.0f}" y="{cy - 6:.0f}" class="district-name">{escape(v.name)}</text>'
            f'<text x="{cx:.0f}" y="{cy + 22:.0f}" class="district-count">{v.orders}</text>'
            "</g>")
    parts.append("</svg>")
    return "".join(parts)
