"""Outreach's periodic work, run by the worker's scheduler (``PERIODIC``): outbound calls'
housekeeping, the citizen notices (moved here from intake, same job name) and the survey
sweep (unanswered SMS surveys move to their next way)."""

from __future__ import annotations

from django_tasks import task

from hotline.core.periodic import PeriodicJob


def _recover() -> object:
    from hotline.outreach.calls import do_recover_calls, do_tell_owners

    return do_recover_calls(), do_tell_owners()


@task()
def notify_citizens_task() -> int:
    """Tell citizens of their orders' new events (idempotent: one notice per event)."""
    from hotline.outreach.notifications import do_notify_citizens

    return do_notify_citizens()


def _sweep_surveys() -> object:
    from hotline.outreach.surveys import do_sweep_surveys

    return do_sweep_surveys()

def _remind_bookings() -> object:
    from hotline.outreach.bookings import do_send_reminders

    return do_send_reminders()


PERIODIC = [
    PeriodicJob("outbound-recovery", 60, run=_recover),
    PeriodicJob("citizen-notices", "HOTLINE_SWEEP_SECONDS", task=notify_citizens_task),
    PeriodicJob("survey-sweep", 300, run=_sweep_surveys),

    # The day-before SMS of appointments: one indexed query when nothing is due.
    PeriodicJob("appointment-reminders", 300, run=_remind_bookings),
]
