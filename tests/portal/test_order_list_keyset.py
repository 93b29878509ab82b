"""Keyset pages of the order list: walking every page forwards and backwards in each sort finds
every order exactly once, also when many orders share a timestamp; the count is exact when
small, capped on SQLite and the planner's estimate on PostgreSQL when large."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hotline.directory.models import User
from hotline.orders.models import Order
from hotline.orders.services import do_action
from hotline.portal import order_listing
from hotline.portal.order_listing import count_orders, keyset_page, ordered, sort_columns
from tests.portal.conftest import new_order

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db
SIZE = 4


@pytest.fixture
def many(city: City) -> list[Order]:
    """19 orders in 5 groups sharing one created_at each, some dispatched (another state)."""
    orders = [new_order(city, title=f"事项{i}", citizen_phone=f"1380000{i:04d}")
              for i in range(19)]
    base = timezone.now() - dt.timedelta(days=1)
    for i, order in enumerate(orders):
        Order.objects.filter(pk=order.pk).update(created_at=base + dt.timedelta(minutes=i // 4))
        if i % 3 == 0:
            do_action(city.agent, order.number, "dispatch")
    return list(Order.objects.all())


def walk_forward(qs: object, sort: str) -> list[int]:
    seen: list[int] = []
    after = ""
    for _step in range(50):
        page = keyset_page(qs, sort, SIZE, after=after)  # type: ignore[arg-type]
        seen.extend(o.pk for o in page.object_list)
        if not page.has_next():
            return seen
        after = page.next_cursor
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("sort", ["-created", "created", "number", "-number", "state", "-state"])
def test_every_order_once_forwards_and_backwards(many: list[Order], sort: str) -> None:
    qs = Order.objects.all()
    expected = list(ordered(qs, sort_columns(sort)).values_list("pk", flat=True))
    assert len(expected) == 19
    assert walk_forward(qs, sort) == expected
    # Backwards from the last page to the first: the same rows, the same pages.
    last = keyset_page(qs, sort, SIZE)
    while last.has_next():
        last = keyset_page(qs, sort, SIZE, after=last.next_cursor)
    seen = [o.pk for o in last.object_list]
    page = last
    while page.has_previous():
        page = keyset_page(qs, sort, SIZE, before=page.previous_cursor)
        assert len(page.object_list) == SIZE
        seen = [o.pk for o in page.object_list] + seen
    assert seen == expected
    assert not page.has_previous() and page.object_list[0].pk == expected[0]


def test_pages_through_the_view_with_filters_kept(city: City, login: Callable[[User], Client],
                                                  many: list[Order],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hotline.portal.order_list_views.PAGE_SIZE", SIZE)
    client = login(city.agent)
    params = {"state": "accepted", "sort": "number"}
    expected = list(Order.objects.filter(state="accepted").order_by("number")
                    .values_list("number", flat=True))
    seen: list[str] = []
    response = client.get(reverse("portal:order_list"), params)
    while True:
        page = response.context["page"]
        seen.extend(o.number for o in page.object_list)
        if not page.has_next():
            break
        html = response.content.decode()
        assert f"after={page.next_cursor}" in html and "state=accepted" in html
        response = client.get(reverse("portal:order_list"), {**params, "after": page.next_cursor})
    assert seen == expected


@pytest.mark.parametrize("cursor", ["garbage!", "bm90IGpzb24", "WzEsMl0", "WyJ4IiwieSJd"])
def test_a_broken_page_link_is_a_4xx_with_a_message(city: City,
                                                    login: Callable[[User], Client],
                                                    many: list[Order], cursor: str) -> None:
    response = login(city.agent).get(reverse("portal:order_list"), {"after": cursor})
    assert response.status_code == 422
    assert "no longer valid" in response.content.decode()


def test_counts(many: list[Order], monkeypatch: pytest.MonkeyPatch) -> None:
    qs = Order.objects.all()
    count = count_orders(qs)
    assert (count.value, count.exact) == (19, True)
    if connection.vendor == "postgresql":
        monkeypatch.setattr(order_listing, "ESTIMATE_ABOVE", 0)
        estimate = count_orders(qs)
        # The planner's figure (tables this small are estimated from their pages), not a count.
        assert not estimate.exact and estimate.value > 0
    else:
        monkeypatch.setattr(order_listing, "COUNT_CAP", 10)
        capped = count_orders(qs)
        assert (capped.value, capped.exact, capped.capped) == (10, False, True)
        assert count_orders(qs.filter(state="dispatched")).value == 7


def test_the_list_says_about_or_more_than(city: City, login: Callable[[User], Client],
                                          many: list[Order],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(order_listing, "COUNT_CAP", 10)
    monkeypatch.setattr(order_listing, "ESTIMATE_ABOVE", 0)
    html = login(city.agent).get(reverse("portal:order_list")).content.decode()
    assert ("more than 10 orders" in html) or ("about " in html)


def test_a_role_that_sees_no_order_gets_an_empty_list(city: City, client: Client) -> None:
    """``visible_orders`` is ``none()`` for the security administrator: on PostgreSQL the
    count's planner estimate could not compile it (EmptyResultSet, a 500)."""
    from hotline.portal.order_listing import Count

    order = new_order(city)
    assert count_orders(Order.objects.none()) == Count(0, exact=True)
    client.force_login(city.security_admin)
    response = client.get(reverse("portal:order_list"))
    assert response.status_code == 200
    assert order.number not in response.content.decode()
