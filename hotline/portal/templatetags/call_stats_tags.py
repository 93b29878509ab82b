"""Formatting for the call statistics: rates as percentages, seconds as m:ss."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@register.filter
def duration(value: float | None) -> str:
    if value is None:
        return "—"
    whole = round(value)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@register.filter
def state_seconds(row: object, state: str) -> float:
    seconds = getattr(row, "seconds", None) or {}
    return float(seconds.get(state, 0.0))
