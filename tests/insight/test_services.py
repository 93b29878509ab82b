"""Hot issues over real orders in the database: windows, scope, spikes, indexing."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone

from hotline.core.errors import Forbidden, InvalidInput
from hotline.insight.models import OrderTerms
from hotline.insight.services import hot_issues, may_view_hot_issues, window_for
from hotline.insight.topic_models import TopicEpoch
from hotline.insight.topics import do_refresh

if TYPE_CHECKING:
    from hotline.insight.services import HotIssue
    from tests.conftest import City
    from tests.insight.conftest import Scenario


def numbers(issue: HotIssue) -> set[str]:
    return {s.number for s in issue.samples}


def test_window_choices_and_ranges() -> None:
    now = timezone.now()
    assert window_for(days=1, now=now).days == 1
    assert window_for(now=now).days == 7
    week = window_for(days=30, now=now)
    assert week.end == now and week.days == 30
    today = timezone.localdate(now)
    ranged = window_for(date_from=today - dt.timedelta(days=2), date_to=today, now=now)
    assert ranged.days == 3 and timezone.localtime(ranged.start).hour == 0


@pytest.mark.parametrize("kwargs,field", [
    ({"days": 5}, "days"),
    ({"days": 0}, "days"),
    ({"date_from": dt.date(2026, 1, 2)}, "date_to"),
    ({"date_to": dt.date(2026, 1, 2)}, "date_from"),
    ({"date_from": dt.date(2026, 1, 2), "date_to": dt.date(2026, 1, 1)}, "date_to"),
    ({"date_from": dt.date(2026, 1, 1), "date_to": dt.date(2026, 6, 1)}, "date_to"),
    ({"date_from": dt.date(2999, 1, 1), "date_to": dt.date(2999, 1, 2)}, "date_from"),
])
def test_bad_windows_are_refused(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        window_for(**kwargs)
    assert caught.value.field == field


def test_planted_outage_is_the_top_hot_issue_with_a_spike(city: City, scenario: Scenario) -> None:
    window = window_for(days=1, now=scenario.now)
    report = hot_issues(city.leader, window)
    assert report.scope == "city"
    assert report.orders == 6 + 0  # only the outage calls fall in the last 24 hours
    top = report.issues[0]
    assert top.count == 6 and "丽发新城" in top.label
    assert numbers(top) <= {o.number for o in scenario.outage} and len(top.samples) == 5
    assert top.districts == [("鼓楼区", 6)]
    assert top.places == [("鼓楼区丽发新城3栋", 3)]
    # One bar per calendar day the last 24 hours touch (two, unless it is midnight).
    assert sum(top.trend) == 6 and len(top.trend) == window.chart_days
    assert top.spike is not None and top.spike.current == 6
    assert top.baseline_per_day == pytest.approx(2 / 28, abs=0.01)
    assert [(a.category, a.district) for a in report.area_spikes] == [("停水", "鼓楼区")]


def test_week_window_groups_each_matter_and_finds_no_spike_in_a_steady_one(city: City,
                                                                           scenario: Scenario) -> None:
    window = window_for(days=7, now=scenario.now)
    report = hot_issues(city.agent, window)
    by_size = {i.count: i for i in report.issues}
    assert set(by_size) == {6, 2}
    noise = by_size[2]
    assert {s.number for s in noise.samples} == {o.number for o in scenario.noise[:2]}
    assert noise.spike is None  # two calls in a week against two in the four weeks before
    assert len(noise.trend) == len(report.day_starts) == window.chart_days and sum(noise.trend) == 2


def test_sub_centre_sees_its_district_only(city: City, scenario: Scenario) -> None:
    report = hot_issues(city.sub_agent, window_for(days=7, now=scenario.now))
    assert report.scope == "district"
    assert [i.count for i in report.issues] == [6]  # the 台江区 noise is not theirs


def test_department_sees_hot_issues_in_its_own_orders(city: City, scenario: Scenario) -> None:
    report = hot_issues(city.dept_admin, window_for(days=7, now=scenario.now))
    assert report.scope == "unit" and report.orders == 3
    assert [i.count for i in report.issues] == [3]
    assert numbers(report.issues[0]) == {o.number for o in scenario.outage[:3]}
    assert may_view_hot_issues(city.dept_admin) and not may_view_hot_issues(city.handler)


@pytest.mark.parametrize("who", ["handler", "street_handler", "system"])
def test_roles_without_hot_issues_are_refused(city: City, who: str) -> None:
    with pytest.raises(Forbidden):
        hot_issues(getattr(city, who), window_for(days=7))


def test_filters_by_district_and_category(city: City, scenario: Scenario) -> None:
    window = window_for(days=7, now=scenario.now)
    taijiang = hot_issues(city.leader, window, district="taijiang")
    assert [i.count for i in taijiang.issues] == [2]
    by_category = hot_issues(city.leader, window, category="1001")  # 供水 covers 停水
    assert [i.count for i in by_category.issues] == [6]
    with pytest.raises(InvalidInput) as caught:
        hot_issues(city.leader, window, district="nowhere")
    assert caught.value.field == "district"
    with pytest.raises(InvalidInput) as caught:
        hot_issues(city.leader, window, category="999")
    assert caught.value.field == "category"


def test_features_are_computed_once_per_order(city: City, scenario: Scenario,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    window = window_for(days=30, now=scenario.now)
    first = hot_issues(city.leader, window)
    assert OrderTerms.objects.count() == 15

    def segmented_again(title: str, text: str) -> None:
        raise AssertionError(f"{title!r} segmented again")

    monkeypatch.setattr("hotline.insight.terms.words_for", segmented_again)
    again = hot_issues(city.leader, window)
    assert [i.count for i in again.issues] == [i.count for i in first.issues]


def test_empty_city_has_no_hot_issues(city: City) -> None:
    report = hot_issues(city.leader, window_for(days=7))
    assert report.orders == 0 and report.issues == [] and report.area_spikes == []


def test_index_command_fills_missing_features_once(city: City, scenario: Scenario) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("index_order_terms", stdout=out)
    assert out.getvalue().strip() == "indexed 15 orders"
    assert OrderTerms.objects.count() == 15
    call_command("index_order_terms", "--days", "5", stdout=out)
    assert out.getvalue().strip().endswith("indexed 0 orders")


def test_features_of_an_older_version_are_recomputed(city: City, scenario: Scenario) -> None:
    window = window_for(days=7, now=scenario.now)
    hot_issues(city.leader, window)
    order = scenario.outage[0]
    OrderTerms.objects.filter(order=order).update(version=1, features=b"", words="")
    TopicEpoch.objects.update(features_version=1)  # the topics were made with the old ones
    assert do_refresh() == "epoch"  # the worker clusters again at once
    report = hot_issues(city.leader, window)
    terms = OrderTerms.objects.get(order=order)
    assert terms.version == 2 and "新城 小区" in terms.words and len(bytes(terms.features)) > 8
    assert report.issues[0].count == 6


def test_trends_count_calendar_days_so_todays_orders_are_on_today() -> None:
    """Issue 15, item 8: the chart bucketed 24-hour slices from "now - 7 days", so an order
    made this morning was drawn on yesterday's bar."""
    import datetime as dt
    import zoneinfo

    from hotline.insight.services import Window

    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    now = dt.datetime(2026, 12, 3, 9, 30, tzinfo=tz)
    window = Window(start=now - dt.timedelta(days=7), end=now)
    starts = window.day_starts()
    assert len(starts) == 8 and window.days == 7
    assert starts[0] == dt.datetime(2026, 11, 26, tzinfo=tz)
    assert starts[-1] == dt.datetime(2026, 12, 3, tzinfo=tz)
    ranged = Window(start=dt.datetime(2026, 12, 1, tzinfo=tz), end=dt.datetime(2026, 12, 4, tzinfo=tz))
    assert ranged.chart_days == 3 and ranged.day_starts()[-1].day == 3
