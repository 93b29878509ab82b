"""PostgreSQL writes a new order's rows with one statement (``orders/inserts.py``), SQLite and
the rest through the ORM (``services._create``): both must write the same rows."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from hotline.orders import services
from hotline.orders.history import verify_order
from hotline.orders.models import Contact
from tests.orders.helpers import new_order

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db

# What differs between any two creates: ids, numbers, hashes of the chain, the time.
_OWN = {"id", "number", "order_id", "prev_hash", "hash"}


def _columns(row: Any) -> dict[str, Any]:
    """Every column of the row (editable or not) but its own ones; a time only as present."""
    values = {}
    for field in row._meta.concrete_fields:
        value = getattr(row, field.attname)
        if field.attname in _OWN or "hash" in field.attname:
            continue
        values[field.attname] = value is not None if isinstance(value, dt.datetime) else value
    return values


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement path is PostgreSQL's")
def test_the_one_statement_path_writes_what_the_orm_writes(
        city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    fields = {"citizen_name": "王五", "citizen_phone": "13900001111", "address": "东街1号"}
    fast = new_order(city.agent, **fields)

    def orm_path(actor: Any, data: Any, district: Any, category: Any, contact: Any,
                 idempotency_key: Any, request_hash: Any, now: Any) -> Any:
        with transaction.atomic():
            return services._create(actor, data, district, category, contact,
                                    now or timezone.now()), True

    citizen = fast.citizen  # registered by the PostgreSQL path (INSERT ... ON CONFLICT)
    assert (citizen.name, citizen.phone, citizen.tags) == ("王五", "13900001111", [])
    again = new_order(city.agent, **fields)  # the returning caller's path
    assert again.citizen_id == citizen.pk
    monkeypatch.setattr(services, "_create_on_postgresql", orm_path)
    slow = new_order(city.agent, **fields)
    for order in (fast, again):
        order.refresh_from_db()
        slow.refresh_from_db()
        assert order.number != slow.number
        assert verify_order(order) == [] and verify_order(slow) == []
        assert _columns(order) == _columns(slow)
        assert (_columns(Contact.objects.get(orders=order))
                == _columns(Contact.objects.get(orders=slow)))
        assert _columns(order.events.get()) == _columns(slow.events.get())
