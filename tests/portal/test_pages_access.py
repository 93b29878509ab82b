"""Who may open which page: login required, role checks, scope (404 outside it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from django.test import Client
from django.urls import reverse

from hotline.directory.models import User
from hotline.orders.models import Order
from tests.portal.conftest import new_order

if TYPE_CHECKING:
    from django.test import Client

    from tests.conftest import City

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["portal:order_list", "portal:order_new", "portal:workbench"]


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_staff_pages_send_anonymous_users_to_login(client: Client, name: str) -> None:
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))
    assert "next=" in response["Location"]


def test_order_page_sends_anonymous_users_to_login(client: Client, order: Order) -> None:
    response = client.get(reverse("portal:order_detail", args=[order.number]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_anonymous_home_is_the_public_landing_page(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert reverse("portal:status") in response.content.decode()


@pytest.mark.parametrize(
    ("who", "target"),
    [("agent", "portal:order_list"), ("monitor", "portal:order_list"),
     ("admin", "portal:order_list"), ("leader", "insight:reports"),
     ("auditor", "portal:order_list"), ("sub_agent", "portal:order_list"),
     ("handler", "portal:workbench"), ("dept_admin", "portal:workbench"),
     ("street_handler", "portal:workbench")],
)
def test_home_sends_each_role_to_its_work(city: City, login: Callable[[User], Client], who: str,
                                          target: str) -> None:
    response = login(getattr(city, who)).get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse(target)


def test_login_page_logs_in_and_logout_logs_out(client: Client, city: City) -> None:
    page = client.get(reverse("portal:login"))
    assert page.status_code == 200
    response = client.post(reverse("portal:login"), {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 302
    assert client.get(reverse("portal:order_list")).status_code == 200
    assert client.post(reverse("portal:logout")).status_code == 302
    assert client.get(reverse("portal:order_list")).status_code == 302


def test_login_with_a_wrong_password_shows_an_error(client: Client, city: City) -> None:
    response = client.post(reverse("portal:login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "Wrong user name or password." in response.content.decode()


@pytest.mark.parametrize("who", ["agent", "monitor", "admin", "leader", "auditor", "handler"])
def test_order_list_opens_for_staff(city: City, login: Callable[[User], Client], order: Order,
                                    who: str) -> None:
    assert login(getattr(city, who)).get(reverse("portal:order_list")).status_code == 200


@pytest.mark.parametrize(("who", "status"), [
    ("agent", 200), ("monitor", 200), ("admin", 200), ("sub_agent", 200),
    ("leader", 403), ("auditor", 403), ("handler", 403), ("dept_admin", 403),
])
def test_new_order_page_is_for_the_desk_only(city: City, login: Callable[[User], Client], who: str,
                                             status: int) -> None:
    assert login(getattr(city, who)).get(reverse("portal:order_new")).status_code == status


@pytest.mark.parametrize(("who", "status"), [
    ("handler", 200), ("dept_admin", 200), ("street_handler", 200), ("housing_handler", 200),
    ("agent", 403), ("leader", 403), ("auditor", 403),
])
def test_workbench_is_for_departments_only(city: City, login: Callable[[User], Client], who: str,
                                           status: int) -> None:
    assert login(getattr(city, who)).get(reverse("portal:workbench")).status_code == status


def test_system_account_cannot_use_the_pages(city: City, login: Callable[[User], Client]) -> None:
    assert login(city.system).get(reverse("portal:order_list")).status_code == 403


@pytest.mark.parametrize(("who", "status"), [
    ("agent", 200), ("leader", 200), ("auditor", 200), ("handler", 200), ("housing_handler", 200),
    ("env_handler", 404), ("street_handler", 404),
])
def test_order_page_respects_scope(city: City, login: Callable[[User], Client], dispatched: Order, who: str,
                                   status: int) -> None:
    url = reverse("portal:order_detail", args=[dispatched.number])
    assert login(getattr(city, who)).get(url).status_code == status


def test_departments_never_list_other_units_orders(city: City, login: Callable[[User], Client],
                                                   dispatched: Order) -> None:
    noise = new_order(city, title="夜间施工噪声", category="100201", district="taijiang")
    from hotline.orders.services import do_action

    do_action(city.agent, noise.number, "dispatch")  # routed to the environment bureau
    water_list = login(city.handler).get(reverse("portal:order_list")).content.decode()
    assert dispatched.number in water_list and noise.number not in water_list
    env_list = login(city.env_handler).get(reverse("portal:order_list")).content.decode()
    assert noise.number in env_list and dispatched.number not in env_list


def test_unknown_order_is_404(city: City, login: Callable[[User], Client]) -> None:
    assert login(city.agent).get(reverse("portal:order_detail", args=["12345678"])).status_code \
        == 404


def test_actions_outside_scope_are_404_and_change_nothing(city: City, login: Callable[[User], Client],
                                                          dispatched: Order) -> None:
    url = reverse("portal:order_action", args=[dispatched.number, "sign"])
    assert login(city.env_handler).post(url).status_code == 404
    dispatched.refresh_from_db()
    assert dispatched.state == "dispatched"
