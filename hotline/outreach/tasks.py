"""Outreach's periodic housekeeping, run by the worker's scheduler (``PERIODIC``)."""

from __future__ import annotations

from hotline.core.periodic import PeriodicJob


def _recover() -> object:
    from hotline.outreach.calls import do_recover_calls, do_tell_owners

    return do_recover_calls(), do_tell_owners()


PERIODIC = [PeriodicJob("outbound-recovery", 60, run=_recover)]
