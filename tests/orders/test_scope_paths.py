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
