"""Hot issues over the REST API (mounted at /api/v1/insight/).

``GET /insight/hot-issues?days=7&district=gulou&category=10``: the clusters of similar orders
in the caller's scope for the window (or ``date_from``..``date_to``), with their trend and
spike test, and the category × district spikes. Same roles and scope as the page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from hotline.api.auth import actor
from hotline.api.rules import allow
from hotline.insight.services import VIEWER_ROLES, HotIssue, Report, window_for
from hotline.insight.snapshots import report_for
from hotline.insight.spikes import Spike

router = Router(tags=["insight"])

# The operation ids are the ones these operations had when the router lived in the insight package
# (django-ninja derives them from the module): clients generated from the OpenAPI document call
# operations by id, so moving the code does not rename them.


class HotIssueParams(Schema):
    days: int | None = Field(None, description="1, 7 or 30 (default 7); or give a date range")
    date_from: dt.date | None = None
    date_to: dt.date | None = Field(None, description="inclusive; at most 92 days after date_from")
    district: str = Field("", max_length=32, description="district code")
    category: str = Field("", max_length=32, description="category code (covers its children)")
    limit: int = Field(20, ge=1, le=100)


class SpikeOut(Schema):
    current: int = Field(description="orders in the window")
    expected: float = Field(description="the usual count for a window this long (28-day baseline)")
    ratio: float
    z: float
    p_value: float = Field(description="Poisson P(X >= current) at the usual level")


class CountOut(Schema):
    name: str
    count: int


class SampleOut(Schema):
    number: str
    title: str
    created_at: dt.datetime
    district: str


class HotIssueOut(Schema):
    label: str = Field(description="top terms of the cluster")
    title: str = Field(description="title of the most central order")
    count: int
    districts: list[CountOut]
    places: list[CountOut]
    categories: list[CountOut]
    trend: list[int] = Field(description="orders per day of the window, oldest first")
    baseline_per_day: float
    spike: SpikeOut | None
    samples: list[SampleOut]


class AreaSpikeOut(Schema):
    category: str
    district: str
    trend: list[int]
    spike: SpikeOut


class HotIssuesOut(Schema):
    start: dt.datetime
    end: dt.datetime
    days: int
    scope: str = Field(description="city, district or unit: what the figures cover")
    orders: int = Field(description="orders in the window")
    baseline_orders: int
    issues: list[HotIssueOut]
    spikes: list[AreaSpikeOut] = Field(description="category x district spikes")
    elapsed_ms: float


def _spike(spike: Spike | None) -> dict[str, Any] | None:
    return spike.as_dict() if spike else None


def _counts(pairs: list[tuple[str, int]]) -> list[dict[str, Any]]:
    return [{"name": name, "count": count} for name, count in pairs]


def _issue(issue: HotIssue) -> dict[str, Any]:
    return {
        "label": issue.label, "title": issue.title, "count": issue.count,
        "districts": _counts(issue.districts), "places": _counts(issue.places),
        "categories": _counts(issue.categories), "trend": issue.trend,
        "baseline_per_day": issue.baseline_per_day, "spike": _spike(issue.spike),
        "samples": [vars(s) for s in issue.samples],
    }


def _report(report: Report) -> dict[str, Any]:
    return {
        "start": report.window.start, "end": report.window.end, "days": report.window.days,
        "scope": report.scope, "orders": report.orders,
        "baseline_orders": report.baseline_orders,
        "issues": [_issue(i) for i in report.issues],
        "spikes": [{"category": a.category, "district": a.district, "trend": a.trend,
                    "spike": _spike(a.spike)} for a in report.area_spikes],
        "elapsed_ms": report.timings_ms.get("total_ms", 0.0),
    }


@router.get("/hot-issues", response=HotIssuesOut, summary="Hot issues and spikes",
            operation_id="hotline_insight_api_hot_issues_endpoint")
@allow(*VIEWER_ROLES)
def hot_issues_endpoint(request: HttpRequest, params: Query[HotIssueParams]) -> dict[str, Any]:
    if params.date_from is not None or params.date_to is not None:
        window = window_for(date_from=params.date_from, date_to=params.date_to)
    else:
        window = window_for(days=params.days)
    return _report(report_for(actor(request), window, district=params.district,
                              category=params.category, limit=params.limit))
