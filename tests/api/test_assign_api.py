"""分派承办人 over HTTP: the department administrator assigns by user name; a wrong type is a
422 naming the field; a handler of another unit is refused with a 4xx, never a 500."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.orders.models import Order
from tests.api.conftest import ApiClient, dispatched_order

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db


def test_assign_over_http(city: City) -> None:
    order = dispatched_order(city)
    assert ApiClient(city.handler).post(f"/orders/{order.number}/sign", raw="").status_code == 200
    admin = ApiClient(city.dept_admin)
    wrong_type = admin.post(f"/orders/{order.number}/assign", {"handler": 7})
    assert wrong_type.status_code == 422 and "handler" in wrong_type.content.decode()
    other_unit = admin.post(f"/orders/{order.number}/assign", {"handler": "hugo"})
    assert other_unit.status_code == 422 and "handler" in other_unit.content.decode()
    ok = admin.post(f"/orders/{order.number}/assign", {"handler": "hank", "note": "你来办"})
    assert ok.status_code == 200, ok.content
    assert Order.objects.get(pk=order.pk).handler == city.handler
    taken = ApiClient(city.handler).post(f"/orders/{order.number}/assign", {"handler": "hank"})
    assert taken.status_code == 409
