from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    """The agent desk and the wallboard: pages, forms and websockets over the contact centre.
    Its models moved to ``hotline.contactcentre``; the app keeps its migrations (history)."""

    name = "hotline.desk"
    label = "desk"
    verbose_name = _("Agent desk")
    default_auto_field = "django.db.models.BigAutoField"
