"""The calls report's rows carry a key (so 环比/同比 match the same queue in another period) and
a drill-down to the calls behind each number, in the viewer's scope and with the caller's
number masked."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from hotline.contactcentre import services
from hotline.core.errors import Forbidden, InvalidInput
from hotline.insight import call_rollups
from hotline.insight.call_drill import drill_calls
from hotline.insight.reports import check_query, compare, get_report
from hotline.portal.report_views import table
from tests.contactcentre.conftest import at

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 2)
WEEK = (DAY - dt.timedelta(days=6), DAY)


@pytest.fixture
def two_weeks(rolled: Any) -> Any:
    """The floor day, and one abandoned call in the same queue the week before."""
    before = services.do_enqueue_call(rolled.general, call_ref="p1", caller="13911112222",
                                      now=at(-7 * 86400))
    services.do_call_abandoned(before.pk, at(-7 * 86400 + 60))
    call_rollups.rebuild_call_rollups(at(500))
    return rolled


def test_rows_match_the_same_queue_in_the_period_before(two_weeks: Any) -> None:
    report = get_report(two_weeks.admin, "calls")
    comparison = compare(two_weeks.admin, report, check_query(report, *WEEK, {}, "queue"))
    (row,) = comparison.current.rows
    assert row["_key"] == str(two_weeks.general.pk)
    earlier = comparison.earlier_rows(comparison.previous)
    assert earlier[row["_key"]]["offered"] == 1 and row["offered"] == 4
    shown = table(report, comparison)
    assert shown["rows"][0]["changes"][0] == "+300.0%"  # 环比 of the chart's first column
    # Days are never the same in another period: they carry no key.
    by_day = compare(two_weeks.admin, report, check_query(report, *WEEK, {}, "day"))
    assert [r["_key"] for r in by_day.current.rows] == [""]


def drill(user: Any, **params: str) -> list[str]:
    base = {"from": WEEK[0].isoformat(), "to": WEEK[1].isoformat()}
    return sorted(c.call_ref for c in drill_calls(user, {**base, **params}))


def test_each_number_drills_to_the_calls_it_counts(two_weeks: Any) -> None:
    admin, queue = two_weeks.admin, str(two_weeks.general.pk)
    assert drill(admin, queue=queue) == ["c1", "c2", "c3", "c4"]
    assert drill(admin, queue=queue, measure="answered") == ["c1", "c4"]
    assert drill(admin, queue=queue, measure="abandoned") == ["c3"]
    assert drill(admin, queue=queue, measure="short_abandoned") == ["c2"]
    assert drill(admin, hour="17") == ["c1", "c2", "c3", "c4"]  # 09:00 UTC is 17:00 local
    assert drill(admin, hour="9") == []
    assert drill(admin, day="2026-03-02", queue_code="general") == ["c1", "c2", "c3", "c4"]
    assert drill(admin, agent=str(two_weeks.agent.pk)) == ["c1", "c4"]
    assert drill(two_weeks.leader, measure="abandoned") == ["c3"]
    # The numbers behind a row are the row's numbers.
    report = get_report(admin, "calls")
    comparison = compare(admin, report, check_query(report, *WEEK, {}, "queue"))
    row = comparison.current.rows[0]
    for measure in ("offered", "answered", "abandoned", "short_abandoned"):
        assert len(drill(admin, queue=queue, measure=measure)) == row[measure]


def test_an_agent_drills_only_into_their_own_calls(two_weeks: Any) -> None:
    assert drill(two_weeks.agent) == ["c1", "c4"]  # the calls alice answered
    assert drill(two_weeks.bob) == []
    with pytest.raises(Forbidden):
        drill(two_weeks.agent, agent=str(two_weeks.bob.pk))
    with pytest.raises(Forbidden):
        drill(two_weeks.handler)  # a department sees no call statistics


def test_bad_parameters_are_refused_with_a_message(two_weeks: Any) -> None:
    for bad in ({"measure": "talk_s"}, {"hour": "25"}, {"queue": "general"},
                {"queue_code": "nosuch"}, {"day": "yesterday"}, {"from": "2026-03-09"}):
        with pytest.raises(InvalidInput):
            drill(two_weeks.admin, **bad)


def test_the_report_page_links_to_the_calls_with_numbers_masked(two_weeks: Any) -> None:
    monitor = Client()
    monitor.force_login(two_weeks.monitor)
    page = monitor.get("/insight/reports/calls/", {"from": WEEK[0].isoformat(),
                                                   "to": WEEK[1].isoformat()})
    assert page.status_code == 200
    html = page.content.decode()
    assert "/insight/reports/calls/drill/?" in html and "measure=abandoned" in html
    report = get_report(two_weeks.monitor, "calls")
    url = compare(two_weeks.monitor, report, check_query(report, *WEEK, {}, "queue")) \
        .current.drill[0]
    listed = monitor.get(url + "&measure=offered")
    assert listed.status_code == 200
    text = listed.content.decode()
    assert "138****0000" in text and "13800000000" not in text
    assert text.count("<tr>") == 5  # the header and four calls
    refused = monitor.get(url + "&measure=nonsense")
    assert refused.status_code == 422 and 'id="drill-error"' in refused.content.decode()
    handler = Client()
    handler.force_login(two_weeks.handler)
    assert handler.get(url).status_code == 403
