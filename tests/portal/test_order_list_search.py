"""The order list's search (number, phone, name, address, text), its sortable columns, saved
filters, and the scope rules: a department finds only its orders, and never a 举报 reporter's
order by the reporter's name or number."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.urls import reverse

from hotline.directory.models import User
from hotline.orders.models import Order
from hotline.orders.services import do_action
from hotline.portal.models import SavedFilter
from tests.portal.conftest import new_order

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db


def found(client: Client, **params: Any) -> list[str]:
    response = client.get(reverse("portal:order_list"), params)
    assert response.status_code == 200, response.content.decode()[:500]
    return [o.number for o in response.context["page"].object_list]


@pytest.fixture
def orders(city: City) -> dict[str, Order]:
    water = do_action(city.agent, new_order(
        city, title="停水三天", text="小区停水三天没人管", citizen_phone="13812341234",
        citizen_name="张三", address="鼓楼区五一路12号").number, "dispatch")
    noise = new_order(city, title="夜间施工噪声", text="工地凌晨施工", category="100201",
                      district="taijiang", citizen_phone="13900005678", citizen_name="李四",
                      address="台江区工业路8号")
    report = do_action(city.agent, new_order(
        city, type="report", title="供水站收费不规范", text="供水站乱收费",
        citizen_phone="13700009999", citizen_name="王五", address="鼓楼区东街1号").number,
        "dispatch")
    return {"water": water, "noise": noise, "report": report}


def test_search_by_number_phone_name_address_and_text(
        city: City, login: Callable[[User], Client], orders: dict[str, Order]) -> None:
    client = login(city.agent)
    water, noise = orders["water"], orders["noise"]
    assert found(client, q=water.number) == [water.number]
    assert found(client, q=water.number, search_in="number") == [water.number]
    assert found(client, q="138-1234-1234") == [water.number]  # normalised by core.phones
    assert found(client, q="5678") == [noise.number]  # the last digits
    assert found(client, q="5678", search_in="phone") == [noise.number]
    assert found(client, q="李四", search_in="name") == [noise.number]
    assert found(client, q="李四") == [noise.number]
    assert found(client, q="工业路", search_in="address") == [noise.number]
    assert found(client, q="凌晨施工", search_in="text") == [noise.number]
    assert found(client, q="噪声") == [noise.number]
    assert found(client, q="不存在的事") == []


def test_a_department_finds_only_its_orders_and_never_a_reporter(
        city: City, login: Callable[[User], Client], orders: dict[str, Order]) -> None:
    client = login(city.handler)  # water: holds the outage and the report
    water, noise, report = orders["water"], orders["noise"], orders["report"]
    assert set(found(client)) == {water.number, report.number}
    assert found(client, q="13812341234") == [water.number]
    assert found(client, q="李四", search_in="name") == []  # not the water department's order
    # The report's citizen: neither the number, its tail, nor the name finds it.
    assert found(client, q="13700009999") == []
    assert found(client, q="9999", search_in="phone") == []
    assert found(client, q="王五", search_in="name") == []
    assert found(client, q="王五") == []
    # The matter itself may be looked up by the department handling it.
    assert found(client, q=report.number) == [report.number]
    assert found(client, q="乱收费", search_in="text") == [report.number]
    for typed in ("王五", "13700009999"):
        table = client.get(reverse("portal:order_list"), {"q": typed}, HTTP_HX_REQUEST="true",
                           HTTP_HX_TARGET="order-results").content.decode()
        assert report.number not in table and noise.number not in table
    # The centre's agent finds the reporter's order (they must be able to call back).
    assert found(login(city.agent), q="13700009999") == [report.number]


def test_masked_roles_may_not_search_by_phone_or_name(
        city: City, login: Callable[[User], Client], orders: dict[str, Order]) -> None:
    client = login(city.leader)
    response = client.get(reverse("portal:order_list"), {"q": "13812341234",
                                                           "search_in": "phone"})
    assert response.status_code == 403
    assert "may not look orders up" in response.content.decode()
    # "Anything" does not fall back to the phone for them: a number finds nothing.
    assert found(client, q="13812341234") == []
    assert found(client, q=orders["water"].number) == [orders["water"].number]


def test_too_few_digits_of_a_phone_is_a_4xx_with_a_message(
        city: City, login: Callable[[User], Client], orders: dict[str, Order]) -> None:
    response = login(city.agent).get(reverse("portal:order_list"),
                                     {"q": "12", "search_in": "phone"})
    assert response.status_code == 422
    assert "last 4 digits" in response.content.decode()


def test_sortable_columns_are_whitelisted(
        city: City, login: Callable[[User], Client], orders: dict[str, Order]) -> None:
    client = login(city.agent)
    numbers = sorted(o.number for o in orders.values())
    assert found(client, sort="number") == numbers
    assert found(client, sort="-number") == numbers[::-1]
    by_state = found(client, sort="state")
    states = [Order.objects.get(number=n).state for n in by_state]
    assert states == sorted(states)
    # An unknown column is refused by the form and the default order is used, not the column.
    response = client.get(reverse("portal:order_list"), {"sort": "citizen__phone"})
    assert response.status_code == 200
    newest_first = [o.number for o in Order.objects.order_by("-created_at", "-pk")]
    assert [o.number for o in response.context["page"].object_list] == newest_first
    html = client.get(reverse("portal:order_list"), {"sort": "-number"}).content.decode()
    assert "sort=number" in html  # the header links to the other direction


def test_saved_filters_are_per_user(city: City, login: Callable[[User], Client],
                                    orders: dict[str, Order]) -> None:
    client = login(city.agent)
    url = reverse("portal:order_filter_save") + "?state=dispatched&district=gulou&after=junk"
    response = client.post(url, {"name": "鼓楼待签收"})
    assert response.status_code == 302
    saved = SavedFilter.objects.get(user=city.agent)
    assert saved.query == "district=gulou&state=dispatched"  # the page boundary is not kept
    page = client.get(reverse("portal:order_list")).content.decode()
    assert "鼓楼待签收" in page and "district=gulou&amp;state=dispatched" in page
    assert "鼓楼待签收" not in login(city.monitor).get(reverse("portal:order_list")).content.decode()
    # No name: a 422 with the message, nothing saved.
    client = login(city.agent)
    response = client.post(reverse("portal:order_filter_save"), {"name": "  "})
    assert response.status_code == 422 and "Give the filter a name" in response.content.decode()
    # Someone else cannot delete it; the owner can.
    other = login(city.monitor)
    assert other.post(reverse("portal:order_filter_delete", args=[saved.pk])).status_code == 404
    client = login(city.agent)
    assert client.post(reverse("portal:order_filter_delete", args=[saved.pk])).status_code == 302
    assert not SavedFilter.objects.exists()
