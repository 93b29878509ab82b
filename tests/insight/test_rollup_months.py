"""The month rows beside the day rows: a report over a range reads the whole months from month
rows and the rest from day rows and answers exactly what the day rows alone answer; the
incremental job and the rebuild keep both; ``manage.py rebuild_rollups`` rebuilds the order
rollups, the call rollups, or both."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Sum

from hotline.insight.call_rollups import rolled_until
from hotline.insight.models import CallHour, OrderDailyRollup
from hotline.insight.order_measures import MEASURE_KEYS
from hotline.insight.order_reports import grouped, scoped_rows, span_condition
from hotline.insight.reports import ReportQuery
from hotline.insight.rollups import rebuild_order_rollups, refresh_order_rollups
from hotline.orders.services import do_action
from tests.orders.helpers import new_order

pytestmark = pytest.mark.django_db
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
DAYS = (dt.date(2026, 8, 31), dt.date(2026, 9, 1), dt.date(2026, 9, 15), dt.date(2026, 9, 30),
        dt.date(2026, 10, 1), dt.date(2026, 10, 20), dt.date(2026, 11, 2))


@pytest.fixture
def spread(city: Any) -> Any:
    """Orders on both sides of three month boundaries, some dispatched, one a consultation."""
    for i, day in enumerate(DAYS):
        with time_machine.travel(dt.datetime.combine(day, dt.time(23, 30), tzinfo=TZ),
                                 tick=False):
            order = new_order(city.agent, title=f"停水{i}",
                              type="consultation" if i == 2 else "complaint")
            if i % 2:
                do_action(city.agent, order.number, "dispatch")
    with time_machine.travel(dt.datetime(2026, 11, 3, 10, tzinfo=TZ), tick=False):
        refresh_order_rollups()
    return city


def _sums(viewer: Any, query: ReportQuery, *, months: bool) -> dict[str, int]:
    got = scoped_rows(viewer, query, months=months).aggregate(
        **{m: Sum(m) for m in MEASURE_KEYS})
    return {m: int(got[m] or 0) for m in MEASURE_KEYS}


RANGES = [(dt.date(2026, 8, 31), dt.date(2026, 11, 2)),  # two whole months and edges
          (dt.date(2026, 9, 1), dt.date(2026, 9, 30)),  # exactly one month
          (dt.date(2026, 9, 2), dt.date(2026, 10, 19)),  # no whole month
          (dt.date(2026, 9, 15), dt.date(2026, 10, 31))]  # a whole month at the end


@pytest.mark.parametrize(("first", "last"), RANGES)
def test_month_rows_answer_what_the_day_rows_answer(spread: Any, first: dt.date,
                                                    last: dt.date) -> None:
    for group, filters in (("unit", {}), ("type", {}), ("category", {"type": "complaint"}),
                           ("channel", {"district": "gulou"})):
        query = ReportQuery(first, last, filters, group)
        for viewer in (spread.leader, spread.handler, spread.sub_agent):
            assert _sums(viewer, query, months=True) == _sums(viewer, query, months=False)
    whole = ReportQuery(*RANGES[0], {}, "unit")
    assert _sums(spread.leader, whole, months=True)["received"] == len(DAYS)


def test_a_whole_month_is_read_from_one_row_per_key(spread: Any) -> None:
    september = ReportQuery(dt.date(2026, 9, 1), dt.date(2026, 9, 30), {}, "type")
    rows = list(scoped_rows(spread.leader, september).values_list("period", "day"))
    assert rows and {p for p, _d in rows} == {"month"}
    condition = span_condition(dt.date(2026, 8, 31), dt.date(2026, 11, 2), months=True)
    read = OrderDailyRollup.objects.filter(condition, grain="day")
    assert sorted(read.values_list("period", "day")) == [
        ("day", dt.date(2026, 8, 31)), ("day", dt.date(2026, 11, 2)),
        ("month", dt.date(2026, 9, 1)), ("month", dt.date(2026, 10, 1))]


def test_periods_are_bucketed_from_the_right_rows(spread: Any) -> None:
    query = ReportQuery(dt.date(2026, 8, 31), dt.date(2026, 11, 2), {}, "month")
    assert [(g.label, g.sums["received"], g.drill) for g in grouped(spread.leader, query)] == [
        ("2026-08", 1, {"from": "2026-08-31", "to": "2026-08-31"}),
        ("2026-09", 3, {"from": "2026-09-01", "to": "2026-09-30"}),
        ("2026-10", 2, {"from": "2026-10-01", "to": "2026-10-31"}),
        ("2026-11", 1, {"from": "2026-11-01", "to": "2026-11-02"})]
    weeks = grouped(spread.leader, ReportQuery(dt.date(2026, 9, 28), dt.date(2026, 10, 4), {},
                                               "week"))
    assert [(g.label, g.sums["received"]) for g in weeks] == [("2026-W40", 2)]


def _all_rows() -> list[tuple[Any, ...]]:
    return sorted(OrderDailyRollup.objects.values_list(
        "grain", "period", "day", "unit_id", "district_id", "category_id", "type", "channel",
        *MEASURE_KEYS))


def test_the_incremental_job_keeps_the_months_as_a_rebuild_makes_them(spread: Any) -> None:
    order = new_order(spread.agent, title="又停水")  # today: a new month row or a moved one
    do_action(spread.agent, order.number, "dispatch")
    refresh_order_rollups()
    incremental = _all_rows()
    rebuild_order_rollups()
    assert _all_rows() == incremental
    months = OrderDailyRollup.objects.filter(grain="full", period="month")
    assert sum(months.values_list("received", flat=True)) == len(DAYS) + 1


def test_the_rebuild_command_takes_orders_calls_or_both(spread: Any) -> None:
    OrderDailyRollup.objects.all().delete()
    out = io.StringIO()
    call_command("rebuild_rollups", "--orders", stdout=out)
    assert "order rollups rebuilt: 7 orders" in out.getvalue() and "call" not in out.getvalue()
    assert OrderDailyRollup.objects.filter(grain="day", period="month").count() == 4
    assert rolled_until() is None  # the calls' mark untouched
    out = io.StringIO()
    call_command("rebuild_rollups", "--calls", stdout=out)
    assert "call rollups rebuilt" in out.getvalue() and "order" not in out.getvalue()
    assert rolled_until() is not None and not CallHour.objects.exists()  # no calls here
    OrderDailyRollup.objects.all().delete()
    out = io.StringIO()
    call_command("rebuild_rollups", stdout=out)
    assert "order rollups rebuilt" in out.getvalue() and "call rollups rebuilt" in out.getvalue()
    assert OrderDailyRollup.objects.filter(grain="day", period="day").count() == len(DAYS)
