"""The bulk loader writes orders as consistent as the services' ones, and shares their numbers."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q

from hotline.demo.bulk import (
    PHONE_PREFIX,
    DirectoryMissing,
    ensure_minimal_directory,
    load_orders,
)
from hotline.directory.models import Category, District, Unit
from hotline.orders import numbering
from hotline.orders.history import build_event, verify_order
from hotline.orders.lifecycle import FINAL, IN_PROGRESS, State
from hotline.orders.models import Assignment, Citizen, Contact, Order, OrderEvent
from hotline.orders.services import NewOrder, do_action, do_create_order

if TYPE_CHECKING:
    from hotline.orders.bulk import LoadStats

    from tests.conftest import City

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def _load(count: int, *, batch_size: int = 70, seed: int = 7) -> LoadStats:
    return load_orders(count, batch_size=batch_size, seed=seed, now=NOW, span_days=60)


def test_needs_a_directory(db: None) -> None:
    with pytest.raises(DirectoryMissing):
        load_orders(3)


def test_loaded_orders_are_consistent(city: City) -> None:
    stats = _load(300)
    orders = list(Order.objects.prefetch_related("events", "assignments", "contacts"))
    assert stats.orders == len(orders) == 300
    written = (Order.objects.count() + Citizen.objects.count() + Contact.objects.count()
               + Contact.orders.through.objects.count() + Assignment.objects.count()
               + OrderEvent.objects.count())
    assert stats.rows == written

    numbers = [o.number for o in orders]
    assert len(set(numbers)) == len(numbers)
    assert all(numbering.is_valid(n) for n in numbers)

    states = Counter(o.state for o in orders)
    # Sixty days of history give finished orders, orders in progress and fresh ones.
    assert states[State.CLOSED] + states[State.ARCHIVED] > 100
    assert any(states[s] for s in IN_PROGRESS)
    assert states[State.RETURNED] and states[State.SUSPENDED] and states[State.REJECTED]

    for order in orders:
        assert verify_order(order) == [], order.number
        events = sorted(order.events.all(), key=lambda e: e.seq)
        assert events[0].action == "create" and events[0].created_at == order.created_at
        assert order.updated_at == events[-1].created_at <= NOW
        assert NOW - dt.timedelta(days=60) <= order.created_at <= NOW
        contacts = order.contacts.all()  # type: ignore[attr-defined]  # Contact.orders' reverse
        assert [c.occurred_at for c in contacts] == [order.created_at]
        assert order.citizen.phone.startswith(PHONE_PREFIX)
        assert (order.closed_at is not None) == (order.state in (*FINAL, State.CLOSED)), order
        lead = [a for a in order.assignments.all() if a.role == Assignment.Role.LEAD and a.active]
        if order.state in (*IN_PROGRESS, State.CALLBACK) or order.dispatched_at:
            assert order.lead_unit is not None and order.dispatched_at is not None
            assert order.sign_due is not None and order.handle_due is not None
            assert [a.unit_id for a in lead] == [order.lead_unit_id]
        else:
            assert order.lead_unit is None and lead == []
        if order.state == State.HANDLING:
            assert order.signed_at is not None and lead[0].signed_at == order.signed_at
        if order.state in (State.REPLIED, State.CALLBACK) or (
            order.state in (State.CLOSED, State.ARCHIVED) and order.lead_unit_id
        ):
            assert order.replied_at is not None and order.reply_text
        if order.state == State.RETURNED:
            assert order.lead_unit is not None
            assert events[-1].data == {"unit": order.lead_unit.code}
        if order.state == State.SUSPENDED:
            assert order.suspended_at is not None
        if order.answered_directly:
            assert order.state in (State.CLOSED, State.ARCHIVED) and order.reply_text
    # Routed categories get their route's lead unit (停水 → water, co-handled by housing).
    outage = [o for o in orders if o.category is not None and o.category.code == "100101"
              and o.lead_unit_id]
    assert outage and all(o.lead_unit is not None and o.lead_unit.code == "water" for o in outage)
    assert all({a.unit.code for a in o.assignments.all()} == {"water", "housing"} for o in outage)
    # Some callers called more than once.
    assert Citizen.objects.annotate(n=Count("orders")).filter(n__gt=1).exists()


def test_events_are_what_build_event_makes(city: City) -> None:
    _load(40)
    users = {u.pk: u for u in city.__dict__.values() if hasattr(u, "role")}
    events = list(OrderEvent.objects.select_related("order").order_by("order_id", "seq"))
    assert {e.actor_id for e in events} - {None} <= set(users)
    for event in events:
        rebuilt = build_event(
            event.order, seq=event.seq, prev_hash=event.prev_hash, action=event.action,
            from_state=event.from_state, to_state=event.to_state,
            actor=users.get(event.actor_id), note=event.note, data=event.data,
            now=event.created_at,
        )
        assert (rebuilt.actor_name, rebuilt.unit_id, rebuilt.hash) == (
            event.actor_name, event.unit_id, event.hash)
    assert {e.actor_id for e in events if e.action == "sign"} <= {city.handler.pk,
                                                                  city.env_handler.pk,
                                                                  city.street_handler.pk, None}


def test_later_service_orders_do_not_collide(city: City) -> None:
    _load(150, batch_size=40)
    _load(60, batch_size=1000, seed=8)  # a second load continues after the first
    order, created = do_create_order(
        city.agent,
        NewOrder(type="complaint", channel="phone", title="停水", text="小区停水",
                 citizen_phone="13812341234", district="gulou", category="100101"),
    )
    assert created and numbering.is_valid(order.number)
    assert Order.objects.filter(number=order.number).count() == 1
    assert Order.objects.count() == 211
    assert len(set(Order.objects.values_list("number", flat=True))) == 211
    # ... and the service order goes on through its life next to the loaded ones.
    do_action(city.agent, order.number, "dispatch")
    do_action(city.handler, order.number, "sign")
    assert verify_order(Order.objects.get(pk=order.pk)) == []
    # Loading after the service order still collides with nothing.
    _load(30, seed=9)
    assert len(set(Order.objects.values_list("number", flat=True))) == 241
    assert not Order.objects.filter(~Q(pk=order.pk), number=order.number).exists()


def test_minimal_directory_and_command(db: None) -> None:
    ensure_minimal_directory()
    ensure_minimal_directory()  # idempotent
    assert District.objects.count() == 1 and Category.objects.count() == 2
    out = StringIO()
    call_command("bulk_load_orders", "40", "--batch", "15", "--seed", "3", "--no-reference-checks",
                 stdout=out,
                 stderr=StringIO())
    assert "loaded 40 orders" in out.getvalue() and "rows/s" in out.getvalue()
    assert Order.objects.count() == 40
    assert all(verify_order(o) == [] for o in Order.objects.all())
    assert Unit.objects.filter(code="bulk-water", lead_orders__isnull=False).exists()
    if connection.vendor == "postgresql":  # the checks are back on after the load
        with connection.cursor() as cursor:
            cursor.execute("SHOW session_replication_role")
            assert cursor.fetchone()[0] == "origin"


def test_a_taken_phone_number_makes_that_citizen_the_caller(city: City) -> None:
    someone = Citizen.objects.create(name="已登记市民", phone="13900000000")
    # The loader's next citizen id is someone.pk + 1, and so is its phone number.
    Citizen.objects.filter(pk=someone.pk).update(phone=f"{PHONE_PREFIX}{someone.pk + 1:08d}")
    stats = _load(20)
    assert stats.orders == Order.objects.count() == 20
    assert Order.objects.filter(citizen=someone).exists()
    assert Contact.objects.filter(citizen=someone).exists()
    assert all(verify_order(o) == [] for o in Order.objects.all())
