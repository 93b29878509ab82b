"""Work orders over HTTP: the lifecycle end to end, the action contract and the list."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone

from hotline.api.action_params import ACTION_PARAMS
from hotline.orders.history import verify_order
from hotline.orders.lifecycle import Action
from hotline.orders.models import Order
from tests.api.conftest import ApiClient, dispatched_order, new_order

if TYPE_CHECKING:
    from tests.conftest import City

CREATE = {
    "type": "complaint", "channel": "phone", "title": "停水三天", "text": "鼓楼区某小区停水三天",
    "citizen_phone": "13812341234", "citizen_name": "张三", "district": "gulou",
    "category": "100101",
}


def test_lifecycle_end_to_end_over_http(city: City) -> None:
    agent, handler, co = ApiClient(city.agent), ApiClient(city.handler), ApiClient(
        city.housing_handler)
    r = agent.post("/orders", CREATE)
    assert r.status_code == 201, r.content
    number = r.json()["number"]
    assert r.json()["state"] == "accepted" and len(number) == 8

    steps = [
        (agent, "dispatch", {"note": "请尽快处理"}, "dispatched"),
        (handler, "sign", None, "handling"),
        (co, "co_reply", {"reply": "已配合检修"}, "handling"),
        (handler, "request_extension", {"days": 2, "reason": "管道更换"}, "handling"),
        (ApiClient(city.monitor), "approve_extension", {}, "handling"),
        (handler, "reply", {"reply": "已恢复供水"}, "replied"),
        (agent, "approve_reply", {}, "callback"),
        (agent, "callback", {"resolved": True, "satisfaction": "satisfied"}, "closed"),
        (ApiClient(city.monitor), "archive", None, "archived"),
    ]
    for client, action, body, state in steps:
        r = client.post(f"/orders/{number}/{action}", body) if body is not None else \
            client.post(f"/orders/{number}/{action}", raw="")
        assert r.status_code == 200, (action, r.content)
        assert r.json()["state"] == state, action

    detail = agent.get(f"/orders/{number}").json()
    assert [e["action"] for e in detail["events"]] == [
        "create", "dispatch", "sign", "co_reply", "request_extension", "approve_extension",
        "reply", "approve_reply", "callback", "archive"]
    assert detail["events"][1]["note"] == "请尽快处理"
    assert {a["unit"]: a["role"] for a in detail["assignments"]} == {
        "water": "lead", "housing": "co"}
    assert detail["reply_text"] == "已恢复供水" and detail["satisfaction"] == "satisfied"
    assert detail["contacts"][0]["channel"] == "phone"
    assert detail["allowed_actions"] == []
    assert verify_order(Order.objects.get(number=number)) == []


def test_direct_answer_and_return_review(city: City) -> None:
    agent, monitor, handler = ApiClient(city.agent), ApiClient(city.monitor), ApiClient(
        city.handler)
    first = new_order(city)
    r = agent.post(f"/orders/{first.number}/answer", {"reply": "已告知停水原因"})
    assert r.status_code == 200 and r.json()["state"] == "closed"

    order = dispatched_order(city)
    assert handler.post(f"/orders/{order.number}/return", {"reason": "不属于本单位"}
                        ).json()["state"] == "returned"
    r = monitor.post(f"/orders/{order.number}/approve_return", {"unit": "housing"})
    assert r.status_code == 200 and r.json()["lead_unit"] == "housing"
    # The water department no longer holds the order.
    assert handler.get(f"/orders/{order.number}").status_code == 404


def test_every_action_has_a_documented_route() -> None:
    assert set(ACTION_PARAMS) == set(Action) - {Action.CREATE}


def test_unknown_action_is_404(city: City) -> None:
    order = new_order(city)
    r = ApiClient(city.agent).post(f"/orders/{order.number}/teleport", {})
    assert r.status_code == 404 and "teleport" in r.json()["detail"]
    assert ApiClient(city.agent).post(f"/orders/{order.number}/create", {}).status_code == 404


def test_action_not_allowed_in_state_is_409(city: City) -> None:
    order = new_order(city)
    r = ApiClient(city.agent).post(f"/orders/{order.number}/approve_reply", {})
    assert r.status_code == 409
    assert "accepted" in r.json()["detail"]


def test_role_not_allowed_is_403(city: City) -> None:
    order = dispatched_order(city)
    r = ApiClient(city.handler).post(f"/orders/{order.number}/dispatch", {"unit": "env"})
    assert r.status_code == 403 and r.json()["detail"]
    # A co-handler sees the order but may not sign for it as lead.
    r = ApiClient(city.housing_handler).post(f"/orders/{order.number}/sign", raw="")
    assert r.status_code == 403
    r = ApiClient(city.leader).post(f"/orders/{order.number}/urge", {})
    assert r.status_code == 403


@pytest.mark.parametrize(("action", "body", "field"), [
    ("request_extension", {"days": "three", "reason": "x"}, "days"),
    ("request_extension", {"days": True, "reason": "x"}, "days"),
    ("request_extension", {"days": 99, "reason": "x"}, "days"),
    ("request_extension", {"days": 2}, "reason"),
    ("reply", {}, "reply"),
    ("reply", {"reply": ["a"]}, "reply"),
    ("reply", {"reply": "x" * 5001}, "reply"),
    ("reply", {"reply": "ok", "attachments": []}, "attachments"),
    ("transfer", {"unit": "no-such-unit"}, "unit"),
    ("transfer", {"unit": 7}, "unit"),
    ("suspend", {"reason": "\x00"}, "reason"),
])
def test_bad_action_params_are_422_naming_the_field(city: City, action: str, body: dict[str, Any],
                                                    field: str) -> None:
    order = dispatched_order(city)
    ApiClient(city.handler).post(f"/orders/{order.number}/sign", raw="")
    r = ApiClient(city.handler).post(f"/orders/{order.number}/{action}", body)
    assert r.status_code == 422, r.content
    assert r.json()["field"] == field
    assert Order.objects.get(pk=order.pk).state == "handling"


@pytest.mark.parametrize(("action", "body", "field"), [
    ("dispatch", {"co_units": "housing"}, "co_units"),
    ("dispatch", {"urgency": "very"}, "urgency"),
    ("dispatch", {"category": ["100101"]}, "category"),
    ("dispatch", {"category": "999999"}, "category"),
    ("merge", {"into": 12345678}, "into"),
    ("merge", {}, "into"),
    ("reject", {"reason": " "}, "reason"),
])
def test_bad_centre_action_params(city: City, action: str, body: dict[str, Any], field: str) -> None:
    order = new_order(city)
    r = ApiClient(city.monitor).post(f"/orders/{order.number}/{action}", body)
    assert r.status_code == 422, r.content
    assert r.json()["field"] == field


def test_callback_params(city: City) -> None:
    order = dispatched_order(city)
    handler, agent = ApiClient(city.handler), ApiClient(city.agent)
    handler.post(f"/orders/{order.number}/sign", raw="")
    handler.post(f"/orders/{order.number}/reply", {"reply": "done"})
    agent.post(f"/orders/{order.number}/approve_reply", {})
    r = agent.post(f"/orders/{order.number}/callback", {"resolved": "yes", "satisfaction": "satisfied"})
    assert r.status_code == 422 and r.json()["field"] == "resolved"
    r = agent.post(f"/orders/{order.number}/callback", {"resolved": False, "satisfaction": "meh"})
    assert r.status_code == 422 and r.json()["field"] == "satisfaction"
    r = agent.post(f"/orders/{order.number}/reopen",
                   {"resolved": False, "satisfaction": "unsatisfied", "reason": "仍然停水"})
    assert r.status_code == 200 and r.json()["state"] == "handling"
    assert r.json()["reopen_count"] == 1


def test_merge_and_dispatch_with_explicit_units(city: City) -> None:
    agent = ApiClient(city.agent)
    target, dup = new_order(city), new_order(city, title="又停水")
    r = agent.post(f"/orders/{dup.number}/merge", {"into": target.number})
    assert r.status_code == 200 and r.json()["merged_into"] == target.number
    r = agent.post(f"/orders/{target.number}/dispatch",
                   {"unit": "env", "co_units": [], "urgency": "urgent"})
    assert r.status_code == 200
    assert r.json()["lead_unit"] == "env" and r.json()["urgency"] == "urgent"
    assert [a["unit"] for a in r.json()["assignments"]] == ["env"]


def test_list_filters_pagination_and_order(city: City) -> None:
    agent = ApiClient(city.agent)
    older = new_order(city, title="噪声扰民", category="100201", district="taijiang",
                      type="suggestion")
    Order.objects.filter(pk=older.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    a = dispatched_order(city, title="停水一")
    b = new_order(city, title="停水二", channel="web", urgency="urgent")
    Order.objects.filter(pk=a.pk).update(overdue_at=timezone.now())

    def numbers(query: str) -> list[str]:
        r = agent.get("/orders" + query)
        assert r.status_code == 200, r.content
        return [item["number"] for item in r.json()["items"]]

    assert numbers("") == [b.number, a.number, older.number]
    assert numbers("?state=dispatched") == [a.number]
    assert numbers("?state=dispatched&state=accepted") == [b.number, a.number, older.number]
    assert numbers("?type=suggestion") == [older.number]
    assert numbers("?channel=web") == [b.number]
    assert numbers("?district=taijiang") == [older.number]
    assert numbers("?category=10") == [b.number, a.number, older.number]
    assert numbers("?category=1001") == [b.number, a.number]
    assert numbers("?lead_unit=water") == [a.number]
    assert numbers("?urgency=urgent") == [b.number]
    assert numbers("?overdue=true") == [a.number]
    assert numbers("?overdue=false") == [b.number, older.number]
    today = timezone.localdate()
    assert numbers(f"?created_from={today}") == [b.number, a.number]
    assert numbers(f"?created_to={today - dt.timedelta(days=1)}") == [older.number]
    assert numbers("?q=停水二") == [b.number]
    assert numbers("?district=nowhere") == []

    page = agent.get("/orders?limit=2&offset=1").json()
    assert page["count"] == 3 and page["limit"] == 2 and page["offset"] == 1
    assert [i["number"] for i in page["items"]] == [a.number, older.number]
    assert agent.get("/orders?limit=201").status_code == 422
    assert agent.get("/orders?limit=0").status_code == 422
    assert agent.get("/orders?offset=-1").status_code == 422


def test_list_only_shows_visible_orders(city: City) -> None:
    water = dispatched_order(city)
    noise = dispatched_order(city, title="噪声", category="100201", district="taijiang")
    page = ApiClient(city.handler).get("/orders").json()
    assert page["count"] == 1 and page["items"][0]["number"] == water.number
    assert ApiClient(city.env_handler).get("/orders").json()["items"][0]["number"] == noise.number
    assert ApiClient(city.street_handler).get("/orders").json()["count"] == 0
    assert ApiClient(city.leader).get("/orders").json()["count"] == 2
