from __future__ import annotations

from django import template

from hotline.outreach.campaigns import may_run_campaigns

register = template.Library()


@register.filter
def runs_campaigns(user: object) -> bool:
    """The nav shows "Campaigns" to those the campaign pages admit (and scope)."""
    return may_run_campaigns(user)
