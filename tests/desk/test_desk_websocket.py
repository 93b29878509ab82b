"""The desk websocket (/ws/desk/) through the real ASGI application: the agent gets a snapshot
and then its own events, small and within a second; another agent gets none of them; a
department user and an anonymous visitor are refused."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from hotline.asgi import application
from hotline.contactcentre.commands import do_finish_command, do_issue_command, do_update_call
from hotline.contactcentre.services import do_call_answered, do_call_ended
from hotline.desk.fanout import fanout
from tests.desk import test_desk_views as views_fixtures
from tests.desk.test_desk_views import ring

phones = views_fixtures.phones  # the shared fixture

pytestmark = pytest.mark.django_db(transaction=True)


def cookie_for(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def socket(cookie: bytes | None) -> WebsocketCommunicator:
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver")]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, "/ws/desk/", headers=headers)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    async_to_sync(scenario)()
    assert fanout._users == 0  # every socket closed: the outbox tail stopped


async def until(comm: WebsocketCommunicator, kind: str, timeout: float = 3.0) -> dict[str, Any]:
    """Skip other events until one of ``kind`` arrives."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {kind} event"
        message = await comm.receive_json_from(timeout=left)
        if message["kind"] == kind:
            return message


def test_the_agent_gets_its_call_events_and_another_agent_none(phones: Any) -> None:
    c = phones
    alice, bob = cookie_for(c.agent), cookie_for(c.bob)

    async def scenario() -> None:
        mine, other = socket(alice), socket(bob)
        assert (await mine.connect())[0] and (await other.connect())[0]
        first = await mine.receive_json_from(timeout=3)
        assert (first["kind"], first["state"], first["call"]) == ("snapshot", "signed_out", None)
        assert (await other.receive_json_from(timeout=3))["kind"] == "snapshot"

        started = time.monotonic()
        call = await database_sync_to_async(ring)(c, c.agent, name="刘大爷")
        offered = await until(mine, "call_offered")
        assert time.monotonic() - started < 1.0
        assert (offered["agent"], offered["call"], offered["state"]) == (c.agent.pk, call.pk,
                                                                       "ringing")
        # The message stays small: the pop is fetched as a partial, no personal data here.
        text = json.dumps(offered, ensure_ascii=False)
        assert len(text) < 300 and "刘大爷" not in text and call.caller not in text

        await database_sync_to_async(do_call_answered)(call.pk)
        assert (await until(mine, "call_answered"))["call"] == call.pk
        issued = await database_sync_to_async(do_issue_command)(c.agent, call.pk, "hold")
        await database_sync_to_async(do_update_call)(call.pk, agent_id=c.agent.pk, on_hold=True)
        updated = await until(mine, "call_updated")
        assert updated["on_hold"] is True
        await database_sync_to_async(do_finish_command)(issued.pk, True, "held")
        done = await until(mine, "command_done")
        assert (done["command"], done["ok"], done["action"]) == (issued.pk, True, "hold")
        await database_sync_to_async(do_call_ended)(call.pk)
        state = await until(mine, "agent_state")
        while state["state"] != "wrap_up":
            state = await until(mine, "agent_state")
        assert state["wrap_up_until"] and state["call"] == call.pk
        assert (await until(mine, "call_ended"))["call"] == call.pk

        # Bob saw none of it.
        assert await other.receive_nothing(timeout=0.6)
        await mine.disconnect()
        await other.disconnect()

    run(scenario)


def test_a_reconnecting_desk_gets_the_live_call_in_its_snapshot(phones: Any) -> None:
    c = phones
    call = ring(c, c.agent)
    do_call_answered(call.pk)
    alice = cookie_for(c.agent)

    async def scenario() -> None:
        comm = socket(alice)
        assert (await comm.connect())[0]
        snap = await comm.receive_json_from(timeout=3)
        assert (snap["kind"], snap["state"], snap["call"], snap["call_outcome"]) == (
            "snapshot", "talking", call.pk, "talking")
        assert snap["answered_at"] and snap["extension"] == "8001"
        await comm.disconnect()

    run(scenario)


@pytest.mark.parametrize("who", ["handler", "admin", "leader", None])
def test_others_are_refused(phones: Any, who: str | None) -> None:
    cookie = cookie_for(getattr(phones, who)) if who else None

    async def scenario() -> None:
        connected, code = await socket(cookie).connect()
        assert not connected and code == 4403

    run(scenario)


def test_a_monitor_has_a_desk_socket_too(phones: Any) -> None:
    cookie = cookie_for(phones.monitor)

    async def scenario() -> None:
        comm = socket(cookie)
        assert (await comm.connect())[0]
        assert (await comm.receive_json_from(timeout=3))["kind"] == "snapshot"
        await comm.disconnect()

    run(scenario)
