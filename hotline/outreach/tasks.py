"""Outreach's periodic housekeeping, run by the worker's scheduler (``PERIODIC``)."""

from __future__ import annotations

from hotline.core.periodic import PeriodicJob


def _recover() -> object:
    from hotline.outreach.calls import do_recover_calls, do_tell_owners

    return do_recover_calls(), do_tell_owners()


def _callback_tasks() -> object:
    """Return visits for orders now in 待回访, missed calls into their numbers' tasks, and the
    tasks that became moot (order settled elsewhere, citizen called in, agent left)."""
    from hotline.outreach.callbacks import do_close_obsolete, do_queue_visits, do_release_stale
    from hotline.outreach.missed_calls import do_close_called_in, do_collect_missed

    return (do_queue_visits(), do_close_obsolete(), do_collect_missed(), do_close_called_in(),
            do_release_stale())


PERIODIC = [PeriodicJob("outbound-recovery", 60, run=_recover),
            PeriodicJob("callback-tasks", 60, run=_callback_tasks)]
