"""The demo's entry point for the launcher: load everything once, then say who logs in."""

from __future__ import annotations

import pytest

from hotline.demo import city, desk, knowledge, start
from hotline.orders.services import NewOrder, do_create_order

pytestmark = pytest.mark.django_db


def test_a_database_with_orders_gets_no_demo(city_fixture_order, monkeypatch):
    monkeypatch.setattr(city, "load_demo", lambda **kw: pytest.fail("must not load"))
    said: list[str] = []
    assert start.load_if_empty(said.append) is False
    assert said == ["the database has orders: demo data not loaded"]


def test_an_empty_database_gets_the_city_its_knowledge_and_its_call_centre(monkeypatch):
    loaded: list[str] = []
    monkeypatch.setattr(city, "load_demo", lambda progress: loaded.append("city") or
                        city.DemoResult(True, "demo city loaded"))
    monkeypatch.setattr(knowledge, "load_demo_knowledge", lambda: loaded.append("knowledge")
                        or {"created": 3, "skipped": 0})
    monkeypatch.setattr(desk, "load_demo_desk", lambda: loaded.append("desk")
                        or [("8001", "agent1")])
    said: list[str] = []
    welcome = start.start(said.append)
    assert loaded == ["city", "knowledge", "desk"]
    assert "demo city loaded" in said
    assert "knowledge entries: 3 created, 0 already there" in said
    assert any("8001" in line for line in said)
    assert welcome == start.Welcome(password=city.demo_password(), logins=[], second_factors=[])


@pytest.fixture
def city_fixture_order(city):
    order, _created = do_create_order(city.agent, NewOrder(
        type="complaint", channel="phone", title="停水", text="小区停水",
        citizen_phone="13812341234", district="gulou", category="100101"))
    return order
