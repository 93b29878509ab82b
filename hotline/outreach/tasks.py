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


@task()
def callback_tasks_task() -> dict[str, int]:
    """Return visits for orders now in 待回访, missed calls into their numbers' tasks, and the
    tasks that became moot (order settled elsewhere, citizen called in, agent left). Run by
    the worker (the unreachable rule may send an SMS); every step is idempotent."""
    from hotline.outreach.callbacks import do_close_obsolete, do_queue_visits, do_release_stale
    from hotline.outreach.missed_calls import do_close_called_in, do_collect_missed

    return {"visits": do_queue_visits(), "obsolete": do_close_obsolete(),
            "missed": do_collect_missed(), "called_in": do_close_called_in(),
            "released": do_release_stale()}


def _pace_campaigns() -> object:
    from hotline.outreach.campaigns import do_pace_campaigns

    return do_pace_campaigns()


PERIODIC = [
    PeriodicJob("outbound-recovery", 60, run=_recover),
    PeriodicJob("citizen-notices", "HOTLINE_SWEEP_SECONDS", task=notify_citizens_task),
    PeriodicJob("survey-sweep", 300, run=_sweep_surveys),
    # Appointment reminders (the lead time before the slot): one indexed query when none is due.
    PeriodicJob("appointment-reminders", 300, run=_remind_bookings),
    PeriodicJob("callback-tasks", 60, task=callback_tasks_task),
    # Every second: the pace is even at up to a few calls a second (campaign_rules).
    PeriodicJob("campaign-pacer", 1, run=_pace_campaigns),
]
