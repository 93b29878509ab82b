"""The report pages: the list of the reports a viewer may run (/insight/reports/), one generic
page for every registered report (date range, filters, grouping, the table with 环比/同比, a
server-side SVG chart, the Excel export, drill-down links) and the drill-down lists (the orders
behind an order report's number, the calls behind a calls report's number).

Generic: the page knows reports only through ``hotline.insight.reports`` (columns, kinds,
filters, drill URLs), so the call reports of the contact centre show here as they register.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline.core.errors import NotFound, ServiceError
from hotline.core.phones import mask_phone
from hotline.insight import reports
from hotline.insight.call_drill import drill_calls
from hotline.insight.call_stats import CALL_STATS_ROLES, may_view_call_stats
from hotline.insight.chart import bar_chart, line_chart
from hotline.insight.custom_reports import may_build
from hotline.insight.order_drill import drill_orders
from hotline.insight.report_export import report_workbook
from hotline.insight.reports import ChartKind, Column, ColumnKind, Comparison
from hotline.orders.access_log import AccessKind, do_log_access
from hotline.web.access import STAFF_ROLES, role_required

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DRILL_PAGE_SIZE = 50
FILTER_LABELS = {"type": gettext_lazy("Type"), "channel": gettext_lazy("Channel"),
                 "district": gettext_lazy("District code"),
                 "category": gettext_lazy("Category code"), "unit": gettext_lazy("Unit code")}


def _everyone(user: Any) -> bool:
    return True


def show(value: Any, kind: ColumnKind) -> str:
    if value is None or value == "":
        return "—"
    if kind == ColumnKind.RATE:
        return f"{float(value) * 100:.1f}%"
    if kind == ColumnKind.SECONDS:
        return f"{float(value):.0f}s"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def show_change(value: float | None, kind: ColumnKind) -> str:
    if value is None:
        return "—"
    if kind == ColumnKind.RATE:
        return _("%(sign)s%(pp).1f pp") % {"sign": "+" if value >= 0 else "", "pp": value * 100}
    return f"{'+' if value >= 0 else ''}{value * 100:.1f}%"


def _cell(row: Any, column: Column, url: str) -> dict[str, Any]:
    value = row.get(column.key)
    link = url and column.kind == ColumnKind.COUNT and isinstance(value, int) and value > 0
    return {"text": show(value, column.kind), "url": f"{url}&measure={column.key}" if link else "",
            "kind": column.kind.value}


def _primary(result: reports.ReportResult, report: reports.ReportDefinition) -> Column | None:
    measures = reports.measure_columns(result)
    by_key = {c.key: c for c in measures}
    for key in report.chart_columns:
        if key in by_key:
            return by_key[key]
    return measures[0] if measures else None


def table(report: reports.ReportDefinition, comparison: Comparison) -> dict[str, Any]:
    result = comparison.current
    primary = _primary(result, report)
    previous = comparison.earlier_rows(comparison.previous)
    last_year = comparison.earlier_rows(comparison.last_year)
    rows = []
    for i, row in enumerate(result.rows):
        url = result.drill.get(i, "")
        cells = [_cell(row, c, url) for c in result.columns]
        key = str(row.get("_key") or "")
        extra = []
        if primary is not None:
            for earlier in (previous, last_year):
                before = earlier.get(key, {}).get(primary.key) if key else None
                extra.append(show_change(reports.change(row.get(primary.key), before,
                                                        primary.kind), primary.kind))
        rows.append({"cells": cells, "changes": extra})
    totals = None
    if result.totals:
        url = result.drill.get(-1, "")
        totals = {"cells": [_cell(result.totals, c, url) for c in result.columns]}
    comparisons = []
    for c in reports.measure_columns(result):
        now = result.totals.get(c.key)
        before = comparison.previous.totals.get(c.key)
        year = comparison.last_year.totals.get(c.key)
        comparisons.append({
            "label": c.label, "now": show(now, c.kind), "previous": show(before, c.kind),
            "previous_change": show_change(reports.change(now, before, c.kind), c.kind),
            "last_year": show(year, c.kind),
            "last_year_change": show_change(reports.change(now, year, c.kind), c.kind)})
    return {"columns": result.columns, "rows": rows, "totals": totals, "primary": primary,
            "comparisons": comparisons}


def chart(report: reports.ReportDefinition, result: reports.ReportResult) -> str:
    kind = result.chart or report.chart
    by_key = {c.key: c for c in reports.measure_columns(result)}
    keys = [k for k in report.chart_columns if k in by_key] or list(by_key)[:1]
    if kind == ChartKind.NONE or not keys or not result.rows:
        return ""
    label_key = next((c.key for c in result.columns if c.kind == ColumnKind.DIMENSION), "")
    labels = [str(r.get(label_key, "")) for r in result.rows]
    percent = all(by_key[k].kind == ColumnKind.RATE for k in keys)
    if not percent:  # one axis: counts with counts only
        keys = [k for k in keys if by_key[k].kind != ColumnKind.RATE] or keys[:1]
    series = [(str(by_key[k].label), [r.get(k) for r in result.rows]) for k in keys]
    if kind == ChartKind.LINE and not percent:
        return line_chart([(n, [int(v or 0) for v in vs]) for n, vs in series], labels,
                          title=str(report.title))
    return bar_chart(series[:4], labels[:40], title=str(report.title), percent=percent)


@role_required(_everyone, roles=STAFF_ROLES)
def report_list(request: HttpRequest) -> HttpResponse:
    sections: dict[str, list[reports.ReportDefinition]] = {}
    for report in reports.reports_for(request.user):
        sections.setdefault(report.section, []).append(report)
    order = list(reports.SECTION_TITLES)
    listed = sorted(sections.items(), key=lambda item: (
        order.index(item[0]) if item[0] in order else len(order), item[0]))
    return render(request, "insight/report_list.html", {
        "sections": [(name, reports.SECTION_TITLES.get(name, name), items)
                     for name, items in listed],
        "may_build": may_build(request.user)})


def _query_params(request: HttpRequest) -> dict[str, str]:
    return {k: str(v) for k, v in request.GET.items()}


@role_required(_everyone, roles=STAFF_ROLES)
def report_page(request: HttpRequest, name: str) -> HttpResponse:
    try:
        report = reports.get_report(request.user, name)
    except NotFound:
        raise Http404(name) from None
    except ServiceError as exc:
        return render(request, "insight/report.html", {"error": _(exc.message)}, status=exc.status)
    return show_report(request, report, lambda params: reports.query_from_params(
        report, params, default_to=timezone.localdate()))


def show_report(request: HttpRequest, report: reports.ReportDefinition,
                make_query: Callable[[dict[str, str]], reports.ReportQuery],
                extra: dict[str, Any] | None = None) -> HttpResponse:
    """The report page (or its workbook with ``format=xlsx``) for ``report``."""
    params = _query_params(request)
    context: dict[str, Any] = {
        "report": report,
        "filters": [(f, FILTER_LABELS.get(f, f), params.get(f, "")) for f in report.filters],
        "group_options": report.group_by, "params": params, **(extra or {}),
    }
    try:
        query = make_query(params)
        comparison = reports.compare(request.user, report, query)
    except ServiceError as exc:
        context["error"] = _(exc.message)
        return render(request, "insight/report.html", context, status=400)
    if params.get("format") == "xlsx":
        do_log_access(request.user, AccessKind.EXPORT, request=request,  # type: ignore[arg-type]
                      detail=f"report {report.name} {query.date_from}..{query.date_to} "
                             f"{dict(query.filters)}")
        response = HttpResponse(report_workbook(report, comparison), content_type=XLSX)
        response["Content-Disposition"] = (
            f'attachment; filename="{report.name}-{query.date_from}-{query.date_to}.xlsx"')
        return response
    export = request.GET.copy()
    export["format"] = "xlsx"
    context.update({
        "query": query, "table": table(report, comparison),
        "chart": mark_safe(chart(report, comparison.current)),  # noqa: S308 - escaped by chart
        "notes": comparison.current.notes, "export_query": export.urlencode(),
        "previous": query.previous_period(), "last_year": query.same_period_last_year(),
    })
    return render(request, "insight/report.html", context)


def _may_drill(user: Any) -> bool:
    return any(r.section == "orders" for r in reports.reports_for(user))


@role_required(_everyone, roles=STAFF_ROLES)
def order_drill(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"page": None}
    try:
        orders = drill_orders(request.user, _query_params(request))
        if not _may_drill(request.user):  # no order report for this role: nothing behind it
            orders = orders.none()
    except ServiceError as exc:
        context["error"] = _(exc.message)
        return render(request, "insight/order_drill.html", context, status=400)
    context["page"] = Paginator(orders, DRILL_PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context["base_query"] = params.urlencode()
    context["measure"] = request.GET.get("measure") or "received"
    context["range"] = (request.GET.get("from"), request.GET.get("to"))
    return render(request, "insight/order_drill.html", context)


@role_required(may_view_call_stats, roles=CALL_STATS_ROLES)
def call_drill(request: HttpRequest) -> HttpResponse:
    """The calls behind a number of the calls report, in the viewer's scope (``call_drill``)."""
    context: dict[str, Any] = {"page": None}
    try:
        calls = drill_calls(request.user, _query_params(request))
    except ServiceError as exc:
        context["error"] = _(exc.message)
        return render(request, "insight/call_drill.html", context, status=exc.status)
    page = Paginator(calls, DRILL_PAGE_SIZE).get_page(request.GET.get("page"))
    context["page"] = page
    context["rows"] = [{"call": c, "caller": mask_phone(c.caller)} for c in page]
    params = request.GET.copy()
    params.pop("page", None)
    context["base_query"] = params.urlencode()
    context["range"] = (request.GET.get("from"), request.GET.get("to"))
    return render(request, "insight/call_drill.html", context)
