"""The big screen's "orders closed today" is answered from the ``closed_at`` index (orders
migration 0014), not by reading every order: the index exists on both databases and the query
plan uses it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from hotline.insight.screen import order_counts
from hotline.orders.models import Order
from tests.orders.helpers import new_order

pytestmark = pytest.mark.django_db


def test_the_closed_at_index_exists() -> None:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, Order._meta.db_table)
    assert found["order_closed_at"]["columns"] == ["closed_at"]
    assert found["order_closed_at"]["index"]


def test_closed_today_reads_the_index(city: Any) -> None:
    now = timezone.now()
    order = new_order(city.agent, title="路灯不亮")
    Order.objects.filter(pk=order.pk).update(closed_at=now - dt.timedelta(minutes=5))
    assert order_counts(now)[1] == 1
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    sql, params = Order.objects.filter(closed_at__gte=midnight, closed_at__lte=now) \
        .values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: ask the planner
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
    assert "order_closed_at" in plan
