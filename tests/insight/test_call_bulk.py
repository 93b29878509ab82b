"""The benchmarks' bulk call loader, and the rollups over what it writes: the report totals
equal the figures counted straight from the calls."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Q, Sum
from django.utils import timezone

from bench.call_data import load_call_records
from hotline.contactcentre.call_figures import SHORT_ABANDON_S
from hotline.contactcentre.models import QueuedCall, StateChange
from hotline.insight import call_rollups, call_stats
from hotline.insight.models import AgentStateDay

pytestmark = pytest.mark.django_db


def test_loaded_calls_roll_up_to_the_counts_of_the_calls(city: Any) -> None:
    now = timezone.now()
    # Calls up to two hours ago: every one of them has ended and been wrapped up by now.
    loaded = load_call_records(3000, days=5, now=now - dt.timedelta(hours=2), batch_size=1000,
                               with_states=True)
    assert QueuedCall.objects.count() == 3000
    assert StateChange.objects.count() == loaded.state_changes > 0
    call_rollups.rebuild_call_rollups(now)
    first = timezone.localdate(now - dt.timedelta(days=5, hours=2))  # where the load began
    totals = call_stats.total(call_stats.call_rows(city.admin, first, timezone.localdate(now),
                                                   "queue"))
    calls = QueuedCall.objects
    assert totals.offered == 3000
    assert totals.answered == calls.filter(outcome="completed").count()
    assert totals.abandoned == calls.filter(outcome="abandoned", wait_s__gt=SHORT_ABANDON_S).count()
    assert totals.short_abandoned == calls.filter(Q(outcome="abandoned"),
                                                  wait_s__lte=SHORT_ABANDON_S).count()
    assert totals.overflowed == calls.filter(outcome="overflowed").count()
    assert totals.hold_sum_s == pytest.approx(calls.aggregate(s=Sum("hold_s"))["s"])
    assert totals.wrapped == totals.answered
    assert totals.wrap_sum_s == pytest.approx(15.0 * totals.answered)
    talking = AgentStateDay.objects.filter(state="talking").aggregate(s=Sum("seconds"))["s"]
    assert talking == pytest.approx(totals.talk_sum_s)
    assert 0.85 < (totals.connection_rate or 0) < 0.95  # 90 % answered of the non-short calls
