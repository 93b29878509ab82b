"""The weekly brief over HTTP: ``GET /api/v1/briefs/weekly?week=YYYY-Www`` returns its PDF
(made on the spot for a finished week that has none yet). Same roles as the archive page.
(No ``from __future__ import annotations``: django-ninja reads the parameter types at runtime.)
"""

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router

from hotline.api.auth import actor
from hotline.api.rules import allow
from hotline.api.schemas import ErrorOut, InputSchema
from hotline.insight import brief as briefs
from hotline.orders.access_log import do_log_access
from hotline.orders.models import AccessKind

router = Router(tags=["insight"])


class WeekQuery(InputSchema):
    week: str = Field(max_length=8, description="ISO week, e.g. 2026-W48")


@router.get("/briefs/weekly", response={200: None, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
            url_name="weekly_brief", summary="The weekly brief of a week, as PDF")
@allow(*briefs.BRIEF_ROLES)
def weekly_brief(request: HttpRequest, query: Query[WeekQuery]) -> HttpResponse:
    brief = briefs.brief_for(briefs.parse_week(query.week))
    do_log_access(actor(request), AccessKind.EXPORT, request=request,
                  detail=f"weekly brief {brief.label}")
    response = HttpResponse(bytes(brief.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="12345-brief-{brief.label}.pdf"'
    return response
