from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactCentreConfig(AppConfig):
    """The contact centre: SIP extensions, skills, queues, agents' states, queued and live
    calls, call commands, recordings, IVR visits and the desk event outbox."""

    name = "hotline.contactcentre"
    label = "contactcentre"
    verbose_name = _("Contact centre")
    default_auto_field = "django.db.models.BigAutoField"
