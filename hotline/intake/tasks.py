"""Background work of the channels, run by the django-tasks worker; the scheduler enqueues the
citizen notices every HOTLINE_SWEEP_SECONDS (``PERIODIC``)."""

from __future__ import annotations

from django_tasks import task

from hotline.core.periodic import PeriodicJob
from hotline.intake.notify import do_notify_citizens


@task()
def notify_citizens_task() -> int:
    """Tell citizens of their orders' new events (idempotent: one notice per event)."""
    return do_notify_citizens()


PERIODIC = [PeriodicJob("citizen-notices", "HOTLINE_SWEEP_SECONDS", task=notify_citizens_task)]
