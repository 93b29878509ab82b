"""The centre's citizen look-up: search by phone, email or name (a masked list), and one
citizen's whole history on every channel (in full, logged). The rules and the logging are in
``hotline.orders.citizen_search``; this only shows them."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from hotline.core.errors import NotFound, ServiceError
from hotline.orders.citizen_merge import may_merge_citizens
from hotline.orders.citizen_search import (
    SEARCH_ROLES,
    citizen_record,
    may_search_citizens,
    search_citizens,
)
from hotline.portal.citizen_views import citizen_row
from hotline.web.access import StaffRequest, role_required


@role_required(may_search_citizens, roles=SEARCH_ROLES)
def citizen_search_page(request: StaffRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    rows, error, status = None, "", 200
    if query:
        try:
            rows = [citizen_row(c) for c in search_citizens(request.user, query, request)]
        except ServiceError as problem:
            error, status = _(problem.message), problem.status
    return render(request, "portal/citizens/search.html",
                  {"query": query, "rows": rows, "error": error}, status=status)


@role_required(may_search_citizens, roles=SEARCH_ROLES)
def citizen_detail_page(request: StaffRequest, citizen_id: int) -> HttpResponse:
    try:
        history = citizen_record(request.user, citizen_id, request)
    except NotFound:
        raise Http404(_("No such citizen.")) from None
    return render(request, "portal/citizens/detail.html", {
        "history": history, "citizen": history.citizen,
        "may_merge": may_merge_citizens(request.user)})
