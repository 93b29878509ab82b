"""Call-back fixtures: the contact centre's city (queues, agents) with the agents' phones, and
orders brought to 待回访 through the real lifecycle."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.contactcentre.models import SipExtension
from hotline.orders.models import Order
from hotline.orders.services import do_action
from tests.contactcentre.conftest import desk  # noqa: F401 - fixture used by name
from tests.orders.helpers import new_order


def order_in_callback(city: Any, **overrides: Any) -> Order:
    """An order dispatched to the water department, handled, replied and the reply accepted."""
    order = new_order(city.agent, **overrides)
    do_action(city.agent, order.number, "dispatch")
    do_action(city.handler, order.number, "sign")
    do_action(city.handler, order.number, "reply", {"reply": "已恢复供水"})
    return do_action(city.agent, order.number, "approve_reply")


def add_phones(centre: Any) -> Any:
    """The agents' SIP extensions: the gateway rings these first (preview dialling)."""
    centre.alice_ext = SipExtension.objects.create(number="8001", agent=centre.agent)
    centre.bob_ext = SipExtension.objects.create(number="8002", agent=centre.bob)
    centre.monitor_ext = SipExtension.objects.create(number="8009", agent=centre.monitor)
    return centre


@pytest.fixture
def phones(desk: Any) -> Any:  # noqa: F811 - the contact centre's fixture, with phones
    return add_phones(desk)
