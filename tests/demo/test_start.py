"""The demo's entry point for the launcher: the directory at once, the orders in the background
(the worker's chunk task; the tests' task backend runs it at once), then say who logs in."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.demo import background, city, start
from hotline.demo.models import DemoLoad
from hotline.orders.models import Order
from hotline.orders.services import NewOrder, do_create_order

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db


def test_a_database_with_orders_gets_no_demo(city_fixture_order: Order,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "do_begin", lambda *a: pytest.fail("must not load"))
    said: list[str] = []
    assert start.load_if_empty(said.append) is False
    assert said == ["the database has orders: demo data not loaded"]
    assert not DemoLoad.objects.exists()


def test_an_empty_database_gets_the_whole_demo_through_the_background_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chunks: list[int] = []
    play = background.do_play_next_chunk

    def counted(size: int = 7) -> DemoLoad | None:
        load = play(size)
        if load is not None and not load.finished:
            chunks.append(load.orders_done)
        return load

    monkeypatch.setattr(background, "do_play_next_chunk", counted)
    said: list[str] = []
    welcome = start.start(said.append, orders=30)
    assert "the worker loads the demo's 30 work orders in the background (pages work meanwhile "\
        "and fill up as they come)" in said
    assert any(line.startswith("knowledge entries: ") for line in said)
    assert any(line.startswith("SIP extensions 8001") for line in said)
    assert any(line.startswith("quality inspection: 7") for line in said)
    # the worker played the orders in chunks of 7, then the loads that need them
    assert chunks == [7, 14, 21, 28, 30]
    load = DemoLoad.objects.get()
    assert load.finished and load.orders_done == 30
    assert Order.objects.filter(channel__in=("phone", "web", "voicemail", "sms", "email",
                                              "chat", "open311")).count() >= 30
    assert welcome.password == city.demo_password()
    assert ("agent1", "话务员", "示范市12345政务服务便民热线中心") in welcome.logins or any(
        row[0] == "agent1" for row in welcome.logins)
    assert {u for u, _key, _uri in welcome.second_factors} == {
        "auditadmin", "centreadmin", "secadmin"}
    # a second start finds the demo complete and does nothing
    again: list[str] = []
    assert start.load_if_empty(again.append) is False
    assert again == []


def test_the_worker_pauses_between_chunks_on_sqlite_so_pages_can_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.db import connection

    from hotline.demo import tasks

    pauses: list[float] = []
    monkeypatch.setattr(tasks.time, "sleep", pauses.append)
    start.start(lambda line: None, orders=90)  # three chunks of 40, then the last loads
    assert DemoLoad.objects.get().finished
    expected = [tasks.PAUSE_BETWEEN_CHUNKS_S] * 3 if connection.vendor == "sqlite" else []
    assert pauses == expected
    assert tasks.PAUSE_BETWEEN_CHUNKS_S > 0.1  # longer than one poll of SQLite's busy handler


@pytest.fixture
def city_fixture_order(city: City) -> Order:
    order, _created = do_create_order(city.agent, NewOrder(
        type="complaint", channel="phone", title="停水", text="小区停水",
        citizen_phone="13812341234", district="gulou", category="100101"))
    return order
