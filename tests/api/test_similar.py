"""Similar open orders over the API, and linking through the actions endpoint."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone

from hotline.orders.models import Order, OrderLink
from hotline.orders.services import do_action
from hotline.triage import similar
from hotline.triage.duplicates import DUPLICATE_THRESHOLD
from tests.api.conftest import ApiClient, new_order

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import City

WATER = "幸福小区3号楼从昨天晚上开始停水，到现在还没有来水，也没有任何通知，老人孩子生活很不方便"
WATER_AGAIN = "幸福小区3号楼昨晚开始停水了，一直没有来水，物业也没有通知，请尽快恢复供水"
NOISE = "解放路工地每天夜里施工到凌晨两点，噪音很大，附近居民无法休息"
OTHERS = ["社保卡丢失了想补办，请问需要带什么材料", "公司拖欠工资三个月，老板联系不上",
          "小区门口路灯坏了一个多月，晚上出行很不安全", "菜市场周边占道经营严重，早上交通拥堵"]


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    similar.cache.clear()
    yield
    similar.cache.clear()


def _orders(city: City) -> tuple[Order, Order]:
    water = new_order(city, title="小区停水", text=WATER, address="幸福小区3号楼",
                      citizen_phone="13800000001")
    noise = new_order(city, title="夜间施工噪音", text=NOISE, address="解放路88号",
                      citizen_phone="13800000002", category="100201")
    for i, text in enumerate(OTHERS):
        new_order(city, title=text[:6], text=text, citizen_phone=f"1380000010{i}")
    return water, noise


def test_agent_typing_a_request_sees_the_open_duplicate(city: City) -> None:
    water, noise = _orders(city)
    closed = new_order(city, title="小区停水", text=WATER, address="幸福小区3号楼",
                       citizen_phone="13800000003")
    do_action(city.agent, closed.number, "answer", {"reply": "已恢复供水"})
    old = new_order(city, title="小区停水", text=WATER, address="幸福小区3号楼",
                    citizen_phone="13800000004")
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    elsewhere = new_order(city, title="小区停水", text=WATER, address="幸福小区3号楼",
                          district="taijiang", citizen_phone="13800000005")

    r = ApiClient(city.agent).post("/orders/similar", {
        "title": "停水", "text": WATER_AGAIN, "address": "幸福小区3号楼", "district": "gulou",
        "phone": "13800000009"})
    assert r.status_code == 200, r.content
    items = r.json()["items"]
    numbers = [i["number"] for i in items]
    assert numbers[0] == water.number
    assert closed.number not in numbers and old.number not in numbers
    assert noise.number not in numbers
    best = items[0]
    assert best["kind"] == "duplicate" and DUPLICATE_THRESHOLD <= best["score"] <= 1
    assert {"same_address", "similar_text", "same_district"} <= set(best["reason_codes"])
    assert len(best["reasons"]) == len(best["reason_codes"]) and best["kind_label"]
    # Another district's order scores lower (if at all) than the same district's.
    scores = {i["number"]: i["score"] for i in items}
    assert scores.get(elsewhere.number, 0) < best["score"]

    # The sub-centre's agent sees only its district's orders.
    r = ApiClient(city.sub_agent).post("/orders/similar", {"text": WATER_AGAIN})
    assert r.status_code == 200
    assert elsewhere.number not in [i["number"] for i in r.json()["items"]]


def test_the_same_caller_is_a_reason(city: City) -> None:
    water, _noise = _orders(city)
    r = ApiClient(city.agent).post("/orders/similar", {"text": WATER_AGAIN,
                                                       "phone": "138-0000-0001"})
    hit = next(i for i in r.json()["items"] if i["number"] == water.number)
    assert "same_caller" in hit["reason_codes"]


@pytest.mark.parametrize(("body", "field"), [
    ({}, "text"),
    ({"text": "   "}, "text"),
    ({"text": "停水", "district": "atlantis"}, "district"),
    ({"text": "停水", "limit": 0}, "limit"),
    ({"text": "停水", "limit": 51}, "limit"),
    ({"text": "停水", "colour": "red"}, "colour"),
    ({"text": "x" * 20001}, "text"),
    ({"text": "停水\x00"}, "text"),
])
def test_bad_input_is_a_4xx_naming_the_field(city: City, body: dict[str, Any], field: str) -> None:
    r = ApiClient(city.agent).post("/orders/similar", body)
    assert r.status_code in (400, 422), r.content
    assert r.json()["field"] == field


def test_roles_that_do_not_merge_or_link_may_not_look(city: City) -> None:
    water, _noise = _orders(city)
    do_action(city.agent, water.number, "dispatch")  # so that the water department sees it
    for who in (city.handler, city.leader, city.auditor, city.system):
        client = ApiClient(who)
        assert client.post("/orders/similar", {"text": WATER}).status_code == 403
        assert client.get(f"/orders/{water.number}/similar").status_code == 403
    assert ApiClient().post("/orders/similar", {"text": WATER}).status_code == 401


def test_similar_to_an_order_then_link_and_unlink_through_the_actions(city: City) -> None:
    water, _noise = _orders(city)
    again = new_order(city, title="停水", text=WATER_AGAIN, address="幸福小区三号楼",
                      citizen_phone="13800000009")
    agent = ApiClient(city.agent)
    r = agent.get(f"/orders/{again.number}/similar")
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["number"] for i in items][:1] == [water.number]
    assert again.number not in [i["number"] for i in items]
    assert items[0]["linked"] == ""

    r = agent.post(f"/orders/{again.number}/link", {"other": water.number, "kind": "duplicate"})
    assert r.status_code == 200, r.content
    assert r.json()["events"][-1]["action"] == "link"
    assert r.json()["state"] == "accepted"
    assert OrderLink.objects.filter(kind="duplicate").count() == 1
    items = agent.get(f"/orders/{again.number}/similar").json()["items"]
    assert items[0]["linked"] == "duplicate"
    assert agent.post(f"/orders/{again.number}/link",
                      {"other": water.number}).status_code == 409
    assert agent.post(f"/orders/{again.number}/link",
                      {"other": water.number, "kind": "cousin"}).status_code == 422
    assert agent.post(f"/orders/{again.number}/link", {}).json()["field"] == "other"
    r = agent.post(f"/orders/{water.number}/unlink", {"other": again.number})
    assert r.status_code == 200 and not OrderLink.objects.exists()
    assert agent.get("/orders/12345678/similar").status_code == 404
    assert agent.get(f"/orders/{again.number}/similar?limit=0").status_code in (400, 422)
