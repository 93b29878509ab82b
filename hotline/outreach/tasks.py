"""Outreach's periodic housekeeping, run by the worker's scheduler (``PERIODIC``)."""

from __future__ import annotations

from hotline.core.periodic import PeriodicJob


def _recover() -> object:
    from hotline.outreach.calls import do_recover_calls, do_tell_owners

    return do_recover_calls(), do_tell_owners()


def _pace_campaigns() -> object:
    from hotline.outreach.campaigns import do_pace_campaigns

    return do_pace_campaigns()


PERIODIC = [
    PeriodicJob("outbound-recovery", 60, run=_recover),
    # Every second: the pace is even at up to a few calls a second (campaign_rules).
    PeriodicJob("campaign-pacer", 1, run=_pace_campaigns),
]
