"""Finding 3 of issue 10: one rule for where an actor may send an order (``check_may_send``).
The centre dispatches anywhere; a sub-centre only to its own unit and the units below it, by
dispatch, co-dispatch, transfer, re-dispatch and escalation alike."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from hotline.core.errors import Forbidden
from hotline.directory.models import Unit, UnitKind
from hotline.orders.models import Assignment
from hotline.orders.services import NewOrder, do_action, do_create_order
from tests.api.conftest import ApiClient

if TYPE_CHECKING:
    from hotline.directory.models import User
    from hotline.orders.models import Order
    from tests.conftest import City


@pytest.fixture
def other_street(city: City) -> Unit:
    """A street office of 台江, another district."""
    return Unit.objects.create(code="taijiang-street", name="台江街道", kind=UnitKind.STREET,
                               parent=city.centre, district=city.taijiang)


def _order(city: City, actor: User | None = None, **fields: Any) -> Order:
    data: dict[str, Any] = dict(type="complaint", channel="phone", title="噪声", text="广场舞噪声",
                district="gulou", category="100201")
    data.update(fields)
    order, _ = do_create_order(actor or city.agent, NewOrder(**data))
    return order


@pytest.mark.parametrize("unit", ["taijiang-street", "water"])
def test_a_subcentre_agent_may_not_dispatch_outside_its_district(city: City, other_street: Unit,
                                                                 unit: str) -> None:
    order = _order(city, city.sub_agent)
    with pytest.raises(Forbidden) as refused:
        do_action(city.sub_agent, order.number, "dispatch", {"unit": unit})
    assert refused.value.field == "unit"
    order.refresh_from_db()
    assert order.state == "accepted" and not Assignment.objects.filter(order=order).exists()


def test_a_subcentre_agent_may_not_co_dispatch_outside_its_district(city: City, other_street: Unit) -> None:
    order = _order(city, city.sub_agent)
    with pytest.raises(Forbidden) as refused:
        do_action(city.sub_agent, order.number, "dispatch",
                  {"unit": "gulou-dongjie", "co_units": ["taijiang-street"]})
    assert refused.value.field == "co_units"
    assert not Assignment.objects.filter(order=order).exists()


def test_a_subcentre_agent_dispatches_within_its_district(city: City) -> None:
    order = _order(city, city.sub_agent)
    order = do_action(city.sub_agent, order.number, "dispatch", {"unit": "gulou-dongjie"})
    assert order.state == "dispatched" and order.lead_unit == city.street
    # The district's route (噪声 in 鼓楼 goes to the sub-centre itself) is within reach too.
    second = do_action(city.sub_agent, _order(city, city.sub_agent).number, "dispatch")
    assert second.lead_unit == city.subcentre


def test_a_route_outside_the_district_is_refused_to_a_subcentre(city: City) -> None:
    # 停水 routes to the city's water department (co: housing): the centre dispatches that.
    order = _order(city, city.sub_agent, category="100101", title="停水")
    with pytest.raises(Forbidden):
        do_action(city.sub_agent, order.number, "dispatch")


@pytest.mark.parametrize("unit", ["taijiang-street", "water", "gulou-dongjie", "gulou-sub"])
def test_the_centre_dispatches_anywhere(city: City, other_street: Unit, unit: str) -> None:
    order = do_action(city.agent, _order(city).number, "dispatch",
                      {"unit": unit, "co_units": ["taijiang-street", "housing"]})
    assert order.lead_unit is not None
    assert order.lead_unit.code == unit


def test_transfer_and_dispatch_share_the_rule(city: City, other_street: Unit) -> None:
    order = do_action(city.agent, _order(city).number, "dispatch")  # to the gulou sub-centre
    with pytest.raises(Forbidden) as refused:
        do_action(city.sub_agent, order.number, "transfer", {"unit": "taijiang-street"})
    assert "taijiang-street" in refused.value.message
    order = do_action(city.sub_agent, order.number, "transfer", {"unit": "gulou-dongjie"})
    assert order.lead_unit == city.street


def test_the_api_answers_403_naming_the_field(city: City, other_street: Unit) -> None:
    order = _order(city, city.sub_agent)
    r = ApiClient(city.sub_agent).post(f"/orders/{order.number}/dispatch",
                                       {"unit": "taijiang-street"})
    assert r.status_code == 403 and r.json()["field"] == "unit"
    assert "taijiang-street" in r.json()["detail"]
