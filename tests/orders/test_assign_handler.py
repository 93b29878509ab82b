"""分派承办人: the department administrator assigns and reassigns; a handler takes an order
nobody holds; the handler must belong to the order's unit; the history says who and when."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.core.roles import Role
from hotline.directory.models import User
from hotline.orders.models import Order
from hotline.orders.services import do_action
from tests.orders.helpers import new_order

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db


def _signed(city: City) -> Order:
    order = new_order(city.agent)
    do_action(city.agent, order.number, "dispatch")
    return do_action(city.handler, order.number, "sign")


def _second_handler(city: City) -> User:
    return User.objects.create_user(username="wendy", password="pw-wendy", role=Role.DEPT_HANDLER,
                                    unit=city.water, display_name="水务承办人二")


def test_admin_assigns_and_reassigns_with_history(city: City) -> None:
    order = _signed(city)
    wendy = _second_handler(city)
    order = do_action(city.dept_admin, order.number, "assign", {"handler": "hank"})
    assert order.handler == city.handler
    order = do_action(city.dept_admin, order.number, "assign",
                      {"handler": "wendy", "note": "hank is on leave"})
    order.refresh_from_db()
    assert order.handler == wendy
    events = list(order.events.filter(action="assign").order_by("seq"))
    assert [(e.actor_id, e.data["handler"], e.data["from_handler"]) for e in events] == [
        (city.dept_admin.pk, "hank", None), (city.dept_admin.pk, "wendy", "hank")]
    assert events[1].note == "hank is on leave" and events[1].created_at is not None
    assert events[1].from_state == events[1].to_state == "handling"


def test_handler_takes_an_unassigned_order_but_no_more(city: City) -> None:
    order = _signed(city)
    _second_handler(city)
    with pytest.raises(Forbidden) as refused:
        do_action(city.handler, order.number, "assign", {"handler": "wendy"})
    assert refused.value.field == "handler"
    order = do_action(city.handler, order.number, "assign", {"handler": "hank"})
    assert order.handler == city.handler
    with pytest.raises(Conflict):
        do_action(city.handler, order.number, "assign", {"handler": "hank"})
    wendy = User.objects.get(username="wendy")
    with pytest.raises(Forbidden):  # taking it from a colleague is the administrator's call
        do_action(wendy, order.number, "assign", {"handler": "wendy"})
    assert Order.objects.get(pk=order.pk).handler == city.handler


def test_the_handler_must_belong_to_the_orders_unit(city: City) -> None:
    order = _signed(city)
    for name in ("hugo", "alice", "nobody", ""):  # another department, the centre, unknown
        with pytest.raises(InvalidInput) as bad:
            do_action(city.dept_admin, order.number, "assign", {"handler": name})
        assert bad.value.field == "handler"
    inactive = _second_handler(city)
    inactive.is_active = False
    inactive.save()
    with pytest.raises(InvalidInput):
        do_action(city.dept_admin, order.number, "assign", {"handler": "wendy"})
    assert Order.objects.get(pk=order.pk).handler is None


def test_other_units_and_the_centre_may_not_assign(city: City) -> None:
    order = _signed(city)
    with pytest.raises(Forbidden):  # co-handling unit: not the lead
        do_action(city.housing_handler, order.number, "assign", {"handler": "hugo"})
    with pytest.raises(NotFound):  # env never held it: it does not exist for them
        do_action(city.env_handler, order.number, "assign", {"handler": "erin"})
    with pytest.raises(Forbidden):
        do_action(city.agent, order.number, "assign", {"handler": "hank"})


def test_only_once_signed_and_cleared_when_the_order_moves(city: City) -> None:
    order = new_order(city.agent)
    do_action(city.agent, order.number, "dispatch")
    with pytest.raises(Conflict):  # sign for it first
        do_action(city.dept_admin, order.number, "assign", {"handler": "hank"})
    do_action(city.handler, order.number, "sign")
    do_action(city.dept_admin, order.number, "assign", {"handler": "hank"})
    order = do_action(city.agent, order.number, "transfer", {"unit": "env"})
    assert order.handler is None and order.lead_unit == city.env


@pytest.mark.parametrize(("action", "params"), [
    ("reply", {"reply": "已修好"}),
    ("suspend", {"reason": "等市民补充材料"}),
    ("transfer", {"unit": "env"}),
])
def test_a_pending_extension_lapses_when_the_order_leaves_handling(
        city: City, action: str, params: dict[str, str]) -> None:
    order = _signed(city)
    do_action(city.handler, order.number, "request_extension", {"days": 3, "reason": "等配件"})
    actor = city.agent if action == "transfer" else city.handler
    order = do_action(actor, order.number, action, params)
    assert order.extension_pending_days is None
    event = order.events.order_by("-seq").first()
    assert event is not None and event.data["extension_withdrawn"] == 3
