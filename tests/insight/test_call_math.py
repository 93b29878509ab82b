"""The pure pieces: call figure definitions and agents' intervals."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.contactcentre import call_figures as f
from hotline.insight import agent_time as t

T = dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)


def s(seconds: float) -> dt.datetime:
    return T + dt.timedelta(seconds=seconds)


def test_the_rates_leave_short_abandons_out_and_nothing_is_not_zero() -> None:
    assert f.connection_rate(95, 105, 5) == pytest.approx(0.95)
    assert f.fast_answer_rate(80, 105, 5) == pytest.approx(0.8)
    assert f.connection_rate(0, 3, 3) is None
    assert f.service_level(8, 9, 1) == pytest.approx(0.8)
    assert f.mean(10.0, 0) is None and f.mean(10.0, 4) == 2.5
    assert f.is_short_abandon(5.0) and not f.is_short_abandon(5.01)


def test_intervals_start_from_the_state_before_and_cut_at_the_end() -> None:
    before = t.Change(s(-100), "idle")
    found = t.intervals(before, [t.Change(s(10), "ringing", 7), t.Change(s(15), "talking", 7),
                                 t.Change(s(60), "signed_out")], s(0), s(120))
    assert [(i.state, i.seconds, i.call_id) for i in found] == \
        [("idle", 10, None), ("ringing", 5, 7), ("talking", 45, 7)]
    assert t.intervals(None, [], s(0), s(60)) == []  # signed out all along
    still = t.intervals(t.Change(s(-5), "wrap_up", 3), [], s(0), s(30))
    assert t.wrap_ups(still) == {3: 30.0}


def test_hours_cut_intervals_and_occupancy_counts_only_available_time() -> None:
    found = [t.Interval("talking", s(0), s(3600))]  # 08:30 to 09:30
    assert t.by_hour(found) == {(T.replace(minute=0), "talking"): 1800.0,
                                (T.replace(hour=9, minute=0), "talking"): 1800.0}
    assert t.occupancy({"talking": 60, "wrap_up": 20, "ringing": 10, "idle": 10,
                        "busy": 500}) == pytest.approx(0.9)
    assert t.occupancy({"busy": 100}) is None


def test_the_map_colours_by_share_of_the_busiest_and_escapes_names() -> None:
    from hotline.insight.city_map import DistrictVolume, district_map

    levels = [DistrictVolume("a", "A", n).level(100) for n in (0, 1, 25, 26, 50, 99, 100)]
    assert levels == [0, 1, 1, 2, 2, 4, 4]
    svg = district_map([DistrictVolume("gulou", "鼓楼区", 3),
                        DistrictVolume("new", "<新区>", 0)], title="今日")
    assert 'data-district="gulou"' in svg and 'class="district lvl-4"' in svg
    assert "&lt;新区&gt;" in svg and "<新区>" not in svg  # a district without an outline: a tile
