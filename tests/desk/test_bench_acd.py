"""bench/acd.py's replay on a slice of the real call-centre log, in the test database: every
call ends answered or abandoned, the database agrees with the simulation, nobody is
double-booked, and more agents never make the queue worse."""

from __future__ import annotations

import random

import pytest

from bench import acd

pytestmark = [pytest.mark.shared_data, pytest.mark.django_db]


def _replay(agents: int) -> dict[str, object]:
    if not acd.DEFAULT_LOG.exists():
        pytest.skip(f"shared data absent: {acd.DEFAULT_LOG}")
    args = acd.parse_args(["--days", "1999-08-02", "--hours", "10-11", "--speedup", "0"])
    calls = acd.read_log(args.log, ["1999-08-02"], 10, 11)
    figures = acd.prepare(calls, 1, 10, 11, 20.0, random.Random(1))
    calls = [c for c in calls if c.arrival_s < 10 * 3600 + 1200]  # the first 20 minutes
    replay = acd.Replay(calls, agents, args, figures.aht_s)
    replay.run()
    return replay.figures()


def test_log_reading_and_patience() -> None:
    if not acd.DEFAULT_LOG.exists():
        pytest.skip(f"shared data absent: {acd.DEFAULT_LOG}")
    calls = acd.read_log(acd.DEFAULT_LOG, ["1999-08-02"], 10, 12)
    figures = acd.prepare(calls, 1, 10, 12, 20.0, random.Random(1))
    assert 300 < figures.calls < 450 and 150 < figures.aht_s < 260
    assert 100 < figures.patience_mean_s < 1000
    assert all(c.patience_s >= c.queue_s for c in calls)
    assert all(c.patience_s == c.queue_s for c in calls if not c.answered)


def test_replay_is_consistent_and_more_agents_help() -> None:
    few, many = _replay(3), _replay(12)
    for result in (few, many):
        assert result["problems"] == [] and result["double_booked"] == 0
        assert result["answered"] + result["abandoned"] == result["calls"]  # type: ignore[operator]
    assert many["wait_mean_s"] < few["wait_mean_s"]  # type: ignore[operator]
    assert many["abandon_pct"] <= few["abandon_pct"]  # type: ignore[operator]
