"""Finding 4c of issue 10: the status look-up could be walked with many addresses, and the page
and the API counted apart. Failures now count per address, per number and per phone, in one
set of counters for /status/ and GET /api/v1/public/orders/{number}."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.urls import reverse

from hotline.orders.numbering import damm_digit
from tests.api.conftest import ApiClient, new_order

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse
    from pytest_django.fixtures import Settings

    from tests.conftest import City

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits(settings: Settings) -> None:
    settings.LANGUAGE_CODE = "en"  # the page's messages are asserted in English
    settings.HOTLINE_LOOKUP_FAILURES_PER_ADDRESS = 4
    settings.HOTLINE_LOOKUP_FAILURES_PER_NUMBER = 3
    settings.HOTLINE_LOOKUP_FAILURES_PER_PHONE = 3


def unknown(n: int) -> str:
    body = f"{n:07d}"
    return body + str(damm_digit(body))


def api(number: str, phone: str, ip: str) -> Any:
    return ApiClient().get(f"/public/orders/{number}", data={"phone": phone}, REMOTE_ADDR=ip)


def page(number: str, phone: str, ip: str) -> _MonkeyPatchedWSGIResponse:
    return Client().post(reverse("portal:status"), {"number": number, "phone": phone},
                         REMOTE_ADDR=ip)


def test_one_number_cannot_be_walked_from_many_addresses(city: City) -> None:
    order = new_order(city)
    for n in range(3):  # a different address and a guessed phone each time
        assert api(order.number, f"1390000{n:04d}", f"198.51.100.{n}").status_code == 404
    refused = api(order.number, "13812341234", "198.51.100.50")  # even the right phone
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert refused.json()["detail"]
    # Refused the same way as a number that does not exist: nothing tells them apart.
    never = unknown(4711)
    for n in range(3):
        assert api(never, f"1390000{n:04d}", f"198.51.100.{n + 10}").status_code == 404
    other = api(never, "13812341234", "198.51.100.51")
    assert other.status_code == 429 and other.content == refused.content
    # The rightful citizen's other orders are not affected.
    mine = new_order(city, title="另一件事")
    assert api(mine.number, "13812341234", "198.51.100.52").status_code == 200


def test_one_phone_cannot_be_walked_from_many_addresses(city: City) -> None:
    order = new_order(city)
    for n in range(3):
        assert api(unknown(n), "13812341234", f"192.0.2.{n}").status_code == 404
    assert api(order.number, "13812341234", "192.0.2.50").status_code == 429
    assert api(order.number, "+86 138 1234 1234", "192.0.2.51").status_code == 429


def test_failures_on_the_page_count_for_the_api(city: City) -> None:
    order = new_order(city)
    for n in range(4):
        assert page(unknown(n), f"1390000{n:04d}", "203.0.113.20").status_code == 404
    assert api(order.number, "13812341234", "203.0.113.20").status_code == 429
    assert api(order.number, "13812341234", "203.0.113.21").status_code == 200


def test_failures_on_the_api_count_for_the_page(city: City) -> None:
    order = new_order(city)
    for n in range(3):
        assert api(order.number, f"1390000{n:04d}", f"203.0.113.{n + 30}").status_code == 404
    refused = page(order.number, "13812341234", "203.0.113.40")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    html = refused.content.decode()
    assert "Too many attempts" in html and "Being handled" not in html


def test_successes_do_not_use_up_the_allowance(city: City) -> None:
    order = new_order(city)
    for _ in range(10):
        assert api(order.number, "13812341234", "203.0.113.60").status_code == 200
        assert page(order.number, "13812341234", "203.0.113.60").status_code == 200
