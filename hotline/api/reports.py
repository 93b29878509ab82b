"""The standard reports over the REST API (mounted at /api/v1/).

``GET /reports``: the reports the caller may run, with their filters and groupings.
``GET /reports/{name}?from=YYYY-MM-DD&to=YYYY-MM-DD&group_by=unit&district=gulou``: the rows,
totals and the same figures for the previous period (环比) and the same period last year
(同比), in the caller's scope; ``&format=xlsx`` returns the workbook (logged as an export).
The query parameters besides from, to, group_by and format are the report's own filters; an
unknown one is refused (422), as are bad dates and a range over three years.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_noop
from ninja import Field, Router, Schema

from hotline.api.auth import actor
from hotline.api.rules import ANY_ACCOUNT, allow
from hotline.core.errors import InvalidInput
from hotline.insight import reports
from hotline.insight.report_export import report_workbook
from hotline.insight.reports import Comparison, ReportQuery, ReportResult
from hotline.orders.access_log import AccessKind, do_log_access

router = Router(tags=["reports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ColumnOut(Schema):
    key: str
    label: str
    kind: str = Field(description="dimension, count, rate (a fraction 0..1) or seconds")


class ReportInfoOut(Schema):
    name: str
    title: str
    description: str
    section: str
    filters: list[str]
    group_by: list[str] = Field(description="the groupings; the first is the default")
    columns: list[ColumnOut] = Field(description="empty: the columns come with the result")


class PeriodOut(Schema):
    date_from: str
    date_to: str
    rows: list[dict[str, Any]]
    totals: dict[str, Any]


class ReportOut(Schema):
    name: str
    title: str
    group_by: str
    filters: dict[str, str]
    columns: list[ColumnOut]
    current: PeriodOut
    previous_period: PeriodOut = Field(description=(
        "环比: as many whole calendar months just before when the range is whole months, else "
        "the same number of days just before"))
    same_period_last_year: PeriodOut = Field(description="the same dates a year earlier (同比)")
    notes: list[str]


def _period(query: ReportQuery, result: ReportResult) -> dict[str, Any]:
    rows = [{k: v for k, v in row.items() if not k.startswith("_")} for row in result.rows]
    return {"date_from": query.date_from.isoformat(), "date_to": query.date_to.isoformat(),
            "rows": rows, "totals": dict(result.totals)}


def report_json(report: reports.ReportDefinition, comparison: Comparison) -> dict[str, Any]:
    query = comparison.query
    return {
        "name": report.name, "title": str(report.title), "group_by": query.group_by,
        "filters": dict(query.filters),
        "columns": [{"key": c.key, "label": str(c.label), "kind": c.kind.value}
                    for c in comparison.current.columns],
        "current": _period(query, comparison.current),
        "previous_period": _period(query.previous_period(), comparison.previous),
        "same_period_last_year": _period(query.same_period_last_year(), comparison.last_year),
        "notes": [str(n) for n in comparison.current.notes],
    }


@router.get("/reports", response=list[ReportInfoOut], summary="The reports the caller may run",
            operation_id="hotline_api_reports_list")
@allow(*ANY_ACCOUNT)
def list_reports(request: HttpRequest) -> list[dict[str, Any]]:
    return [{"name": r.name, "title": str(r.title), "description": str(r.description),
             "section": r.section, "filters": list(r.filters), "group_by": list(r.group_by),
             "columns": []}
            for r in reports.reports_for(actor(request))]


@router.get("/reports/{name}", response=ReportOut, summary="Run a report (JSON or xlsx)",
            operation_id="hotline_api_reports_run",
            openapi_extra={"parameters": [
                {"name": "from", "in": "query", "required": True,
                 "schema": {"type": "string", "format": "date"}},
                {"name": "to", "in": "query", "required": True,
                 "schema": {"type": "string", "format": "date"}},
                {"name": "group_by", "in": "query", "schema": {"type": "string"}},
                {"name": "format", "in": "query", "schema": {"type": "string",
                                                              "enum": ["json", "xlsx"]}}]})
@allow(*ANY_ACCOUNT)
def run_report(request: HttpRequest, name: str) -> Any:
    user = actor(request)
    report = reports.get_report(user, name)
    params = {k: str(v) for k, v in request.GET.items()}
    if params.get("format", "json") not in ("json", "xlsx"):
        raise InvalidInput(gettext_noop("format is json or xlsx."), field="format")
    query = reports.query_from_params(report, params)
    comparison = reports.compare(user, report, query)
    if params.get("format", "json") == "xlsx":
        do_log_access(user, AccessKind.EXPORT, request=request,
                      detail=f"report {report.name} {query.date_from}..{query.date_to} "
                             f"{dict(query.filters)}")
        response = HttpResponse(report_workbook(report, comparison), content_type=XLSX)
        response["Content-Disposition"] = (
            f'attachment; filename="{report.name}-{query.date_from}-{query.date_to}.xlsx"')
        return response
    return report_json(report, comparison)
