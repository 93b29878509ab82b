"""Read-only queries behind the pages: the filtered order list and the order page (the
workbench's are in ``workbench_queries``).

Every query starts from ``scope.visible_orders(user)``, so a page can never list an order its
user may not see, whatever the filters say.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from hotline.directory.models import Category, Unit, User
from hotline.directory.routing import route_for
from hotline.orders.lifecycle import State
from hotline.orders.models import Order, OrderEvent
from hotline.orders.scope import visible_orders
from hotline.portal.order_listing import SearchIn, search_q


def overdue_q(now: dt.datetime) -> Q:
    """Marked overdue by the worker, or a running deadline already passed (the worker's sweep
    may not have run yet). A suspended order's clock stands still, so only the mark counts."""
    return (
        Q(overdue_at__isnull=False)
        | Q(state=State.DISPATCHED, sign_due__lt=now)
        | Q(state=State.HANDLING, handle_due__lt=now)
    )


def is_late(order: Order, now: dt.datetime) -> bool:
    if order.overdue_at is not None:
        return True
    if order.state == State.DISPATCHED and order.sign_due is not None:
        return order.sign_due < now
    if order.state == State.HANDLING and order.handle_due is not None:
        return order.handle_due < now
    return False


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def _category_and_below(code: str) -> Q:
    category = Category.objects.filter(code=code).first()
    if category is None:
        return Q(pk__in=[])
    return (
        Q(category=category) | Q(category__parent=category)
        | Q(category__parent__parent=category)
    )


def filtered_orders(user: User, filters: dict[str, Any], now: dt.datetime) -> QuerySet[Order]:
    """The user's visible orders narrowed by the cleaned data of ``OrderFilterForm``; raises
    ``InvalidInput`` for a search the user may not make (``order_listing.search_q``)."""
    qs = visible_orders(user).select_related("district", "lead_unit", "category")
    text = (filters.get("q") or "").strip()
    if text:
        qs = qs.filter(search_q(user, text, filters.get("search_in") or SearchIn.ALL))
    for name in ("state", "type", "channel"):
        if filters.get(name):
            qs = qs.filter(**{name: filters[name]})
    if filters.get("district"):
        qs = qs.filter(district__code=filters["district"])
    if filters.get("lead_unit"):
        qs = qs.filter(lead_unit__code=filters["lead_unit"])
    if filters.get("category"):
        qs = qs.filter(_category_and_below(filters["category"]))
    if filters.get("overdue"):
        qs = qs.filter(overdue_q(now))
    if filters.get("created_from"):
        qs = qs.filter(created_at__gte=_local_midnight(filters["created_from"]))
    if filters.get("created_to"):
        end = _local_midnight(filters["created_to"]) + dt.timedelta(days=1)
        qs = qs.filter(created_at__lt=end)
    return qs.order_by("-created_at", "-pk")


# --- order page ------------------------------------------------------------------------------

def route_preview(order: Order) -> tuple[Unit, list[Unit]] | None:
    """Where dispatching by the catalogue would send the order (lead, co-handlers), so the agent
    sees it before pressing the button; None without a category or a route."""
    return route_for(order.category_id, order.district_id)


def event_targets(events: list[OrderEvent]) -> list[tuple[OrderEvent, str]]:
    """Each history event with the names of the units it sent the order to (dispatch, transfer,
    escalation), read from the event's recorded details."""
    codes: set[str] = set()
    for event in events:
        data = event.data or {}
        if isinstance(data.get("unit"), str):
            codes.add(data["unit"])
        for key in ("co_units", "linkage_units"):
            if isinstance(data.get(key), list):
                codes.update(c for c in data[key] if isinstance(c, str))
    names = dict(Unit.objects.filter(code__in=codes).values_list("code", "name"))
    result = []
    for event in events:
        data = event.data or {}
        parts = []
        if isinstance(data.get("unit"), str):
            parts.append(names.get(data["unit"], data["unit"]))
        for key in ("co_units", "linkage_units"):
            if isinstance(data.get(key), list):
                parts.extend(names.get(c, c) for c in data[key] if isinstance(c, str))
        result.append((event, "、".join(parts)))
    return result
