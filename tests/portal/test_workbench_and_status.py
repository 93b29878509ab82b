"""The department workbench's tabs and the citizens' status page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hotline.directory.models import User
from hotline.orders.models import Order
from hotline.orders.numbering import damm_digit
from hotline.orders.services import do_action
from tests.portal.conftest import new_order

if TYPE_CHECKING:
    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse
    from pytest_django.fixtures import Settings

    from tests.conftest import City

pytestmark = pytest.mark.django_db


def tab(client: Client, key: str) -> set[str]:
    response = client.get(reverse("portal:workbench"), {"tab": key})
    assert response.status_code == 200
    return {row["order"].number for row in response.context["rows"]}


def test_workbench_tabs_follow_the_order(city: City, login: Callable[[User], Client],
                                         dispatched: Order) -> None:
    client = login(city.handler)
    assert tab(client, "to_sign") == {dispatched.number}
    assert tab(client, "handling") == set()
    Order.objects.filter(pk=dispatched.pk).update(sign_due=timezone.now() + dt.timedelta(hours=1))
    assert tab(client, "due_soon") == {dispatched.number}
    html = client.get(reverse("portal:workbench")).content.decode()
    assert "Sign for" in html and "Return" in html
    do_action(city.handler, dispatched.number, "sign")
    assert tab(client, "to_sign") == set()
    assert tab(client, "handling") == {dispatched.number}
    now = timezone.now()
    Order.objects.filter(pk=dispatched.pk).update(handle_due=now + dt.timedelta(days=9))
    assert tab(client, "due_soon") == set() and tab(client, "overdue") == set()
    Order.objects.filter(pk=dispatched.pk).update(handle_due=now + dt.timedelta(minutes=30))
    assert tab(client, "due_soon") == {dispatched.number}
    Order.objects.filter(pk=dispatched.pk).update(handle_due=now - dt.timedelta(minutes=1))
    assert tab(client, "overdue") == {dispatched.number}
    assert tab(client, "due_soon") == set()


def test_co_handler_sees_its_part_under_handling(city: City, login: Callable[[User], Client],
                                                 dispatched: Order) -> None:
    client = login(city.housing_handler)
    assert tab(client, "to_sign") == set()
    assert tab(client, "handling") == {dispatched.number}


def test_workbench_shows_only_the_units_orders(city: City, login: Callable[[User], Client],
                                               dispatched: Order) -> None:
    noise = new_order(city, title="噪声", category="100201", district="taijiang")
    do_action(city.agent, noise.number, "dispatch")
    assert tab(login(city.handler), "to_sign") == {dispatched.number}
    assert tab(login(city.env_handler), "to_sign") == {noise.number}


def test_workbench_counts_and_htmx_tab(city: City, login: Callable[[User], Client],
                                       dispatched: Order) -> None:
    Order.objects.filter(pk=dispatched.pk).update(sign_due=timezone.now() + dt.timedelta(days=9))
    client = login(city.handler)
    response = client.get(reverse("portal:workbench"), {"tab": "to_sign"},
                          HTTP_HX_REQUEST="true", HTTP_HX_TARGET="workbench-tab")
    html = response.content.decode()
    assert "<html" not in html and dispatched.number in html
    # The tab leaves its counts to the request its tabs make once shown.
    assert 'hx-get="/workbench/counts/?tab=to_sign"' in html and 'hx-trigger="load"' in html
    assert all(n is None for _, n in response.context["tabs"])
    response = client.get(reverse("portal:workbench_counts"), {"tab": "to_sign"},
                          HTTP_HX_REQUEST="true", HTTP_HX_TARGET="workbench-tabs")
    html = response.content.decode()
    assert "<html" not in html and 'id="workbench-tabs"' in html and "hx-trigger" not in html
    counts = {t.key: n for t, n in response.context["tabs"]}
    assert counts == {"to_sign": 1, "mine": 0, "handling": 0, "due_soon": 0, "overdue": 0,
                      "returned": 0, "replied": 0, "closed": 0, "all": 1}
    assert 'class="active" id="tab-to_sign">' in html


# --- citizens' status page -------------------------------------------------------------------

def lookup(client: Client, number: str, phone: str, **extra: Any) -> _MonkeyPatchedWSGIResponse:
    return client.post(reverse("portal:status"), {"number": number, "phone": phone}, **extra)


def test_status_page_shows_state_and_department(client: Client, city: City, dispatched: Order) -> None:
    assert client.get(reverse("portal:status")).status_code == 200
    response = lookup(client, dispatched.number, "138-1234-1234")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Being handled" in html and "市水务局" in html
    assert "张三" not in html  # the page never repeats personal data


def test_status_page_shows_the_reply_once_closed(client: Client, city: City, dispatched: Order) -> None:
    do_action(city.handler, dispatched.number, "sign")
    do_action(city.handler, dispatched.number, "reply", {"reply": "已恢复供水"})
    assert "已恢复供水" not in lookup(client, dispatched.number, "13812341234").content.decode()
    do_action(city.agent, dispatched.number, "approve_reply")
    do_action(city.agent, dispatched.number, "callback",
              {"resolved": True, "satisfaction": "satisfied"})
    html = lookup(client, dispatched.number, "13812341234").content.decode()
    assert "Closed" in html and "已恢复供水" in html


def _wrong_check_digit(number: str) -> str:
    return number[:7] + str((int(number[7]) + 1) % 10)


def test_status_page_says_the_same_for_every_miss(client: Client, city: City, dispatched: Order) -> None:
    other = new_order(city, citizen_phone="13900002222", title="另一位市民")
    misses = [
        (dispatched.number, "13800000000"),  # wrong phone
        (other.number, "13812341234"),  # somebody else's order
        ("00000000", "13812341234"),  # valid check digit, no such order
        (_wrong_check_digit(dispatched.number), "13812341234"),  # mistyped number
        ("abc", "13812341234"),
    ]
    bodies = set()
    for number, phone in misses:
        response = lookup(client, number, phone)
        assert response.status_code == 404
        html = response.content.decode()
        assert "No request matches" in html and "Being handled" not in html
        html = re.sub(r'value="[^"]*"|"X-CSRFToken": "[^"]*"', "", html)
        bodies.add(html)
    assert len(bodies) == 1


def test_status_page_empty_form_shows_errors(client: Client, city: City) -> None:
    response = client.post(reverse("portal:status"), {"number": "", "phone": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["number"]


def test_status_page_slows_down_guessing(client: Client, city: City, dispatched: Order,
                                         settings: Settings) -> None:
    # Different numbers and phones, so only the per-address counter reaches its limit.
    for n in range(settings.HOTLINE_LOOKUP_FAILURES_PER_ADDRESS):
        unknown = f"{n:07d}" + str(damm_digit(f"{n:07d}"))
        assert lookup(client, unknown, f"1390000{n:04d}").status_code == 404
    blocked = lookup(client, dispatched.number, "13812341234")
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert "Too many attempts" in blocked.content.decode()


def test_status_page_htmx_swaps_the_card(client: Client, city: City, dispatched: Order) -> None:
    response = lookup(client, dispatched.number, "13812341234", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and 'id="status-card"' in html and "<html" not in html
    miss = lookup(client, "00000000", "1", HTTP_HX_REQUEST="true")
    assert miss.status_code == 200 and "No request matches" in miss.content.decode()


def test_subcentre_transfers_to_a_street_through_the_pages(city: City,
                                                           login: Callable[[User], Client]) -> None:
    noise = new_order(city, title="广场舞噪声", category="100201", district="gulou")
    do_action(city.agent, noise.number, "dispatch")  # gulou's noise route: the sub-centre
    client = login(city.sub_agent)
    page = client.get(reverse("portal:order_detail", args=[noise.number]))
    assert "transfer" in {item["action"] for item in page.context["action_forms"]}
    refused = client.post(reverse("portal:order_action", args=[noise.number, "transfer"]),
                          {"transfer-unit": "water"})
    assert refused.status_code == 403  # only units below the sub-centre
    done = client.post(reverse("portal:order_action", args=[noise.number, "transfer"]),
                       {"transfer-unit": "gulou-dongjie", "transfer-note": "请街道处理"})
    assert done.status_code == 302
    assert tab(login(city.street_handler), "to_sign") == {noise.number}
