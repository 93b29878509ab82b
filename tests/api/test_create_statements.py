"""What one new order costs the database: the statements of a create through the API, so that
the count (cut from 14 to 6 on PostgreSQL, then to 2 for a returning caller, bench/README.md)
cannot grow back unnoticed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hotline.api.tokens import do_issue_token
from hotline.orders.history import verify_order
from hotline.orders.models import Citizen, Contact, IdempotencyKey, Order
from tests.api.conftest import API

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db(transaction=True)


def _body(n: int, phone: str = "13900007777") -> str:
    return json.dumps({"type": "complaint", "channel": "api", "title": f"停水 {n}",
                       "text": "小区停水", "citizen_phone": phone, "citizen_name": "李四",
                       "district": "gulou", "category": "100101"})


def test_a_create_by_a_returning_citizen(city: City) -> None:
    _, secret = do_issue_token(city.agent, "partner")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    first = client.post(f"{API}/orders", _body(1), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="s-1")
    assert first.status_code == 201
    with CaptureQueriesContext(connection) as queries:
        r = client.post(f"{API}/orders", _body(2), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="s-2")
    assert r.status_code == 201
    statements = [q["sql"] for q in queries.captured_queries]
    inserts = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "WITH"))]
    if connection.vendor == "postgresql":
        # key, counter and citizen in one look-up; the one INSERT, committing on its own
        assert len(statements) == 2, statements
        assert len(inserts) == 1
        assert not any(s.strip().upper() in ("BEGIN", "COMMIT") or "SAVEPOINT" in s.upper()
                       for s in statements), statements
    else:
        assert len(inserts) == 5  # order, contact, link, history event, idempotency key
    order = Order.objects.get(number=r.json()["number"])
    assert verify_order(order) == []  # the history chain is intact
    contact = Contact.objects.get(orders=order)
    assert contact.citizen_id == order.citizen_id and contact.agent_id == city.agent.pk
    key = IdempotencyKey.objects.get(key="s-2")
    assert key.order_id == order.pk and key.user_id == city.agent.pk
    assert order.events.count() == 1


def test_a_create_by_a_new_caller(city: City) -> None:
    _, secret = do_issue_token(city.agent, "partner")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    first = client.post(f"{API}/orders", _body(1), content_type="application/json")
    assert first.status_code == 201  # the token, district and category are cached now
    with CaptureQueriesContext(connection) as queries:
        r = client.post(f"{API}/orders", _body(2, phone="13900008888"),
                        content_type="application/json", HTTP_IDEMPOTENCY_KEY="n-1")
    assert r.status_code == 201
    statements = [q["sql"] for q in queries.captured_queries]
    if connection.vendor == "postgresql":
        # the look-up, then one transaction: the citizen (no savepoint), the order's INSERT
        assert len(statements) <= 5, [s[:40] for s in statements]
        assert not any("SAVEPOINT" in s.upper() for s in statements), statements
    order = Order.objects.get(number=r.json()["number"])
    citizen = order.citizen
    assert (citizen.phone, citizen.name) == ("13900008888", "李四")
    assert Citizen.objects.filter(phone="13900008888").count() == 1
    assert verify_order(order) == []
    assert Contact.objects.get(orders=order).citizen_id == citizen.pk
