"""The citizens' status look-up: number + phone, nothing personal, one 404 for every miss."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.utils import translation

from hotline.orders.models import OrderState
from hotline.orders.numbering import damm_digit
from hotline.orders.services import do_action
from tests.api.conftest import ApiClient, dispatched_order, new_order

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

    from tests.conftest import City


def _lookup(number: str, phone: str, ip: str = "203.0.113.7") -> Any:
    return ApiClient().get(f"/public/orders/{number}", data={"phone": phone}, REMOTE_ADDR=ip)


def _bad_check_digit(number: str) -> str:
    wrong = (int(number[-1]) + 1) % 10
    assert wrong != damm_digit(number[:7])
    return number[:7] + str(wrong)


def test_right_phone_shows_status_without_personal_data(city: City) -> None:
    order = dispatched_order(city)
    r = _lookup(order.number, "13812341234")
    assert r.status_code == 200
    body = r.json()
    assert body["number"] == order.number and body["state"] == "dispatched"
    with translation.override("zh-hans"):
        zh = str(OrderState.DISPATCHED.label)
    assert body["state_label"] == {"zh-hans": zh, "en": "Dispatched"}
    assert body["type"] == "complaint" and body["type_label"]["en"] == "Complaint"
    assert body["lead_department"] == "市水务局"
    assert body["reply"] is None
    text = r.content.decode()
    for personal in ("张三", "13812341234", "鼓楼区某小区停水三天", "停水三天"):
        assert personal not in text
    assert set(body) == {"number", "state", "state_label", "type", "type_label", "created_date",
                         "lead_department", "reply"}


def test_phone_formats_are_normalised(city: City) -> None:
    order = new_order(city)
    assert _lookup(order.number, "138-1234-1234").status_code == 200
    assert _lookup(order.number, "+86 138 1234 1234").status_code == 200


def test_reply_only_when_closed(city: City) -> None:
    order = dispatched_order(city)
    do_action(city.handler, order.number, "sign")
    do_action(city.handler, order.number, "reply", {"reply": "已恢复供水"})
    assert _lookup(order.number, "13812341234").json()["reply"] is None
    do_action(city.agent, order.number, "approve_reply")
    do_action(city.agent, order.number, "callback", {"resolved": True, "satisfaction": "basic"})
    body = _lookup(order.number, "13812341234").json()
    assert body["state"] == "closed" and body["reply"] == "已恢复供水"


def test_misses_are_indistinguishable(city: City) -> None:
    order = new_order(city)
    other = new_order(city, citizen_phone="")  # anonymous caller: no phone ever matches
    unknown = "1234567" + str(damm_digit("1234567"))
    responses = [
        _lookup(order.number, "13800000000"),
        _lookup(_bad_check_digit(order.number), "13812341234"),
        _lookup(unknown, "13812341234"),
        _lookup(other.number, ""),
        _lookup("abc", "13812341234"),
        _lookup(order.number, "not a phone"),
    ]
    assert {r.status_code for r in responses} == {404}
    assert len({r.content for r in responses}) == 1


def test_phone_is_required_and_bounded(city: City) -> None:
    order = new_order(city)
    assert ApiClient().get(f"/public/orders/{order.number}").status_code == 422
    assert _lookup(order.number, "1" * 41).status_code == 422


def test_too_many_failures_from_one_address_is_429(city: City, settings: Settings) -> None:
    settings.HOTLINE_LOOKUP_FAILURES_PER_ADDRESS = 3
    order = new_order(city)
    for n in range(3):  # different phones: only the address's counter reaches its limit
        assert _lookup(order.number, f"1380000000{n}").status_code == 404
    blocked = _lookup(order.number, "13812341234")
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert blocked.json()["detail"]
    # Another address is not affected; successes never reset the counter.
    assert _lookup(order.number, "13812341234", ip="198.51.100.9").status_code == 200


@pytest.mark.parametrize("number", ["%00", "1" * 500, "１２３４５６７８"])
def test_odd_numbers_are_404(city: City, number: str) -> None:
    assert _lookup(number, "13812341234").status_code == 404
