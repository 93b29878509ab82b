"""The call reports through the registry (``run_report``), as every face runs them: the
centre's figures, an agent's own, refusals of groupings the rollups cannot answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from hotline.core.errors import InvalidInput
from hotline.insight.reports import check_query, get_report, may_run, reports_for, run_report

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 2)


def run(user: Any, name: str, group: str = "", **filters: str) -> Any:
    report = get_report(user, name)
    return run_report(user, report, check_query(report, DAY, DAY, filters, group))


def test_the_centre_sees_every_figure_per_queue(rolled: Any) -> None:
    result = run(rolled.admin, "calls")
    (row,) = result.rows
    assert row["key"] == "综合"
    assert (row["offered"], row["answered"], row["abandoned"], row["short_abandoned"]) == \
        (4, 2, 1, 1)
    assert row["connection_rate"] == pytest.approx(2 / 3)  # 2 answered / (4 - 1 short)
    assert row["fast_answer_rate"] == pytest.approx(1 / 3)
    assert row["service_level"] == pytest.approx(1 / 3)  # 1 in 20 s / (2 + 1 abandoned)
    assert (row["asa_s"], row["talk_s"], row["hold_s"], row["wrap_s"]) == \
        (pytest.approx(20), pytest.approx(115), pytest.approx(10), pytest.approx(15))
    assert result.totals["offered"] == 4


def test_hours_and_days_are_the_centres_local_ones(rolled: Any) -> None:
    assert [r["key"] for r in run(rolled.monitor, "calls", "hour").rows] == ["17:00"]
    assert [r["key"] for r in run(rolled.leader, "calls", "day").rows] == ["2026-03-02"]
    assert [r["key"] for r in run(rolled.admin, "calls", "agent").rows] == ["王坐席"]
    assert run(rolled.admin, "calls", queue="general").rows[0]["offered"] == 4
    with pytest.raises(InvalidInput):
        run(rolled.admin, "calls", queue="nosuchqueue")
    with pytest.raises(InvalidInput):
        run(rolled.admin, "calls", agent="alice")


def test_an_agent_sees_only_their_own_calls_and_time(rolled: Any) -> None:
    own = run(rolled.agent, "calls").rows
    assert [(r["offered"], r["answered"], r["abandoned"]) for r in own] == [(2, 2, 0)]
    assert run(rolled.bob, "calls").rows == []
    with pytest.raises(InvalidInput):
        run(rolled.agent, "calls", "hour")
    (time_row,) = run(rolled.agent, "agent-time").rows
    assert time_row["talking_s"] == pytest.approx(230)
    assert time_row["occupancy"] == pytest.approx(293 / 500)
    assert run(rolled.bob, "agent-time").rows == []
    assert not may_run(rolled.agent, get_report(rolled.admin, "ivr-nodes"))
    names = {r.name for r in reports_for(rolled.agent)}
    assert {"calls", "agent-time"} <= names and "sms" not in names


def test_a_bad_grouping_is_refused_with_a_message(rolled: Any) -> None:
    report = get_report(rolled.admin, "calls")
    with pytest.raises(InvalidInput, match="grouped"):
        check_query(report, DAY, DAY, {}, "district")


def test_the_centres_agent_time_per_hour(rolled: Any) -> None:
    rows = run(rolled.admin, "agent-time", "hour").rows
    assert [r["key"] for r in rows] == ["17:00"]
    assert rows[0]["occupancy"] == pytest.approx(293 / 500)
