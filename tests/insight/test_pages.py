"""The hot-issue page: who may open it, what it shows, bad filters."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.test import Client

from tests.portal.conftest import ensure_compiled_messages

if TYPE_CHECKING:
    from typing import Any

    from pytest_django.fixtures import Settings

    from tests.conftest import City
    from tests.insight.conftest import Scenario

URL = "/insight/"


@pytest.mark.parametrize("who", ["agent", "monitor", "admin", "leader", "auditor", "sub_agent",
                                 "dept_admin"])
def test_allowed_roles_open_the_page(city: City, login: Any, who: str) -> None:
    response = login(getattr(city, who)).get(URL)
    assert response.status_code == 200
    assert b"Hot issues" in response.content


@pytest.mark.parametrize("who", ["handler", "street_handler", "housing_handler", "system"])
def test_other_roles_get_403(city: City, login: Any, who: str) -> None:
    assert login(getattr(city, who)).get(URL).status_code == 403


def test_anonymous_is_sent_to_login(db: None) -> None:
    response = Client().get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_navigation_links_the_page_for_those_who_may_open_it(city: City, login: Any) -> None:
    page = login(city.leader).get("/orders/").content.decode()
    assert 'href="/insight/"' in page
    page = login(city.handler).get("/orders/").content.decode()
    assert 'href="/insight/"' not in page


def test_page_lists_hot_issues_with_chart_spike_and_order_links(city: City, scenario: Scenario,
                                                                login: Any) -> None:
    response = login(city.leader).get(URL, {"period": "1"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "丽发新城" in page and "Spike" in page
    assert "<b>2</b>spikes" in page.replace("\n", "")  # the cluster's and 停水 x 鼓楼区
    assert page.count("<svg") == 1 and "<polyline" in page
    linked = [o for o in scenario.outage if f'href="/orders/{o.number}/"' in page]
    assert len(linked) == 5  # five sample orders of the six
    assert "停水" in page and "鼓楼区" in page  # the category x district spike


def test_sub_centre_page_shows_its_district_only(city: City, scenario: Scenario, login: Any) -> None:
    page = login(city.sub_agent).get(URL, {"period": "7"}).content.decode()
    assert "丽发新城" in page and "暮云街道" not in page


def test_department_page_shows_only_its_orders(city: City, scenario: Scenario, login: Any) -> None:
    page = login(city.dept_admin).get(URL, {"period": "7"}).content.decode()
    held = {o.number for o in scenario.outage[:3]}
    for order in scenario.outage:
        assert (f'href="/orders/{order.number}/"' in page) == (order.number in held)


def test_date_range_and_filters(city: City, scenario: Scenario, login: Any) -> None:
    today = scenario.now.date()
    response = login(city.leader).get(URL, {"period": "range", "date_from": str(today),
                                            "date_to": str(today), "district": "gulou"})
    assert response.status_code == 200


@pytest.mark.parametrize("query", [
    {"period": "5"},
    {"period": "range"},
    {"period": "range", "date_from": "2026-01-05", "date_to": "2026-01-01"},
    {"period": "7", "district": "nowhere"},
    {"period": "7", "date_from": "not-a-date"},
])
def test_bad_filters_are_400_with_the_form_again(city: City, login: Any, query: dict[str, str]) -> None:
    response = login(city.leader).get(URL, query)
    assert response.status_code == 400
    assert b'class="errorlist' in response.content


def test_chinese_page(city: City, scenario: Scenario, login: Any, settings: Settings) -> None:
    ensure_compiled_messages()
    settings.LANGUAGE_CODE = "zh-hans"
    page = login(city.leader).get(URL, {"period": "1"}).content.decode()
    assert "热点问题" in page and "突增" in page and "各区类别突增" in page
