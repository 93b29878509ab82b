"""The demo's entry point for the launcher: load everything once, then say who logs in."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.demo import assessment, city, desk, knowledge, mailbox, start
from hotline.orders.services import NewOrder, do_create_order

if TYPE_CHECKING:
    from collections.abc import Callable

    from hotline.orders.models import Order
    from tests.conftest import City

pytestmark = pytest.mark.django_db


def test_a_database_with_orders_gets_no_demo(city_fixture_order: Order,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(city, "load_demo", lambda **kw: pytest.fail("must not load"))
    said: list[str] = []
    assert start.load_if_empty(said.append) is False
    assert said == ["the database has orders: demo data not loaded"]


def test_an_empty_database_gets_the_city_its_knowledge_and_its_call_centre(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loaded: list[str] = []

    def load_demo(progress: Callable[[str], None] | None) -> city.DemoResult:
        loaded.append("city")
        return city.DemoResult(True, "demo city loaded")

    def load_demo_knowledge() -> dict[str, int]:
        loaded.append("knowledge")
        return {"created": 3, "skipped": 0}

    def load_demo_desk() -> list[tuple[str, str]]:
        loaded.append("desk")
        return [("8001", "agent1")]

    monkeypatch.setattr(city, "load_demo", load_demo)
    monkeypatch.setattr(knowledge, "load_demo_knowledge", load_demo_knowledge)
    def load_letters() -> mailbox.LoadResult:
        loaded.append("letters")
        return mailbox.LoadResult(created=4)

    def score_demo_months() -> str:
        loaded.append("assessment")
        return "assessment scored"

    monkeypatch.setattr(desk, "load_demo_desk", load_demo_desk)
    monkeypatch.setattr(mailbox, "load_letters", load_letters)
    monkeypatch.setattr(assessment, "score_demo_months", score_demo_months)
    said: list[str] = []
    welcome = start.start(said.append)
    assert loaded == ["city", "assessment", "knowledge", "desk", "letters"]
    assert "assessment scored" in said
    assert "mailbox letters: 4 published, 0 already there" in said
    assert "demo city loaded" in said
    assert "knowledge entries: 3 created, 0 already there" in said
    assert any("8001" in line for line in said)
    assert welcome == start.Welcome(password=city.demo_password(), logins=[], second_factors=[])


@pytest.fixture
def city_fixture_order(city: City) -> Order:
    order, _created = do_create_order(city.agent, NewOrder(
        type="complaint", channel="phone", title="停水", text="小区停水",
        citizen_phone="13812341234", district="gulou", category="100101"))
    return order
