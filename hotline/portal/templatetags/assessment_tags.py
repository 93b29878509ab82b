"""How the assessment pages write rates, scores, changes and labels."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from hotline.insight import assessment
from hotline.insight.assessment_models import state_label
from hotline.orders.models import Satisfaction

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


@register.filter
def score(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


@register.filter
def change(value: int | None) -> str:
    """Places gained (↑) or lost (↓) since last month; — without a rank in both months."""
    if value is None:
        return "—"
    if value > 0:
        return f"↑{value}"
    if value < 0:
        return f"↓{-value}"
    return "="


@register.filter
def rate_label(name: str) -> str:
    return {"response": _("Response"), "resolution": _("Resolution"),
            "satisfaction": _("Satisfaction")}.get(name, name)


@register.filter
def satisfaction_label(value: str) -> str:
    return str(dict(Satisfaction.choices).get(value, value))


@register.filter
def appeal_label(state: str) -> str:
    return str(state_label(state))


@register.filter
def may_view_assessment(user: object) -> bool:
    """For the navigation: offer the ranking to those who may open it."""
    return bool(getattr(user, "is_authenticated", False) and (
        getattr(user, "is_superuser", False)
        or getattr(user, "role", "") in assessment.VIEWER_ROLES))
