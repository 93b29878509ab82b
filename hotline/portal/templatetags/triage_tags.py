from __future__ import annotations

from django import template

from hotline.triage import access

register = template.Library()


@register.filter
def may_see_classifier(user: object) -> bool:
    """For the navigation: offer the classifier page to the centre's supervision."""
    return access.may_see_models(user)
