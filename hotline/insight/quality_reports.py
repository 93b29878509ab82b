"""The QA figures as a standard report (table, chart, Excel, API): per agent, and the team
(the agent's unit) in the totals. Inspections are few (a handful per agent a week), so the
report reads them directly instead of a rollup."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hotline.insight import quality
from hotline.insight.reports import (
    ChartKind,
    Column,
    ColumnKind,
    ReportDefinition,
    ReportQuery,
    ReportResult,
    register,
)

COLUMNS = (
    Column("agent", _("Agent"), ColumnKind.DIMENSION),
    Column("team", _("Team"), ColumnKind.DIMENSION),
    Column("inspected", _("Calls inspected")),
    Column("average", _("Average score"), ColumnKind.COUNT),
    Column("fatal", _("Fatal items failed")),
    Column("appeals", _("Appeals")),
    Column("appeals_accepted", _("Appeals accepted")),
)


def qa_by_agent(viewer: Any, query: ReportQuery) -> ReportResult:
    found = quality.figures(viewer, query.date_from, query.date_to)
    if query.filters.get("team"):
        found = [f for f in found if f.team == query.filters["team"]]
    rows = [{"agent": f.agent, "team": f.team, "inspected": f.inspected, "average": f.average,
             "fatal": f.fatal, "appeals": f.appeals, "appeals_accepted": f.appeals_accepted}
            for f in found]
    inspected = sum(f.inspected for f in found)
    weighted = sum((f.average or 0.0) * f.inspected for f in found)
    totals = {"agent": "", "team": "", "inspected": inspected,
              "average": round(weighted / inspected, 1) if inspected else None,
              "fatal": sum(f.fatal for f in found), "appeals": sum(f.appeals for f in found),
              "appeals_accepted": sum(f.appeals_accepted for f in found)}
    return ReportResult(COLUMNS, rows, totals)


QA_BY_AGENT = register(ReportDefinition(
    name="qa-by-agent", title=_("Quality inspection by agent"),
    description=_("Calls inspected, average score, fatal items and appeals per agent, over the "
                  "weeks starting in the range."),
    compute=qa_by_agent, roles=quality.QA_ROLES, filters=("team",), group_by=("agent",),
    chart=ChartKind.BAR, chart_columns=("average",), section="quality"))
