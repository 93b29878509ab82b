"""The big screen's websocket through the whole ASGI stack (origin check, session, roles) on
a real (transactional) database: figures on opening and again after a call joins the queue,
other roles refused, a foreign Origin refused."""

from __future__ import annotations

import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from hotline.asgi import application
from hotline.contactcentre import services
from hotline.desk.fanout import fanout

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_S = 30.0  # generous: CI shares two cores


def cookie_for(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def socket(cookie: bytes | None, origin: bytes = b"http://testserver") -> WebsocketCommunicator:
    headers = [(b"host", b"testserver"), (b"origin", origin)]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, "/ws/insight/screen/", headers=headers)


async def figures_where(comm: WebsocketCommunicator, test: Any) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while True:
        message = await comm.receive_json_from(timeout=max(0.01, deadline - time.monotonic()))
        if message["type"] == "figures" and test(message):
            return message


def test_the_screen_gets_figures_and_fresh_ones_when_a_call_arrives(desk: Any) -> None:
    cookie = cookie_for(desk.monitor)

    async def scenario() -> None:
        comm = socket(cookie)
        assert (await comm.connect())[0]
        first = await figures_where(comm, lambda m: True)
        assert (first["calls"]["offered"], first["calls"]["waiting"]) == (0, 0)
        assert first["agents"]["signed_in"] == 0
        await database_sync_to_async(services.do_sign_in)(desk.agent)
        await figures_where(comm, lambda m: m["agents"]["signed_in"] == 1)
        await database_sync_to_async(services.do_enqueue_call)(desk.general, call_ref="s1")
        fresh = await figures_where(comm, lambda m: m["calls"]["waiting"] == 1)
        assert fresh["calls"]["offered"] == 1
        await comm.disconnect()

    async_to_sync(scenario)()
    assert fanout._users == 0


def test_other_roles_and_foreign_origins_are_refused(desk: Any) -> None:
    refused = [cookie_for(u) for u in (desk.agent, desk.handler, desk.auditor)]
    leader = cookie_for(desk.leader)

    async def scenario() -> None:
        for cookie in refused:
            connected, code = await socket(cookie).connect()
            assert (connected, code) == (False, 4403)
        connected, _code = await socket(None).connect()
        assert not connected
        connected, _code = await socket(leader, origin=b"http://evil.example").connect()
        assert not connected
        ok = socket(leader)
        assert (await ok.connect())[0]
        await figures_where(ok, lambda m: True)
        await ok.disconnect()

    async_to_sync(scenario)()
