"""The periods a report compares with: 环比 by whole calendar months when the range is whole
months, by the same number of days otherwise; 同比 the same dates a year earlier."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.insight.reports import ReportQuery

D = dt.date


@pytest.mark.parametrize(("first", "last", "previous"), [
    (D(2026, 10, 1), D(2026, 10, 31), (D(2026, 9, 1), D(2026, 9, 30))),  # a month
    (D(2026, 3, 1), D(2026, 3, 31), (D(2026, 2, 1), D(2026, 2, 28))),  # after a short month
    (D(2026, 1, 1), D(2026, 1, 31), (D(2025, 12, 1), D(2025, 12, 31))),  # across the year
    (D(2026, 10, 1), D(2026, 12, 31), (D(2026, 7, 1), D(2026, 9, 30))),  # a quarter
    (D(2026, 1, 1), D(2026, 12, 31), (D(2025, 1, 1), D(2025, 12, 31))),  # a year
    (D(2026, 10, 5), D(2026, 10, 11), (D(2026, 9, 28), D(2026, 10, 4))),  # a week: by days
    (D(2026, 10, 1), D(2026, 10, 30), (D(2026, 9, 1), D(2026, 9, 30))),  # not whole: 30 days
    (D(2026, 10, 2), D(2026, 10, 31), (D(2026, 9, 2), D(2026, 10, 1))),  # not whole: 30 days
])
def test_the_previous_period(first: dt.date, last: dt.date,
                             previous: tuple[dt.date, dt.date]) -> None:
    query = ReportQuery(first, last, {"type": "complaint"}, "unit")
    before = query.previous_period()
    assert (before.date_from, before.date_to) == previous
    assert before.filters == {"type": "complaint"} and before.group_by == "unit"


def test_the_same_period_last_year_keeps_the_dates() -> None:
    year = ReportQuery(D(2028, 2, 1), D(2028, 2, 29)).same_period_last_year()
    assert (year.date_from, year.date_to) == (D(2027, 2, 1), D(2027, 2, 28))
