from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkerConfig(AppConfig):
    """The scheduler of the periodic jobs each domain declares (``manage.py scheduler``)."""

    name = "hotline.worker"
    label = "worker"
    verbose_name = _("Background worker")
