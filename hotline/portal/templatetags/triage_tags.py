from __future__ import annotations

from django import template

from hotline.triage import access

register = template.Library()


@register.filter
def may_see_classifier(user: object) -> bool:
    """For the navigation: offer the classifier page to the centre's supervision."""
    return access.may_see_models(user)


@register.filter
def trigger_words(trigger: str) -> str:
    """Who or what started a training run, in words (stored as "schedule", "command",
    "user:<name>")."""
    from django.utils.translation import gettext as _

    if trigger == "schedule":
        return _("Scheduled retraining")
    if trigger == "command":
        return _("Started from the command line")
    if trigger.startswith("user:"):
        return _("Started by %(user)s") % {"user": trigger.removeprefix("user:")}
    return trigger or _("First training")
