from __future__ import annotations

from typing import TYPE_CHECKING

from hotline.orders.history import verify_order
from hotline.orders.services import NewOrder, do_action, do_create_order

if TYPE_CHECKING:
    from tests.conftest import City


def test_full_loop(city: City) -> None:
    order, created = do_create_order(
        city.agent,
        NewOrder(type="complaint", channel="phone", title="停水三天", text="鼓楼区某小区停水三天",
                 citizen_phone="13812341234", citizen_name="张三", district="gulou",
                 category="100101"),
    )
    assert created and order.state == "accepted" and len(order.number) == 8
    do_action(city.agent, order.number, "dispatch")
    do_action(city.handler, order.number, "sign")
    do_action(city.handler, order.number, "reply", {"reply": "已恢复供水"})
    do_action(city.agent, order.number, "approve_reply")
    order = do_action(city.agent, order.number, "callback",
                      {"resolved": True, "satisfaction": "satisfied"})
    assert order.state == "closed"
    assert [e.action for e in order.events.order_by("seq")] == [
        "create", "dispatch", "sign", "reply", "approve_reply", "callback"]
    assert verify_order(order) == []
