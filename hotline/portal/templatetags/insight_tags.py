from __future__ import annotations

from django import template

from hotline.insight import call_stats, services
from hotline.insight.screen import SCREEN_ROLES

register = template.Library()


@register.filter
def may_view_hot_issues(user: object) -> bool:
    """For the navigation: offer the hot-issue page to those who may open it."""
    return services.may_view_hot_issues(user)


@register.filter
def may_view_call_stats(user: object) -> bool:
    return call_stats.may_view_call_stats(user)


@register.filter
def may_view_big_screen(user: object) -> bool:
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", "") in SCREEN_ROLES)
