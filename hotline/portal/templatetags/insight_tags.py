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
def uses_quality(user: object) -> bool:
    """For the navigation: quality inspection for inspectors, agents (their own) and leaders."""
    from hotline.insight.quality import may_use_quality

    return may_use_quality(user)


@register.filter
def reads_briefs(user: object) -> bool:
    from hotline.insight.brief import may_read_briefs

    return may_read_briefs(user)


@register.filter
def may_view_reports(user: object) -> bool:
    """For the navigation: offer the report list to those who may run at least one report."""
    if not getattr(user, "is_authenticated", False):
        return False
    from hotline.insight.reports import reports_for

    return bool(reports_for(user))


@register.filter
def may_view_call_stats(user: object) -> bool:
    return call_stats.may_view_call_stats(user)


@register.filter
def may_view_big_screen(user: object) -> bool:
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", "") in SCREEN_ROLES)
