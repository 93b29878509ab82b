"""The order page and the order API present history, merged and linked orders per viewer
(hotline/orders/disclosure.py) and write the access log: the number of queries must not grow
with the number of related orders and events, or a long-running order becomes a slow page."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hotline.orders.models import Order
from hotline.orders.services import NewOrder, do_action, do_create_order


def _order(city: Any, phone: str, **overrides: Any) -> Order:
    fields: dict[str, Any] = dict(
        type="complaint", channel="phone", title="停水三天", text="鼓楼区某小区停水三天",
        citizen_phone=phone, citizen_name="张三", district="gulou", category="100101",
    )
    fields.update(overrides)
    order, _ = do_create_order(city.agent, NewOrder(**fields))
    return order


def _order_with_relations(city: Any, related: int) -> Order:
    """A dispatched order with ``related`` merged-in orders (one a 举报) and as many links."""
    main = _order(city, "13800000000")
    do_action(city.agent, main.number, "dispatch", {"unit": "water"})
    for i in range(related):
        kind = "report" if i == 0 else "complaint"
        merged = _order(city, f"1390000{i:04d}", type=kind)
        do_action(city.agent, merged.number, "merge", {"into": main.number, "note": "同一事项"})
        linked = _order(city, f"1370000{i:04d}")
        do_action(city.agent, linked.number, "link", {"other": main.number, "kind": "related"})
    return main


def _count(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize("viewer", ["agent", "handler"])
@pytest.mark.parametrize("page", ["portal:order_detail", "api:get_order"])
def test_queries_do_not_grow_with_related_orders(client: Any, city: Any, viewer: str,
                                                  page: str) -> None:
    small = _order_with_relations(city, 1)
    large = _order_with_relations(city, 6)
    client.force_login(getattr(city, viewer))
    _count(client, reverse(page, args=[small.number]))  # warm caches (content types, session)
    few = _count(client, reverse(page, args=[small.number]))
    many = _count(client, reverse(page, args=[large.number]))
    assert many <= few, f"{page} as {viewer}: {few} queries for 1 related order, {many} for 6"


@pytest.mark.django_db
def test_each_merged_citizen_shown_is_logged(client: Any, city: Any) -> None:
    from hotline.orders.models import AccessLog

    order = _order_with_relations(city, 3)
    client.force_login(city.agent)
    assert client.get(reverse("portal:order_detail", args=[order.number])).status_code == 200
    logged = AccessLog.objects.filter(detail=f"merged into {order.number}")
    # A centre agent sees every merged order's citizen, the 举报's reporter included.
    shown = {o.number for o in order.merged_orders.all()}
    assert {e.order_number for e in logged} == shown and len(shown) == 3
    assert all(e.username == city.agent.username and e.citizen_id for e in logged)
