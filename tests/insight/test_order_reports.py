"""Order statistics: the rollups (incremental = rebuilt = a full recount), the measures' values
on a known story, the reports' scope, filters and comparisons, the pages, the drill-down, the
Excel export and the API."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.db.models import Sum
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from hotline.directory.models import Unit, UnitKind
from hotline.insight import reports
from hotline.insight.chart import bar_chart
from hotline.insight.models import OrderDailyRollup, OrderFact, RollupWatermark
from hotline.insight.order_measures import (
    GRAINS,
    MEASURE_KEYS,
    PERIODS,
    grain_for,
    measure_expressions,
)
from hotline.insight.reports import ReportQuery
from hotline.insight.rollups import rebuild_order_rollups, refresh_order_rollups
from hotline.orders.access_log import AccessKind
from hotline.orders.models import AccessLog, Order
from hotline.orders.services import NewOrder, do_action, do_create_order
from tests.api.conftest import ApiClient

DAY = dt.timedelta(days=1)


def _order(city: Any, at: dt.datetime, **extra: Any) -> Order:
    fields: dict[str, Any] = dict(type="complaint", channel="phone", title="停水", text="小区停水",
                                  citizen_phone="13812341234", district="gulou",
                                  category="100101")
    fields.update(extra)
    order, _ = do_create_order(city.agent, NewOrder(**fields), now=at)
    return order


class Story:
    now: dt.datetime
    direct: Order
    closed: Order
    returned: Order
    noise: Order
    last_year: Order
    before: Order
    before2: Order


@pytest.fixture
def story(city: Any) -> Story:
    s = Story()
    s.now = now = timezone.now()
    s.direct = _order(city, now - 2 * DAY, channel="web")
    do_action(city.agent, s.direct.number, "answer", {"reply": "已答复"}, now=now - 2 * DAY)
    s.closed = _order(city, now - 3 * DAY)
    at = now - 3 * DAY
    do_action(city.agent, s.closed.number, "dispatch", now=at)
    do_action(city.handler, s.closed.number, "sign", now=at + dt.timedelta(minutes=5))
    do_action(city.handler, s.closed.number, "reply", {"reply": "已修复"},
              now=at + dt.timedelta(minutes=30))
    do_action(city.agent, s.closed.number, "approve_reply", now=at + dt.timedelta(minutes=40))
    do_action(city.agent, s.closed.number, "callback", {"resolved": True,
                                                        "satisfaction": "satisfied"},
              now=at + dt.timedelta(minutes=50))
    s.returned = _order(city, now - 1 * DAY, type="help")
    do_action(city.agent, s.returned.number, "dispatch", now=now - DAY)
    do_action(city.handler, s.returned.number, "return", {"reason": "不属于本单位职责"},
              now=now - DAY + dt.timedelta(minutes=1))
    s.noise = _order(city, now - 2 * DAY, district="taijiang", category="100201")
    do_action(city.agent, s.noise.number, "dispatch", now=now - 2 * DAY)
    s.last_year = _order(city, now - 365 * DAY)
    s.before = _order(city, now - 10 * DAY)
    s.before2 = _order(city, now - 9 * DAY)
    return s


def _week(s: Story, **filters: str) -> ReportQuery:
    today = timezone.localdate()
    return ReportQuery(today - 6 * DAY, today, filters, "unit")


def _rollup_sums(grain: str = "full", period: str = "day") -> dict[str, int]:
    totals = OrderDailyRollup.objects.filter(grain=grain, period=period) \
        .aggregate(**{m: Sum(m) for m in MEASURE_KEYS})
    return {m: int(totals[m] or 0) for m in MEASURE_KEYS}


def _every_grain_agrees() -> None:
    """Every grain, by day and by month, holds the same totals."""
    full = _rollup_sums("full")
    assert {(g, p): _rollup_sums(g, p) for g in GRAINS for p in PERIODS} == \
        dict.fromkeys(((g, p) for g in GRAINS for p in PERIODS), full)


def _recount() -> dict[str, int]:
    """Every measure counted straight from the orders table (no facts, no rollup)."""
    exprs = measure_expressions()
    rows = Order.objects.annotate(**{f"m_{k}": v for k, v in exprs.items()}) \
        .aggregate(**{k: Sum(f"m_{k}") for k in exprs})
    return {k: int(rows[k] or 0) for k in exprs}


def test_the_story_counts_what_the_definitions_say(city: Any, story: Story) -> None:
    refresh_order_rollups()
    facts = {f.order_id: f for f in OrderFact.objects.all()}
    assert facts[story.direct.pk].direct == 1 and facts[story.direct.pk].dispatched == 0
    closed = facts[story.closed.pk]
    assert (closed.dispatched, closed.signed, closed.signed_on_time, closed.finished,
            closed.finished_on_time, closed.closed, closed.called_back, closed.satisfied) == \
        (1, 1, 1, 1, 1, 1, 1, 1)
    assert closed.unit_id == city.water.pk and closed.direct == 0
    assert facts[story.returned.pk].returned == 1 and facts[story.returned.pk].finished == 0
    assert facts[story.noise.pk].unit_id == city.env.pk
    assert facts[story.before.pk].received == 1 and facts[story.before.pk].dispatched == 0
    assert _rollup_sums() == _recount()
    assert _rollup_sums()["received"] == Order.objects.count() == 7
    _every_grain_agrees()
    assert OrderDailyRollup.objects.filter(grain="day", period="day").count() == 6  # six days
    months = {d.replace(day=1) for d in OrderDailyRollup.objects.filter(
        grain="day", period="day").values_list("day", flat=True)}
    assert set(OrderDailyRollup.objects.filter(grain="day", period="month")
               .values_list("day", flat=True)) == months


def test_incremental_runs_equal_a_rebuild_and_repeat_without_changing_anything(
        city: Any, story: Story) -> None:
    refresh_order_rollups()
    first = sorted(OrderDailyRollup.objects.values_list(
        "grain", "period", "day", "unit_id", "district_id", "category_id", "type", "channel",
        *MEASURE_KEYS))
    refresh_order_rollups()  # the unsettled events are read again: nothing moves
    RollupWatermark.objects.filter(name="orders").update(last_id=0)
    refresh_order_rollups()  # everything read again
    again = sorted(OrderDailyRollup.objects.values_list(
        "grain", "period", "day", "unit_id", "district_id", "category_id", "type", "channel",
        *MEASURE_KEYS))
    assert again == first
    # A change after the first run moves the rollup by its difference only.
    do_action(city.monitor, story.returned.number, "approve_return", {"unit": "housing"})
    refresh_order_rollups()
    assert _rollup_sums() == _recount()
    _every_grain_agrees()
    incremental = sorted(OrderDailyRollup.objects.values_list(
        "grain", "period", "day", "unit_id", "district_id", "category_id", "type", "channel",
        *MEASURE_KEYS))
    stats = rebuild_order_rollups()
    assert stats.orders == 7
    rebuilt = sorted(OrderDailyRollup.objects.values_list(
        "grain", "period", "day", "unit_id", "district_id", "category_id", "type", "channel",
        *MEASURE_KEYS))
    assert rebuilt == incremental
    assert OrderFact.objects.get(order=story.returned).unit_id == city.housing.pk


def test_the_watermark_stops_before_events_that_may_not_have_committed(
        city: Any, story: Story) -> None:
    later = timezone.now() + dt.timedelta(hours=1)
    settled = refresh_order_rollups(now=later)
    assert settled.watermark == story.before2.events.get().pk  # the newest event
    recent = refresh_order_rollups()  # now: every event is younger than SETTLE
    assert recent.events == 0 or recent.watermark <= settled.watermark
    assert _rollup_sums() == _recount()


def test_order_volume_by_unit_in_each_viewers_scope(city: Any, story: Story) -> None:
    rebuild_order_rollups()
    report = reports.get_report(city.leader, "order-volume")
    rows = {r["label"]: r for r in reports.run_report(city.leader, report, _week(story)).rows}
    assert rows[city.water.name]["received"] == 2  # closed + returned
    assert rows[city.env.name]["received"] == 1
    assert rows["(none)"]["received"] == 1  # the direct answer
    # The water department sees only what it leads.
    dept = reports.run_report(city.dept_admin, report, _week(story))
    assert {r["label"] for r in dept.rows} <= {city.water.name}
    assert dept.totals["received"] == (2 if city.dept_admin.unit_id == city.water.pk else
                                       dept.totals["received"])
    # The security administrator sees no order: an empty report, not an error.
    empty = reports.run_report(city.security_admin, report, _week(story))
    assert empty.rows == [] and empty.totals["received"] == 0


def test_a_subcentre_counts_its_district(city: Any, story: Story) -> None:
    rebuild_order_rollups()
    report = reports.get_report(city.leader, "order-volume")
    result = reports.run_report(city.sub_agent, report, _week(story))
    # gulou: the direct answer, the closed and the returned orders; not taijiang's noise.
    assert result.totals["received"] == 3


def test_rates_and_filters(city: Any, story: Story) -> None:
    rebuild_order_rollups()
    report = reports.get_report(city.leader, "order-rates")
    result = reports.run_report(city.leader, report, _week(story, district="gulou"))
    t = result.totals
    assert t["received"] == 3 and t["dispatched"] == 2
    assert t["direct_rate"] == pytest.approx(1 / 3)
    assert t["sign_rate"] == pytest.approx(1 / 2)
    assert t["on_time_rate"] == 1.0
    assert t["callback_rate"] == pytest.approx(1 / 2)  # the direct answer closed without one
    assert t["return_rate"] == pytest.approx(1 / 2) and t["reopen_rate"] == 0.0
    by_type = reports.run_report(city.leader, report, _week(story, type="help"))
    assert by_type.totals["received"] == 1
    by_category = reports.run_report(city.leader, report, _week(story, category="10"))
    assert by_category.totals["received"] == 4  # the whole tree below 城乡建设
    with pytest.raises(reports.InvalidInput):
        reports.run_report(city.leader, report, _week(story, district="atlantis"))


def test_periods_and_comparisons(city: Any, story: Story) -> None:
    rebuild_order_rollups()
    report = reports.get_report(city.leader, "order-volume")
    today = timezone.localdate()
    query = reports.check_query(report, today - 6 * DAY, today, {}, "day")
    comparison = reports.compare(city.leader, report, query)
    assert comparison.current.totals["received"] == 4
    assert comparison.previous.totals["received"] == 2  # 9 and 10 days ago
    assert comparison.last_year.totals["received"] == 1
    assert reports.change(4, 2) == 1.0
    assert reports.change(0.5, 0.25, reports.ColumnKind.RATE) == 0.25
    assert reports.change(3, 0) is None
    assert comparison.current.chart == reports.ChartKind.LINE
    weeks = reports.run_report(city.leader, report,
                               reports.check_query(report, today - 60 * DAY, today, {}, "month"))
    assert sum(r["received"] for r in weeks.rows) == 6


def test_bad_queries_are_refused(city: Any) -> None:
    report = reports.get_report(city.leader, "order-volume")
    today = timezone.localdate()
    with pytest.raises(reports.InvalidInput):
        reports.check_query(report, today, today - DAY, {})
    with pytest.raises(reports.InvalidInput):
        reports.check_query(report, today - 4000 * DAY, today, {})
    with pytest.raises(reports.InvalidInput):
        reports.check_query(report, today, today, {"colour": "red"})
    with pytest.raises(reports.InvalidInput):
        reports.query_from_params(report, {"from": "2026-13-01", "to": "2026-12-01"})
    with pytest.raises(reports.Forbidden):
        reports.get_report(city.handler, "order-volume")


def test_the_report_page_table_chart_comparison_and_export(city: Any, story: Story,
                                                          client: Client) -> None:
    rebuild_order_rollups()
    Unit.objects.filter(pk=city.water.pk).update(name="=HYPERLINK(\"http://x\")")
    client.force_login(city.leader)
    listing = client.get("/insight/reports/")
    assert listing.status_code == 200 and b"/insight/reports/order-volume/" in listing.content
    headings = re.findall(r'<div class="card" id="reports-(\w+)">\s*<h2>([^<]+)</h2>',
                          listing.content.decode())
    assert headings and headings[0][0] == "orders"  # a leader reads the orders first
    assert all(title != name for name, title in headings)  # every section titled in words
    page = client.get("/insight/reports/order-rates/", {"group_by": "unit"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and 'id="report-comparison"' in html and "50.0%" in html
    assert "/insight/reports/orders/drill/?" in html
    bad = client.get("/insight/reports/order-rates/", {"from": "yesterday"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.content.decode()
    assert client.get("/insight/reports/order-rates/", {"colour": "red"}).status_code == 400
    assert client.get("/insight/reports/no-such-report/").status_code == 404
    export = client.get("/insight/reports/order-rates/", {"group_by": "unit", "format": "xlsx"})
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Lead unit"
    water = next(r for r in sheet.iter_rows() if str(r[0].value).startswith("=HYPERLINK"))
    assert water[0].data_type == "s" and water[0].quotePrefix  # shown as text, never run
    assert AccessLog.objects.filter(user=city.leader, kind=AccessKind.EXPORT,
                                    detail__startswith="report order-rates").exists()


def test_the_drill_down_lists_the_counted_orders_the_viewer_may_see(
        city: Any, story: Story, client: Client) -> None:
    rebuild_order_rollups()
    today = timezone.localdate()
    params = {"from": (today - 6 * DAY).isoformat(), "to": today.isoformat(),
              "measure": "returned"}
    client.force_login(city.leader)
    page = client.get("/insight/reports/orders/drill/", params)
    assert page.status_code == 200
    assert [o.number for o in page.context["page"]] == [story.returned.number]
    received = client.get("/insight/reports/orders/drill/", {**params, "measure": "received"})
    assert received.context["page"].paginator.count == 4
    client.force_login(city.env_handler)  # env leads only the noise order
    env = client.get("/insight/reports/orders/drill/", {**params, "measure": "received"})
    assert [o.number for o in env.context["page"]] == []  # handlers run no order report
    client.force_login(city.sub_agent)
    sub = client.get("/insight/reports/orders/drill/", {**params, "measure": "received"})
    assert story.noise.number not in {o.number for o in sub.context["page"]}
    assert client.get("/insight/reports/orders/drill/", {**params, "measure": "x"}) \
        .status_code == 400


def test_the_api_lists_runs_and_exports_reports(city: Any, story: Story) -> None:
    as_user = ApiClient
    rebuild_order_rollups()
    leader = as_user(city.leader)
    listed = leader.get("/reports")
    assert listed.status_code == 200
    assert {"order-volume", "order-rates", "order-overdue"} <= {r["name"] for r in listed.json()}
    today = timezone.localdate()
    span = {"from": (today - 6 * DAY).isoformat(), "to": today.isoformat()}
    r = leader.get("/reports/order-volume", data={**span, "group_by": "unit", "district": "gulou"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["current"]["totals"]["received"] == 3
    assert "previous_period" in body and "same_period_last_year" in body
    assert all("_key" not in row for row in body["current"]["rows"])
    assert leader.get("/reports/order-volume", data={"from": "2026-02-30", "to": "2026-03-01"}) \
        .status_code == 422
    assert leader.get("/reports/order-volume", data={**span, "colour": "red"}).status_code == 422
    assert leader.get("/reports/order-volume", data={"to": "2026-03-01"}).status_code == 422
    assert leader.get("/reports/order-volume", data={"from": "2020-01-01", "to": "2026-01-01"}) \
        .status_code == 422
    assert leader.get("/reports/nothing", data=span).status_code == 404
    xlsx = leader.get("/reports/order-volume", data={**span, "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd")
    assert AccessLog.objects.filter(user=city.leader, kind=AccessKind.EXPORT).count() == 1
    # A role without order reports gets an empty list, and 403 for a report itself.
    handler = as_user(city.handler)
    listed = handler.get("/reports").json()
    assert not [r for r in listed if r["name"].startswith("order-")]
    assert handler.get("/reports/order-volume", data=span).status_code == 403


def test_bar_chart_escapes_labels_and_draws_one_bar_per_value() -> None:
    svg = bar_chart([("a<b", [1, 2, None])], ["<x>", "y", "z"], title="t&t")
    assert "<x>" not in svg and "&lt;x&gt;" in svg and "a&lt;b" in svg
    assert svg.count("<rect") == 2 + 1  # two bars and the legend swatch
    percent = bar_chart([("r", [0.5])], ["u"], percent=True)
    assert "50%" in percent and "100%" in percent


def test_rollup_scope_of_a_street_covers_its_own_unit(city: Any, story: Story) -> None:
    rebuild_order_rollups()
    street_unit = Unit.objects.get(pk=city.street.pk)
    assert street_unit.kind == UnitKind.STREET
    report = reports.get_report(city.leader, "order-volume")
    result = reports.run_report(city.sub_agent, report, _week(story, unit="gulou-dongjie"))
    assert result.totals["received"] == 0


def test_a_query_reads_the_smallest_grain_holding_its_dimensions() -> None:
    assert grain_for(set()) == "day"
    assert grain_for({"unit_id"}) == "unit"
    assert grain_for({"unit_id", "district_id"}) == "unit"
    assert grain_for({"category_id", "district_id"}) == "category"
    assert grain_for({"type"}) == "kind"
    assert grain_for({"unit_id", "category_id"}) == "full"
