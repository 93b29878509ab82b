"""The assessment ranking as a standard report (section "assessment"), so it is listed with the
other reports and exported to Excel like them. It reads the stored standings of the month that
contains the query's end date (``assessment.ranking``), in the viewer's scope."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hotline.insight import assessment
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
    Column("unit", _("Unit"), ColumnKind.DIMENSION),
    Column("ranking", _("Ranking"), ColumnKind.DIMENSION),
    Column("rank", _("Rank"), ColumnKind.DIMENSION),
    Column("score", _("Score"), ColumnKind.DIMENSION),
    Column("rank_change", _("Since last month"), ColumnKind.DIMENSION),
    Column("response_rate", _("Response rate"), ColumnKind.RATE),
    Column("resolution_rate", _("Resolution rate"), ColumnKind.RATE),
    Column("satisfaction_rate", _("Satisfaction rate"), ColumnKind.RATE),
    Column("counted", _("Orders counted"), ColumnKind.COUNT),
    Column("excluded", _("Orders excluded"), ColumnKind.COUNT),
)


def compute(viewer: Any, query: ReportQuery) -> ReportResult:
    month = query.date_to.strftime("%Y-%m")
    group = assessment.check_group(query.filters.get("group", ""))
    result = assessment.ranking(viewer, month, group)
    rows = [{
        "unit": s.unit.name, "ranking": s.group, "rank": s.rank, "score": s.score,
        "rank_change": s.rank_change, "response_rate": s.response_rate,
        "resolution_rate": s.resolution_rate, "satisfaction_rate": s.satisfaction_rate,
        "counted": s.counted, "excluded": s.excluded,
    } for s in result.rows]
    return ReportResult(columns=COLUMNS, rows=rows)


ASSESSMENT_RANKING = register(ReportDefinition(
    name="assessment-ranking",
    title=_("Assessment ranking"),
    description=_("Each unit's response, resolution and satisfaction rates, weighted score and "
                  "rank for the month of the end date, with the change from the month before."),
    compute=compute,
    roles=assessment.VIEWER_ROLES,
    filters=("group",),
    chart=ChartKind.BAR,
    chart_columns=("response_rate", "resolution_rate", "satisfaction_rate"),
    section="assessment",
))
