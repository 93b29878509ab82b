"""The orders behind a number of an order report: the same facts the rollup sums
(``OrderFact``), limited by the same scope, filters and day range, and then to the orders the
viewer may open (``orders.scope.visible_orders``), so a drill-down never lists an order its
viewer could not see."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_noop

from hotline.core.errors import InvalidInput
from hotline.insight.models import OrderFact
from hotline.insight.order_measures import MEASURE_KEYS
from hotline.insight.order_reports import FILTERS, filter_condition, rollup_scope
from hotline.insight.reports import MAX_RANGE_DAYS, parse_day
from hotline.orders.models import Order
from hotline.orders.scope import visible_orders

# One rollup row's own dimensions, as ids and values (exact: no "everything below").
EXACT = ("unit_id", "district_id", "category_id", "type", "channel")


def drill_orders(viewer: Any, params: Mapping[str, str]) -> QuerySet[Order]:
    date_from = parse_day(params.get("from", ""), "from")
    date_to = parse_day(params.get("to", ""), "to")
    if date_to < date_from or (date_to - date_from).days > MAX_RANGE_DAYS:
        raise InvalidInput(gettext_noop("The date range is not valid."), field="to")
    measure = params.get("measure") or "received"
    if measure not in MEASURE_KEYS:
        raise InvalidInput(gettext_noop("Unknown measure."), field="measure")
    facts = OrderFact.objects.filter(day__gte=date_from, day__lte=date_to,
                                     **{f"{measure}__gt": 0})
    scope = rollup_scope(viewer)
    if scope is not None:
        facts = facts.filter(scope)
    facts = facts.filter(filter_condition({k: params[k] for k in FILTERS if params.get(k)}))
    for name in EXACT:
        value = params.get(name)
        if value is None or value == "":
            continue
        if name.endswith("_id"):
            if not value.isdigit():
                raise InvalidInput(gettext_noop("Give a number."), field=name)
            facts = facts.filter(**{name: int(value)})
        else:
            facts = facts.filter(**{name: value})
    orders = Order.objects.filter(pk__in=facts.values("order_id"))
    return visible_orders(viewer, orders).select_related("district", "lead_unit", "category") \
        .order_by("-created_at", "-pk")
