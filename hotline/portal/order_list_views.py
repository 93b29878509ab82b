"""The centre's order list: search, sortable columns, keyset pages, saved filters and the Excel
export (inline or in the worker). Every page starts from ``scope.visible_orders`` through
``queries.filtered_orders``; what a row shows of the citizen follows ``orders.scope``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.core.errors import NotFound, ServiceError
from hotline.core.export_log import log_export
from hotline.portal import order_export, saved_filters
from hotline.portal.forms import OrderFilterForm
from hotline.portal.order_access import may_create_orders
from hotline.portal.order_listing import DEFAULT_SORT, SORTS, count_orders, keyset_page
from hotline.portal.queries import filtered_orders
from hotline.web.access import StaffRequest, staff_required
from hotline.web.forms import add_service_error

PAGE_SIZE = 25


def _sort_links(query: QueryDict, current: str) -> dict[str, dict[str, str]]:
    """Each sortable column's link (the other direction when it is the current sort) and the
    arrow showing the current one."""
    links = {}
    for key in SORTS:
        target = key if current == f"-{key}" else f"-{key}"
        params = query.copy()
        params["sort"] = target
        arrow = "▼" if current == f"-{key}" else "▲" if current == key else ""
        links[key] = {"url": "?" + params.urlencode(), "arrow": arrow}
    return links


@staff_required
def order_list(request: StaffRequest) -> HttpResponse:
    return _list_page(request)


def _list_page(request: StaffRequest, status: int = 200) -> HttpResponse:
    now = timezone.now()
    form = OrderFilterForm(request.GET or None)
    filters: dict[str, Any] = form.cleaned_data if form.is_bound and form.is_valid() else {}
    sort = filters.get("sort") or DEFAULT_SORT
    page, count = None, None
    try:
        orders = filtered_orders(request.user, filters, now)
        page = keyset_page(orders, sort, PAGE_SIZE, after=request.GET.get("after", "")[:500],
                           before=request.GET.get("before", "")[:500])
        count = count_orders(orders)
    except ServiceError as error:
        add_service_error(form, error)
        status = error.status
    query = QueryDict(order_export.clean_query(request.GET))
    context = {
        "form": form, "page": page, "count": count, "now": now, "query": query.urlencode(),
        "sort": sort, "sort_links": _sort_links(query, sort),
        "saved_filters": saved_filters.saved_filters(request.user),
        "may_create": may_create_orders(request.user),
        "inline_limit": order_export.inline_limit(),
    }
    if request.htmx and request.htmx.target == "order-results":
        return render(request, "portal/_order_table.html", context, status=status)
    return render(request, "portal/order_list.html", context, status=status)


def _back_to_list(query: str) -> HttpResponse:
    return redirect(reverse("portal:order_list") + (f"?{query}" if query else ""))


@staff_required
def save_filter(request: StaffRequest) -> HttpResponse:
    """POST to the list's own query string (the filters to keep) with the filter's name."""
    if request.method != "POST":
        return redirect("portal:order_list")
    query = order_export.clean_query(request.GET)
    try:
        saved = saved_filters.do_save_filter(request.user, request.POST.get("name", ""), query)
    except ServiceError as error:
        messages.error(request, error.message)
        return _list_page(request, status=error.status)
    messages.success(request, _("Filter “%(name)s” saved.") % {"name": saved.name})
    return _back_to_list(query)


@staff_required
def delete_filter(request: StaffRequest, filter_id: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("portal:order_list")
    try:
        saved_filters.do_delete_filter(request.user, filter_id)
    except NotFound:
        raise Http404(_("No such saved filter.")) from None
    messages.success(request, _("Saved filter deleted."))
    return redirect("portal:order_list")


@staff_required
def export_orders(request: StaffRequest) -> HttpResponse:
    """POST with the list's query string: the workbook at once when small, else a queued
    export and its progress page."""
    if request.method != "POST":
        return redirect("portal:order_list")
    now = timezone.now()
    query = order_export.clean_query(request.GET)
    try:
        orders, sort = order_export.orders_for(request.user, query, now)
    except ServiceError as error:
        messages.error(request, error.message)
        return render(request, "portal/order_export.html", {"export": None, "query": query},
                      status=error.status)
    limit = order_export.inline_limit()
    counted = orders.order_by().values("pk")[:limit + 1].count()
    if counted > limit:
        total = count_orders(orders).value
        export = order_export.do_queue_export(request.user, query, total)
        return redirect("portal:order_export_status", export_id=export.pk)
    content, rows = order_export.build_workbook(request.user, orders, sort, limit)
    # Logged before it is sent: an export that cannot be logged does not leave.
    log_export(request.user, request, f"work orders: {rows} rows; {query}")
    response = HttpResponse(content, content_type=order_export.XLSX)
    response["Content-Disposition"] = f'attachment; filename="{order_export.file_name(now)}"'
    return response


@staff_required
def export_status(request: StaffRequest, export_id: int) -> HttpResponse:
    try:
        export = order_export.get_export_for(request.user, export_id)
    except NotFound:
        raise Http404(_("No such export.")) from None
    context = {"export": export, "query": export.query}
    if request.htmx:
        return render(request, "portal/_order_export_progress.html", context)
    return render(request, "portal/order_export.html", context)


@staff_required
def export_download(request: StaffRequest, export_id: int) -> HttpResponse:
    try:
        export = order_export.get_export_for(request.user, export_id)
    except NotFound:
        raise Http404(_("No such export.")) from None
    if export.state != export.State.DONE:
        return render(request, "portal/order_export.html",
                      {"export": export, "query": export.query}, status=409)
    log_export(request.user, request, f"work orders (export #{export.pk}): {export.done} rows; "
                                      f"{export.query}")
    response = HttpResponse(bytes(export.content), content_type=order_export.XLSX)
    name = order_export.file_name(export.finished_at or export.created_at)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
