"""The work-queue websocket (/ws/queues/) through the real ASGI application, and the order
history's queue feed behind it: a return reaches the centre's socket, a sub-centre's socket
only when the order is in its district; departments and visitors are refused."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from hotline.asgi import application
from hotline.desk.fanout import queue_fanout
from hotline.orders.queue_feed import QueueTail
from hotline.orders.services import do_action
from tests.orders.helpers import new_order

pytestmark = pytest.mark.django_db(transaction=True)
WAIT = 20.0  # generous: CI shares two cores


def cookie_for(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def socket(cookie: bytes | None) -> WebsocketCommunicator:
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver")]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, "/ws/queues/", headers=headers)


def _dispatched(city: Any, district: str) -> str:
    order = new_order(city.agent, district=district, title=f"停水 {district}")
    do_action(city.agent, order.number, "dispatch")
    return order.number


def test_the_feed_reads_queue_events_once(city: Any) -> None:
    tail = QueueTail()
    number = _dispatched(city, "gulou")
    assert tail.read() == []  # create and dispatch put nothing in a centre queue
    do_action(city.handler, number, "return", {"reason": "不归我们"})
    events = tail.read()
    assert [(e.number, e.action, e.queue) for e in events] == [(number, "return", "returns")]
    assert tail.read() == []
    do_action(city.monitor, number, "deny_return", {"reason": "归你们"})
    (left,) = tail.read()
    assert left.message() == {"kind": "queue", "id": left.id, "number": number,
                              "action": "deny_return", "queue": "", "landed": False}


def test_centre_and_subcentre_sockets_get_what_they_may_see(city: Any) -> None:
    ours, theirs = _dispatched(city, "gulou"), _dispatched(city, "taijiang")
    centre, sub = cookie_for(city.monitor), cookie_for(city.sub_agent)

    async def scenario() -> None:
        mon, sam = socket(centre), socket(sub)
        assert (await mon.connect())[0] and (await sam.connect())[0]
        await database_sync_to_async(do_action)(city.handler, theirs, "return",
                                                {"reason": "不归我们"})
        got = await mon.receive_json_from(timeout=WAIT)
        assert (got["number"], got["queue"], got["landed"]) == (theirs, "returns", True)
        await database_sync_to_async(do_action)(city.handler, ours, "return",
                                                {"reason": "不归我们"})
        assert (await mon.receive_json_from(timeout=WAIT))["number"] == ours
        # The sub-centre's first message is its own district's order: taijiang's never came.
        assert (await sam.receive_json_from(timeout=WAIT))["number"] == ours
        await mon.disconnect()
        await sam.disconnect()

    async_to_sync(scenario)()
    assert queue_fanout._users == 0  # every socket closed: the tail stopped


@pytest.mark.parametrize("who", ["handler", "leader", None])
def test_others_are_refused(city: Any, who: str | None) -> None:
    cookie = cookie_for(getattr(city, who)) if who else None

    async def scenario() -> None:
        comm = socket(cookie)
        connected, code = await comm.connect()
        assert (connected, code) == (False, 4403)
        await comm.disconnect()

    async_to_sync(scenario)()
