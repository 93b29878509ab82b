"""The personal-data access log over HTTP, for the audit administrator only (三员分立).

GET /api/v1/audit/access-log searches like the audit page; the search is itself logged.
(No ``from __future__ import annotations``: django-ninja reads the parameter types at runtime.)
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from hotline.api.auth import actor
from hotline.api.rules import allow
from hotline.api.schemas import MAX_DATE, MIN_DATE, ErrorOut, InputSchema, IsoDate, Text40
from hotline.core.roles import Role
from hotline.orders import access_log
from hotline.orders.access_log import AccessFilters
from hotline.orders.models import AccessKind

router = Router(tags=["audit"])


class AccessLogQuery(InputSchema):
    user: Text40 | None = Field(None, description="user name contains")
    role: Role | None = None
    kind: AccessKind | None = None
    order_number: str | None = Field(None, max_length=8, description="acceptance number")
    citizen_phone: Text40 | None = Field(
        None, description="the citizen's phone, looked up in the citizen registry")
    address: str | None = Field(None, max_length=45, description="IP address starts with")
    date_from: IsoDate | None = Field(None, ge=MIN_DATE, le=MAX_DATE,
                                      description="first day (local time), inclusive")
    date_to: IsoDate | None = Field(None, ge=MIN_DATE, le=MAX_DATE,
                                    description="last day (local time), inclusive")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)


class AccessEntryOut(Schema):
    id: int
    at: dt.datetime
    user: str
    role: str
    kind: str
    order: str
    citizen: int | None
    detail: str
    path: str
    address: str


class AccessLogPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[AccessEntryOut]


@router.get("/audit/access-log", response={200: AccessLogPageOut, 401: ErrorOut, 403: ErrorOut,
                                           422: ErrorOut},
            url_name="access_log", summary="Search the personal-data access log (audit admin)",
            description="Newest first. Only the audit administrator may call it; superusers and "
            "every other role get 403. The search itself is written to the log.")
@allow(Role.AUDIT_ADMIN, superusers=False)  # hotline.api.rules (三员分立)
def search_access_log(request: HttpRequest, query: Query[AccessLogQuery]) -> dict[str, Any]:
    user = actor(request)
    filters = AccessFilters(
        user=query.user or "", role=query.role or "", kind=query.kind or "",
        order_number=query.order_number or "", citizen_phone=query.citizen_phone or "",
        address=query.address or "", date_from=query.date_from, date_to=query.date_to,
    )
    entries = access_log.search_access_log(user, filters)  # refuses everyone else (403)
    # Read first, so the search does not find itself; logged before anything is answered.
    count = entries.count()
    items = [access_log.entry_row(e) for e in entries[query.offset: query.offset + query.limit]]
    access_log.do_log_access(user, AccessKind.AUDIT_LOG_VIEW, request=request,
                             detail=f"api: {filters.describe()}")
    return {"count": count, "limit": query.limit, "offset": query.offset, "items": items}
