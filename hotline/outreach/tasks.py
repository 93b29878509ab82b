"""Outreach's periodic housekeeping, run by the worker's scheduler (``PERIODIC``)."""

from __future__ import annotations

from hotline.core.periodic import PeriodicJob


def _recover() -> object:
    from hotline.outreach.calls import do_recover_calls, do_tell_owners

    return do_recover_calls(), do_tell_owners()


def _remind_bookings() -> object:
    from hotline.outreach.bookings import do_send_reminders

    return do_send_reminders()


PERIODIC = [
    PeriodicJob("outbound-recovery", 60, run=_recover),
    # The day-before SMS of appointments: one indexed query when nothing is due.
    PeriodicJob("appointment-reminders", 300, run=_remind_bookings),
]
