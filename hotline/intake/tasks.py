"""Background work of the channels, run by the django-tasks worker; the scheduler enqueues,
when HOTLINE_IMAP_URL names a mailbox, its poll every HOTLINE_IMAP_POLL_SECONDS
(``PERIODIC``). The citizen notices moved to outreach (``hotline.outreach.tasks``)."""

from __future__ import annotations

from django.conf import settings
from django_tasks import task

from hotline.core.periodic import PeriodicJob


@task()
def poll_mailbox_task() -> dict[str, object]:
    """Take the IMAP mailbox's new mail (idempotent: the UIDs taken are recorded)."""
    from hotline.intake.email.imap import poll_mailbox

    return poll_mailbox().as_dict()


def _imap_poll_period() -> float:
    """HOTLINE_IMAP_POLL_SECONDS while a mailbox is configured; 0 (the job is off) without."""
    return float(settings.HOTLINE_IMAP_POLL_SECONDS) if settings.HOTLINE_IMAP_URL else 0.0


PERIODIC = [
    PeriodicJob("imap-poll", _imap_poll_period, task=poll_mailbox_task),
]
