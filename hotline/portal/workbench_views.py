"""The department workbench: what the unit must sign for, what it is handling, what is about to
run late and what already has."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from hotline.portal import queries
from hotline.portal.order_access import DEPARTMENT_ROLES, actions_for, is_department_user
from hotline.web.access import StaffRequest, role_required

PAGE_SIZE = 25


@role_required(is_department_user, roles=DEPARTMENT_ROLES)
def workbench(request: StaffRequest) -> HttpResponse:
    now = timezone.now()
    tabs = queries.workbench_tabs(request.user, now)
    current = next((t for t in tabs if t.key == request.GET.get("tab")), tabs[0])
    page = Paginator(current.orders, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "tabs": [(t, t.orders.count()) for t in tabs],
        "current": current,
        "page": page,
        "now": now,
        "rows": [
            {"order": order, "actions": [a.value for a in actions_for(request.user, order)]}
            for order in page
        ],
        "next": request.get_full_path(),
    }
    if request.htmx and request.htmx.target == "workbench-tab":
        return render(request, "portal/_workbench_tab.html", context)
    return render(request, "portal/workbench.html", context)
