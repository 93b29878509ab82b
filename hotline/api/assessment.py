"""The assessment ranking over the REST API (mounted at /api/v1/).

``GET /assessment?month=2026-11&group=departments``: the stored monthly standings (the three
rates with their numerators and denominators, the weighted score, the rank and the change from
last month) in the caller's scope: the centre, leaders and auditors every unit, a sub-centre its
district and streets, a department itself. Same roles and scope as the page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from hotline.api.auth import actor
from hotline.api.rules import allow
from hotline.insight import assessment

router = Router(tags=["assessment"])


class AssessmentParams(Schema):
    month: str = Field("", max_length=7, description="YYYY-MM; default: the last complete month")
    group: str = Field("", max_length=16, description="departments, districts or streets")


class StandingOut(Schema):
    unit: str = Field(description="unit code")
    unit_name: str
    ranking: str = Field(description="departments, districts or streets")
    group: str = Field(description="the ranking the rank is within (streets: per district)")
    kind: str = Field(description="assessed as: district, bureau or utility (its weights)")
    rank: int | None = Field(description="null: too few orders to be ranked")
    ranked_in_group: int
    score: float | None = Field(description="0-100, weighted mean of the rates")
    rank_change: int | None = Field(description="places gained since last month")
    score_change: float | None
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    counted: int = Field(description="orders counted: the response rate's denominator")
    responded: int
    answered: int = Field(description="called back with a resolved answer: the resolution "
                                      "rate's denominator")
    resolved: int
    rated: int = Field(description="with a satisfaction answer")
    satisfaction_points: float
    excluded: int


class AssessmentOut(Schema):
    month: str
    rules_version: int | None
    rules_in_force_from: dt.date | None
    computed_at: dt.datetime | None
    scope: str = Field(description="city or unit: what the standings cover")
    standings: list[StandingOut]


@router.get("/assessment", response=AssessmentOut, summary="Monthly assessment ranking",
            operation_id="hotline_api_assessment_ranking")
@allow(*assessment.VIEWER_ROLES)
def ranking_endpoint(request: HttpRequest, params: Query[AssessmentParams]) -> dict[str, Any]:
    month = assessment.check_month(params.month)
    group = assessment.check_group(params.group)
    result = assessment.ranking(actor(request), month, group)
    return {
        "month": result.month,
        "rules_version": result.rules.pk if result.rules else None,
        "rules_in_force_from": result.rules.effective_from if result.rules else None,
        "computed_at": result.computed_at, "scope": result.scope,
        "standings": [{
            "unit": s.unit.code, "unit_name": s.unit.name, "ranking": s.ranking,
            "group": s.group, "kind": s.kind, "rank": s.rank,
            "ranked_in_group": s.ranked_in_group, "score": s.score,
            "rank_change": s.rank_change, "score_change": s.score_change,
            "response_rate": s.response_rate, "resolution_rate": s.resolution_rate,
            "satisfaction_rate": s.satisfaction_rate, "counted": s.counted,
            "responded": s.responded, "answered": s.answered, "resolved": s.resolved,
            "rated": s.rated, "satisfaction_points": s.points, "excluded": s.excluded,
        } for s in result.rows],
    }
