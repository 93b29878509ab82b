"""A hot-issue report computed minutes ago serves the same view; scopes never share one."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from hotline.core.errors import Forbidden
from hotline.insight.models import HotIssueSnapshot
from hotline.insight.services import window_for
from hotline.insight.snapshots import report_for
from tests.insight.conftest import OUTAGE, make

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

    from tests.conftest import City
    from tests.insight.conftest import Scenario


def test_the_same_view_is_served_from_the_snapshot_until_it_is_old(city: City, scenario: Scenario,
                                                                   settings: Settings) -> None:
    settings.HOTLINE_HOT_ISSUES_REFRESH_SECONDS = 600
    now = scenario.now
    first = report_for(city.leader, window_for(days=1, now=now), now=now)
    assert first.issues[0].count == 6 and "snapshot_age_s" not in first.timings_ms
    make(city, OUTAGE[0][0], OUTAGE[0][1], now - dt.timedelta(minutes=5))
    later = now + dt.timedelta(minutes=5)
    again = report_for(city.leader, window_for(days=1, now=later), now=later)
    assert again.timings_ms["snapshot_age_s"] == 300
    assert again.issues[0].count == 6  # the snapshot, not the new order
    # Another role with the same (city-wide) scope shares it.
    assert "snapshot_age_s" in report_for(city.monitor, window_for(days=1, now=later),
                                          now=later).timings_ms
    stale = now + dt.timedelta(minutes=11)
    fresh = report_for(city.leader, window_for(days=1, now=stale), now=stale)
    assert "snapshot_age_s" not in fresh.timings_ms and fresh.issues[0].count == 7
    assert HotIssueSnapshot.objects.count() == 1


def test_a_narrower_scope_never_gets_the_city_snapshot(city: City, scenario: Scenario) -> None:
    now = scenario.now
    report_for(city.leader, window_for(days=1, now=now), now=now)
    district = report_for(city.sub_agent, window_for(days=1, now=now), now=now)
    assert "snapshot_age_s" not in district.timings_ms
    assert district.scope == "district"
    assert HotIssueSnapshot.objects.count() == 2


def test_filters_and_windows_are_separate_views(city: City, scenario: Scenario) -> None:
    now = scenario.now
    report_for(city.leader, window_for(days=1, now=now), now=now)
    week = report_for(city.leader, window_for(days=7, now=now), now=now)
    noise = report_for(city.leader, window_for(days=7, now=now), district="taijiang", now=now)
    assert "snapshot_age_s" not in week.timings_ms and "snapshot_age_s" not in noise.timings_ms
    assert HotIssueSnapshot.objects.count() == 3


def test_a_snapshot_is_no_way_round_the_role_check(city: City, scenario: Scenario) -> None:
    now = scenario.now
    report_for(city.leader, window_for(days=1, now=now), now=now)
    with pytest.raises(Forbidden):
        report_for(city.handler, window_for(days=1, now=now), now=now)


def test_an_unreadable_snapshot_is_computed_again(city: City, scenario: Scenario) -> None:
    now = scenario.now
    report_for(city.leader, window_for(days=1, now=now), now=now)
    HotIssueSnapshot.objects.update(report=b"not a pickle")
    report = report_for(city.leader, window_for(days=1, now=now), now=now)
    assert report.issues[0].count == 6


def test_the_worker_prepares_the_city_views_the_leaders_open(city: City, scenario: Scenario) -> None:
    from hotline.insight.snapshots import refresh_city_reports

    now = scenario.now
    keys = refresh_city_reports(now=now)
    assert len(keys) == 3 and HotIssueSnapshot.objects.count() == 3
    later = now + dt.timedelta(minutes=2)
    for days in (1, 7, 30):
        report = report_for(city.leader, window_for(days=days, now=later), now=later)
        assert report.timings_ms["snapshot_age_s"] == 120
    assert report_for(city.leader, window_for(days=1, now=later), now=later).issues[0].count == 6


def test_the_refresh_drops_views_nobody_asked_for_in_a_day(city: City, scenario: Scenario) -> None:
    from hotline.insight.snapshots import refresh_city_reports

    now = scenario.now
    report_for(city.leader, window_for(days=7, now=now), district="taijiang", now=now)
    refresh_city_reports(now=now + dt.timedelta(days=1, minutes=1))
    assert not HotIssueSnapshot.objects.filter(key__contains="taijiang").exists()
    assert HotIssueSnapshot.objects.count() == 3
