"""Where the weekly brief's numbers come from: its figures and overdue section from the rollups
through the standard reports (the same numbers the report pages show), its ranking from the
assessment's stored monthly standings, with on-time completion per unit only when no month has
been scored."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from hotline.insight import brief as briefs
from hotline.insight.brief_ranking import assessment_ranking
from hotline.insight.reports import check_query, get_report, run_report
from hotline.insight.rollups import rebuild_order_rollups
from hotline.orders.models import Order
from tests.insight.test_assessment import Months, months  # noqa: F401  (the fixture)
from tests.insight.test_brief import W48, at, weeks  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def figure(data: briefs.BriefData, label: str) -> briefs.Figure:
    return next(f for f in data.figures if f.label == label)


def test_the_figures_are_the_reports_numbers_from_the_rollups(weeks: Any) -> None:  # noqa: F811
    with time_machine.travel(at(dt.date(2026, 12, 1)), tick=False):
        data = briefs.gather(W48)
        report = get_report(weeks.leader, "order-volume")
        volume = run_report(weeks.leader, report, check_query(
            report, W48, W48 + dt.timedelta(days=6), {}, "type"))
    assert figure(data, "Requests received").this_week == volume.totals["received"] == 4
    assert figure(data, "of which complaints").this_week == 3  # new_order's default type
    # Changing the orders behind the history's back moves nothing: the brief reads the
    # rollups, which only the history (or a rebuild) moves.
    Order.objects.update(type="consultation")
    with time_machine.travel(at(dt.date(2026, 12, 1)), tick=False):
        assert figure(briefs.gather(W48), "of which complaints").this_week == 3
        rebuild_order_rollups()
        assert figure(briefs.gather(W48), "of which complaints").this_week == 0


def test_the_ranking_is_the_assessment_of_the_month(months: Months) -> None:  # noqa: F811
    # The week of 26 October ends on 1 November: November has no standings yet, so the brief
    # shows October's, with each department's move since September.
    title, rows = assessment_ranking(dt.date(2026, 10, 26))
    assert "2026-10" in title and "month to date" not in title
    assert [(r["rank"], r["unit"], r["change"]) for r in rows] == [
        (1, "市生态环境局", "+1"), (2, "市水务局", "−1")]
    assert rows[0]["score"] == "100.0"
    # A week inside October: October's standings so far.
    title, rows = assessment_ranking(dt.date(2026, 10, 12))
    assert "month to date" in title and rows[0]["unit"] == "市生态环境局"
    # The brief uses it by default.
    with time_machine.travel(at(dt.date(2026, 11, 2)), tick=False):
        data = briefs.gather(dt.date(2026, 10, 26))
    assert data.ranking_title == title.replace(" (month to date)", "")
    assert data.ranking == assessment_ranking(dt.date(2026, 10, 26))[1]


def test_without_standings_the_ranking_is_on_time_completion(city: Any) -> None:
    from tests.insight.test_assessment import handled

    monday = dt.date(2026, 10, 12)
    for k in range(2):
        handled(city, at(monday) + dt.timedelta(hours=k))
    with time_machine.travel(at(monday + dt.timedelta(days=8)), tick=False):
        data = briefs.gather(monday)
    assert data.ranking_title == "Units by on-time completion this week"
    assert [(r["rank"], r["unit"], r["count"], r["score"]) for r in data.ranking] == [
        (1, "市水务局", 2, 100.0)]


def test_the_overdue_section_is_the_overdue_report_by_unit(city: Any) -> None:
    from tests.insight.test_assessment import handled

    monday = dt.date(2026, 10, 12)
    late = handled(city, at(monday), sign_after_h=None)  # dispatched, never signed
    with time_machine.travel(at(monday + dt.timedelta(days=30)), tick=False):
        from hotline.orders.sweeps import sweep_deadlines

        sweep_deadlines()
        data = briefs.gather(monday + dt.timedelta(days=21))
    assert Order.objects.get(pk=late.pk).overdue_at is not None
    assert data.overdue_by_unit == [{"unit": "市水务局", "count": 1, "dispatched": 1}]
