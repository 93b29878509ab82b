"""Background work of the channels, run by the django-tasks worker; the scheduler enqueues the
citizen notices every HOTLINE_SWEEP_SECONDS and, when HOTLINE_IMAP_URL names a mailbox, its
poll every HOTLINE_IMAP_POLL_SECONDS (``PERIODIC``)."""

from __future__ import annotations

from django.conf import settings
from django_tasks import task

from hotline.core.periodic import PeriodicJob
from hotline.intake.notify import do_notify_citizens


@task()
def notify_citizens_task() -> int:
    """Tell citizens of their orders' new events (idempotent: one notice per event)."""
    return do_notify_citizens()


@task()
def poll_mailbox_task() -> dict[str, object]:
    """Take the IMAP mailbox's new mail (idempotent: the UIDs taken are recorded)."""
    from hotline.intake.email.imap import poll_mailbox

    return poll_mailbox().as_dict()


def _imap_poll_period() -> float:
    """HOTLINE_IMAP_POLL_SECONDS while a mailbox is configured; 0 (the job is off) without."""
    return float(settings.HOTLINE_IMAP_POLL_SECONDS) if settings.HOTLINE_IMAP_URL else 0.0


PERIODIC = [
    PeriodicJob("citizen-notices", "HOTLINE_SWEEP_SECONDS", task=notify_citizens_task),
    PeriodicJob("imap-poll", _imap_poll_period, task=poll_mailbox_task),
]
