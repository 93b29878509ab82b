"""The benchmarks' in-database order copies (bench/order_copies.py): complete copies carry every
row the create path writes, with unique numbers that no issued number can equal, and a top-up
after the API has made orders copies the same seed without colliding."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection

from bench import order_copies
from hotline.demo import bulk
from hotline.orders import numbering
from hotline.orders.models import Assignment, Contact, IdempotencyKey, Order, OrderEvent
from hotline.orders.services import NewOrder, do_create_order

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="complete copies are made on PostgreSQL only"),
]


def _per_order(model: Any, field: str = "order_id") -> dict[int, int]:
    counts: dict[int, int] = {}
    for pk in model.objects.values_list(field, flat=True):
        counts[pk] = counts.get(pk, 0) + 1
    return counts


def test_complete_copies_have_every_row_of_their_seed_order(city: Any) -> None:
    bulk.load_orders(30, batch_size=30)
    seed = dict(Order.objects.values_list("pk", "number"))
    low, high = order_copies.seed_bounds() or (0, 0)
    span = high - low + 1

    added = order_copies.copy_seed(100, block=20, complete=True)

    assert added == 70 and Order.objects.count() == 100
    copies = Order.objects.filter(order_copies.is_copy())
    assert copies.count() == 70
    assert not Order.objects.filter(order_copies.is_copy(), pk__in=seed).exists()
    numbers = list(Order.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 100
    for number in copies.values_list("number", flat=True):
        assert re.fullmatch(order_copies.COMPLETE_NUMBER_RE, number)
        assert not numbering.is_valid(number)  # never one the services could issue
    events, links, assignments = (_per_order(OrderEvent), _per_order(Contact.orders.through),
                                  _per_order(Assignment))
    keys = _per_order(IdempotencyKey)
    fields = ["title", "text", "district_id", "category_id", "state", "created_at", "citizen_id"]
    originals = {o["pk"]: o for o in Order.objects.filter(pk__in=seed).values("pk", *fields)}
    for copy in copies.values("pk", *fields):
        source = originals[low + (copy["pk"] - low) % span]
        assert {f: copy[f] for f in fields} == {f: source[f] for f in fields}
        assert events[copy["pk"]] == events[source["pk"]] >= 1
        assert links[copy["pk"]] == links[source["pk"]] == 1
        assert assignments.get(copy["pk"], 0) == assignments.get(source["pk"], 0)
        assert keys[copy["pk"]] == 1
    # Every copy has its own contact (nothing shared with the seed), with the seed's caller.
    link_table = Contact.orders.through.objects
    contacts = list(link_table.values_list("contact_id", flat=True))
    assert len(set(contacts)) == len(contacts) == 100
    copy_contacts = Contact.objects.filter(orders__in=copies)
    assert copy_contacts.count() == 70
    assert set(copy_contacts.values_list("citizen_id", flat=True)) <= set(
        Order.objects.filter(pk__in=seed).values_list("citizen_id", flat=True))
    # The seed is untouched.
    assert dict(Order.objects.filter(pk__in=seed).values_list("pk", "number")) == seed


def test_a_top_up_after_new_orders_copies_the_same_seed_without_collisions(city: Any) -> None:
    bulk.load_orders(20, batch_size=20)
    order_copies.copy_seed(50, block=20, complete=True)
    bounds = order_copies.seed_bounds()
    made, _ = do_create_order(city.agent, NewOrder(
        type="complaint", channel="phone", title="停水", text="小区停水三天",
        citizen_phone="13800000001", district="gulou", category="100101"),
        idempotency_key="k-1")

    assert order_copies.seed_bounds() == bounds  # the API's order is not part of the seed
    added = order_copies.copy_seed(90, block=20, complete=True)

    assert added == 39 and Order.objects.count() == 90
    assert Order.objects.filter(pk=made.pk, number=made.number).exists()
    assert len(set(Order.objects.values_list("number", flat=True))) == 90
    assert OrderEvent.objects.filter(order_id=made.pk).count() == 1


def test_search_copies_keep_their_z_numbers_and_skip_contacts(city: Any) -> None:
    bulk.load_orders(10, batch_size=10)
    contacts, events = Contact.objects.count(), OrderEvent.objects.count()

    assert order_copies.copy_seed(25) == 15

    copies = Order.objects.filter(order_copies.is_copy())
    assert copies.count() == 15
    assert all(n.startswith("Z") for n in copies.values_list("number", flat=True))
    assert (Contact.objects.count(), OrderEvent.objects.count()) == (contacts, events)
