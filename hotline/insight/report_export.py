"""A report as an .xlsx workbook: the same rows and totals as the page and the API, then the
totals beside the previous period (环比) and the same period last year (同比). Written through
``core.spreadsheets`` (text never becomes a formula); rates are numbers formatted as percent."""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _

from hotline.core import spreadsheets
from hotline.insight.reports import ColumnKind, Comparison, ReportDefinition, change

PERCENT = "0.0%"


def _cell_value(value: Any) -> Any:
    return "" if value is None else value


def _format_rates(sheet: Any, row: int, kinds: list[ColumnKind], start_col: int = 1) -> None:
    for i, kind in enumerate(kinds):
        if kind == ColumnKind.RATE:
            sheet.cell(row=row, column=start_col + i).number_format = PERCENT


def report_workbook(report: ReportDefinition, comparison: Comparison) -> bytes:
    result, query = comparison.current, comparison.query
    columns = list(result.columns)
    kinds = [c.kind for c in columns]
    book, sheet = spreadsheets.new_workbook(_("Report")[:31], [str(c.label) for c in columns])
    for row in result.rows:
        spreadsheets.write_row(sheet, [_cell_value(row.get(c.key)) for c in columns])
        _format_rates(sheet, sheet.max_row, kinds)
    if result.totals:
        spreadsheets.write_row(sheet, [_cell_value(result.totals.get(c.key)) for c in columns])
        _format_rates(sheet, sheet.max_row, kinds)
    spreadsheets.write_row(sheet, [])
    spreadsheets.write_row(sheet, [str(report.title), f"{query.date_from} – {query.date_to}",
                                   *(f"{k}={v}" for k, v in sorted(query.filters.items()))])
    prev_q, year_q = query.previous_period(), query.same_period_last_year()
    spreadsheets.write_row(sheet, [
        _("Measure"), _("This period"), f"{_('Previous period')} {prev_q.date_from} – "
        f"{prev_q.date_to}", _("Change from the previous period"),
        f"{_('Same period last year')} {year_q.date_from} – {year_q.date_to}",
        _("Change from last year")])
    for column in columns:
        if column.kind == ColumnKind.DIMENSION:
            continue
        now = result.totals.get(column.key)
        before = comparison.previous.totals.get(column.key)
        year = comparison.last_year.totals.get(column.key)
        spreadsheets.write_row(sheet, [str(column.label), _cell_value(now), _cell_value(before),
                                       _cell_value(change(now, before, column.kind)),
                                       _cell_value(year),
                                       _cell_value(change(now, year, column.kind))])
        r = sheet.max_row
        if column.kind == ColumnKind.RATE:
            for c in (2, 3, 5):
                sheet.cell(row=r, column=c).number_format = PERCENT
        for c in (4, 6):
            sheet.cell(row=r, column=c).number_format = PERCENT
    for note in result.notes:
        spreadsheets.write_row(sheet, [str(note)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
