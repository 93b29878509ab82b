from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    """Agents at work: SIP extensions, skills, queues, agents' states and queued calls."""

    name = "hotline.desk"
    label = "desk"
    verbose_name = _("Agent desk")
    default_auto_field = "django.db.models.BigAutoField"
