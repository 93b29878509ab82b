"""Both ways of finding a unit's orders (IN for small scopes, EXISTS for large) see the same."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.orders import scope
from hotline.orders.models import Order
from hotline.orders.services import do_action
from tests.orders.helpers import new_order

if TYPE_CHECKING:
    from hotline.directory.models import User
    from tests.conftest import City


@pytest.mark.parametrize("narrow", [5000, 1])
def test_a_unit_sees_exactly_its_orders_whichever_way(city: City, monkeypatch: pytest.MonkeyPatch,
                                                      narrow: int) -> None:
    monkeypatch.setattr(scope, "NARROW_SCOPE", narrow)
    water = [new_order(city.agent, citizen_phone=f"1380000000{i}") for i in range(3)]
    for order in water:
        do_action(city.agent, order.number, "dispatch")
    noise = new_order(city.agent, category="100201", district="taijiang", citizen_phone="13900000009")
    do_action(city.agent, noise.number, "dispatch")
    kept = new_order(city.agent, citizen_phone="13700000007")  # not dispatched: the desk's only

    def seen(user: User) -> set[str]:
        return set(scope.visible_orders(user, Order.objects.all()).values_list("number", flat=True))

    assert seen(city.handler) == {o.number for o in water}
    assert seen(city.housing_handler) == {o.number for o in water}  # co-handler
    assert seen(city.env_handler) == {noise.number}
    # The sub-centre sees its district's orders as well as what is dispatched to it.
    assert kept.number in seen(city.sub_agent) and noise.number not in seen(city.sub_agent)
    assert seen(city.agent) == {o.number for o in [*water, noise, kept]}


@pytest.mark.parametrize("apart", [64, 1])
def test_a_subcentres_newest_visible_orders_are_its_scopes_newest(
        city: City, monkeypatch: pytest.MonkeyPatch, apart: int) -> None:
    """A sub-centre's newest visible ids (its district's merged with its units' assignments,
    each unit's read apart, or all at once above NEWEST_ASSIGNED_UNITS) are exactly the
    newest of ``visible_orders``, below any boundary; so for its units' narrow scopes."""
    from hotline.orders.models import Assignment

    monkeypatch.setattr(scope, "NEWEST_ASSIGNED_UNITS", apart)
    orders = []
    for n in range(14):
        # Most are another district's: the sub-centre sees those only through its units.
        order = new_order(city.agent, citizen_phone=f"139000000{n:02d}",
                          district="gulou" if n % 4 == 0 else "taijiang")
        orders.append(order)
        if n % 5 == 0:
            do_action(city.agent, order.number, "dispatch")
        if n % 3 == 1:
            Assignment.objects.create(order=order, unit=city.street, role="co", active=True,
                                      assigned_at=order.created_at)
        elif n % 3 == 2:
            Assignment.objects.create(order=order, unit=city.subcentre, role="co",
                                      active=n % 2 == 0, assigned_at=order.created_at)
        if n == 7:  # both units hold it: it is listed once
            Assignment.objects.create(order=order, unit=city.subcentre, role="co", active=True,
                                      assigned_at=order.created_at)
    bounds = [None, *(o.pk for o in orders), orders[-1].pk + 1]
    for user in (city.sub_agent, city.street_handler, city.handler):
        visible = list(scope.visible_orders(user).order_by("-pk").values_list("pk", flat=True))
        assert visible, user.username
        for before in bounds:
            below = [pk for pk in visible if before is None or pk < before]
            for count in (1, 2, 5, 100):
                assert scope.newest_visible_ids(user, before, count) == below[:count], (
                    user.username, before, count)


def test_a_units_newest_visible_orders_are_read_from_its_assignments(city: City) -> None:
    """A department's or street office's newest visible orders come from its active
    assignments alone: through the orders table (EXISTS), every chunk of a search re-read
    all of the unit's assignments (a street office at 10M orders: 10,000 per chunk)."""
    for user in (city.street_handler, city.handler):
        sql, _params = scope.newest_visible_sql(user, None, 50)
        assert "orders_assignment" in sql and "orders_order" not in sql, sql
    # Whoever sees everything still reads the orders table (no assignment stands for them).
    sql, _params = scope.newest_visible_sql(city.agent, None, 50)
    assert "orders_order" in sql and "orders_assignment" not in sql, sql
