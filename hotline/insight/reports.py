"""The standard reports as data: each report declares its name, columns, filters and who may
run it, and one function that computes its rows for a viewer and a query.

Every face (report pages, the Excel export, ``GET /api/v1/reports/{name}``, the weekly brief)
goes through ``run_report``, so a report's numbers are the same everywhere and always in the
viewer's scope. A report's ``compute`` reads rollups (``hotline.insight.rollups``), never the
raw tables, so it answers in well under a second however large the city.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy, gettext_noop

from hotline.core.errors import Forbidden, InvalidInput, NotFound
from hotline.core.roles import Role

# Query parameters every face reads itself; any other one must be a filter of the report.
RESERVED_PARAMS = frozenset({"from", "to", "group_by", "format", "page", "measure"})
MAX_RANGE_DAYS = 3 * 366  # a wider range is a typo, and the comparison doubles it


class ColumnKind(StrEnum):
    DIMENSION = "dimension"  # what a row is about: a day, a queue, a unit
    COUNT = "count"  # a number of things; summed in the totals
    RATE = "rate"  # a fraction 0..1 (shown as a percentage); recomputed in the totals
    SECONDS = "seconds"  # a duration; averaged in the totals by the report itself


class ChartKind(StrEnum):
    LINE = "line"  # over time
    BAR = "bar"  # per unit, queue, category
    NONE = "none"


# The report list's sections in the order a leader reads them.
SECTION_TITLES: dict[str, Promise] = {
    "orders": gettext_lazy("Work orders"), "assessment": gettext_lazy("Assessment"),
    "calls": gettext_lazy("Calls"), "quality": gettext_lazy("Quality inspection"),
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise  # gettext_lazy
    kind: ColumnKind = ColumnKind.COUNT


@dataclass(frozen=True)
class ReportQuery:
    date_from: dt.date  # inclusive, in the centre's time zone
    date_to: dt.date  # inclusive
    filters: Mapping[str, str] = field(default_factory=dict)  # only the report's own filters
    group_by: str = ""  # one of the report's dimensions, "" for the report's default

    def previous_period(self) -> ReportQuery:
        """环比: whole calendar months (a month, a quarter, a year) against as many whole months
        just before, as statistics offices compare them (October against September, not
        against 31 days from 31 August); any other range against the same number of days just
        before."""
        months = _whole_months(self.date_from, self.date_to)
        if months:
            return ReportQuery(_months_before(self.date_from, months),
                               self.date_from - dt.timedelta(days=1), self.filters, self.group_by)
        days = (self.date_to - self.date_from).days + 1
        return ReportQuery(self.date_from - dt.timedelta(days=days),
                           self.date_from - dt.timedelta(days=1), self.filters, self.group_by)

    def same_period_last_year(self) -> ReportQuery:
        """The same dates a year earlier (同比); 29 February becomes the 28th."""
        return ReportQuery(_year_before(self.date_from), _year_before(self.date_to),
                           self.filters, self.group_by)


def _whole_months(first: dt.date, last: dt.date) -> int:
    """How many calendar months ``first``..``last`` covers exactly, 0 when it is not whole months."""
    after = last + dt.timedelta(days=1)
    if first.day != 1 or after.day != 1 or after <= first:
        return 0
    return (after.year * 12 + after.month) - (first.year * 12 + first.month)


def _months_before(first_of_month: dt.date, months: int) -> dt.date:
    index = first_of_month.year * 12 + first_of_month.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def _year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class ReportResult:
    columns: Sequence[Column]
    rows: Sequence[Mapping[str, Any]]  # one mapping per row, keyed by column key
    totals: Mapping[str, Any] = field(default_factory=dict)
    # Where each row's numbers come from, for drill-down: row index -> a URL query string of
    # the order list (or call list) in the viewer's scope, a URL; the faces link each count
    # column of the row to it with ``&measure=<column key>``. Optional.
    drill: Mapping[int, str] = field(default_factory=dict)  # -1: the totals row
    chart: ChartKind | None = None  # overrides the definition's (a line over periods)
    notes: Sequence[str | Promise] = ()  # the measures' definitions, shown under the table


Compute = Callable[[Any, ReportQuery], ReportResult]  # (viewer: User, query) -> result


@dataclass(frozen=True)
class ReportDefinition:
    name: str  # the URL name: /insight/reports/<name>/, /api/v1/reports/<name>
    title: str | Promise
    description: str | Promise
    compute: Compute
    roles: frozenset[Role]  # who may run it; the compute limits the rows to the viewer's scope
    filters: tuple[str, ...] = ()  # query parameters the report accepts besides from/to
    group_by: tuple[str, ...] = ()  # the dimensions it can be grouped by; first is default
    chart: ChartKind = ChartKind.BAR
    chart_columns: tuple[str, ...] = ()  # which count/rate columns the chart draws
    section: str = "orders"  # groups the report list: orders, calls, assessment, quality


REPORTS: dict[str, ReportDefinition] = {}


def register(definition: ReportDefinition) -> ReportDefinition:
    if definition.name in REPORTS and REPORTS[definition.name] is not definition:
        raise ValueError(f"report {definition.name!r} is registered twice")
    REPORTS[definition.name] = definition
    return definition


def _load() -> None:
    """The modules that declare reports register them when imported."""
    from hotline.insight import report_catalogue  # noqa: F401


def reports_for(viewer: Any) -> list[ReportDefinition]:
    _load()
    return [r for r in REPORTS.values() if may_run(viewer, r)]


def may_run(viewer: Any, report: ReportDefinition) -> bool:
    return bool(getattr(viewer, "is_superuser", False) or getattr(viewer, "role", "") in report.roles)


def get_report(viewer: Any, name: str) -> ReportDefinition:
    _load()
    report = REPORTS.get(name)
    if report is None:
        raise NotFound(gettext_noop("No such report."))
    if not may_run(viewer, report):
        raise Forbidden(gettext_noop("Your role may not run this report."))
    return report


def check_query(report: ReportDefinition, date_from: dt.date, date_to: dt.date,
                params: Mapping[str, str], group_by: str = "") -> ReportQuery:
    if date_to < date_from:
        raise InvalidInput(gettext_noop("The end date is before the start date."), field="to")
    if (date_to - date_from).days > MAX_RANGE_DAYS:
        raise InvalidInput(gettext_noop("The range may not exceed three years."), field="to")
    if group_by and group_by not in report.group_by:
        raise InvalidInput(gettext_noop("This report cannot be grouped that way."), field="group_by")
    unknown = sorted(set(params) - set(report.filters) - RESERVED_PARAMS)
    if unknown:
        raise InvalidInput(gettext_noop("This report has no such filter."), field=unknown[0])
    filters = {k: v for k, v in params.items() if k in report.filters and v}
    return ReportQuery(date_from, date_to, filters, group_by or (report.group_by[:1] or ("",))[0])


def run_report(viewer: Any, report: ReportDefinition, query: ReportQuery) -> ReportResult:
    return report.compute(viewer, query)


def parse_day(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(gettext_noop("Give dates as YYYY-MM-DD."), field=name) from None


def query_from_params(report: ReportDefinition, params: Mapping[str, str], *,
                      default_to: dt.date | None = None, default_days: int = 30) -> ReportQuery:
    """A checked query from request parameters (``from``, ``to``, ``group_by`` and the report's
    filters). Without ``default_to`` both dates are required."""
    raw_from, raw_to = params.get("from", ""), params.get("to", "")
    if default_to is None and not (raw_from and raw_to):
        raise InvalidInput(gettext_noop("Give from and to (YYYY-MM-DD)."),
                           field="from" if not raw_from else "to")
    date_to = parse_day(raw_to, "to") if raw_to else default_to
    assert date_to is not None
    date_from = (parse_day(raw_from, "from") if raw_from
                 else date_to - dt.timedelta(days=default_days - 1))
    return check_query(report, date_from, date_to, params, params.get("group_by", ""))


def _row_key(row: Mapping[str, Any]) -> str:
    return str(row.get("_key") or "")


@dataclass(frozen=True)
class Comparison:
    """A report with the previous period (环比) and the same period last year (同比)."""

    query: ReportQuery
    current: ReportResult
    previous: ReportResult
    last_year: ReportResult

    def earlier_rows(self, which: ReportResult) -> dict[str, Mapping[str, Any]]:
        """``which``'s rows by their key: rows about the same thing (a unit, a category) match;
        rows of periods have no key and match nothing (their totals still compare)."""
        return {_row_key(r): r for r in which.rows if _row_key(r)}


def compare(viewer: Any, report: ReportDefinition, query: ReportQuery) -> Comparison:
    return Comparison(query, run_report(viewer, report, query),
                      run_report(viewer, report, query.previous_period()),
                      run_report(viewer, report, query.same_period_last_year()))


def change(current: Any, earlier: Any, kind: ColumnKind = ColumnKind.COUNT) -> float | None:
    """The relative change from ``earlier`` to ``current`` (0.25 = +25 %); for a rate the
    difference (0.02 = two percentage points). None when there is nothing to compare with."""
    if not isinstance(current, int | float) or not isinstance(earlier, int | float):
        return None
    if kind == ColumnKind.RATE:
        return current - earlier
    if earlier == 0:
        return None
    return (current - earlier) / earlier


def measure_columns(result: ReportResult) -> list[Column]:
    return [c for c in result.columns if c.kind != ColumnKind.DIMENSION]
