"""The wallboard websocket with channels' test client on a real (transactional) database: a
fresh snapshot on opening and after desk events, at most two a second, one every few seconds
without events, command outcomes to the monitor who issued them, refusal of other roles, and
one shared rendering per process."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from hotline.contactcentre import services
from hotline.contactcentre.commands import do_finish_command, do_issue_command
from hotline.contactcentre.models import SipExtension
from hotline.desk import wallboard
from hotline.desk.wallboard import SnapshotHub, WallboardConsumer, socket_language

pytestmark = pytest.mark.django_db(transaction=True)


def communicator(user: Any, path: str = "/ws/desk/wallboard/?lang=en",
                 session: Any = None) -> WebsocketCommunicator:
    """A socket as the ASGI stack opens it: the user and their (logged-in) session."""
    comm = WebsocketCommunicator(WallboardConsumer.as_asgi(), path)
    comm.scope["user"] = user
    comm.scope["session"] = logged_in_session(user) if session is None else session
    return comm


def logged_in_session(user: Any) -> SessionStore:
    """A session past the whole login: with the second factor for administrators."""
    from hotline.directory.security import needs_second_factor

    session = SessionStore()
    if needs_second_factor(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or \
            TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    return session


async def next_snapshot(comm: WebsocketCommunicator, timeout: float = 3.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        message = await comm.receive_json_from(timeout=max(0.01, deadline - time.monotonic()))
        if message["type"] == "snapshot":
            return message


async def snapshot_with(comm: WebsocketCommunicator, text: str, timeout: float = 3.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        message = await next_snapshot(comm, max(0.01, deadline - time.monotonic()))
        if text in message["html"]:
            return str(message["html"])


def test_a_desk_event_produces_a_fresh_snapshot(desk: Any) -> None:
    row = f'data-testid="agent-row-{desk.agent.pk}"'

    async def scenario() -> None:
        comm = communicator(desk.monitor)
        connected, _ = await comm.connect()
        assert connected
        first = await next_snapshot(comm)
        assert 'class="wb-board"' in first["html"] and row not in first["html"]
        started = time.monotonic()
        await database_sync_to_async(services.do_sign_in)(desk.agent)
        html = await snapshot_with(comm, row)
        assert time.monotonic() - started < 2.0
        assert 'data-state="signed_in"' in html
        await database_sync_to_async(services.do_set_state)(desk.agent, "ready")
        await snapshot_with(comm, 'data-state="idle"')
        await database_sync_to_async(services.do_enqueue_call)(desk.general, call_ref="c1")
        html = await snapshot_with(comm, 'data-testid="queue-waiting-general">1<')
        await comm.disconnect()

    async_to_sync(scenario)()


def test_other_roles_are_refused_with_4403(desk: Any) -> None:
    admin_session = logged_in_session(desk.admin)

    async def scenario() -> None:
        for user in (desk.agent, desk.handler, desk.leader, desk.auditor):
            comm = communicator(user)
            connected, code = await comm.connect()
            assert (connected, code) == (False, 4403)
        admin = communicator(desk.admin, session=admin_session)
        assert (await admin.connect())[0]
        await next_snapshot(admin)
        await admin.disconnect()

    async_to_sync(scenario)()


def test_anonymous_sockets_are_refused(desk: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    async def scenario() -> None:
        connected, code = await communicator(AnonymousUser()).connect()
        assert (connected, code) == (False, 4403)

    async_to_sync(scenario)()


def test_a_burst_of_events_gives_at_most_two_refreshes_a_second(desk: Any) -> None:
    async def scenario() -> None:
        comm = communicator(desk.monitor)
        assert (await comm.connect())[0]
        await next_snapshot(comm)
        await database_sync_to_async(services.do_sign_in)(desk.agent)

        async def burst() -> None:
            # One change at a time on channels' database thread (SQLite's shared in-memory
            # test database refuses a write while another thread reads the same table).
            set_state = database_sync_to_async(services.do_set_state)
            for _ in range(20):  # 40 state changes in about 2 s
                await set_state(desk.agent, "ready")
                await set_state(desk.agent, "not_ready", reason="rest")
                await asyncio.sleep(0.1)
            await set_state(desk.agent, "ready")

        task = asyncio.ensure_future(burst())
        arrivals = []
        html = ""
        deadline = time.monotonic() + 6.0
        while time.monotonic() < deadline:
            message = await next_snapshot(comm, deadline - time.monotonic())
            arrivals.append(time.monotonic())
            html = message["html"]
            if task.done() and 'data-state="idle"' in html:
                break
        await task
        gaps = [b - a for a, b in itertools.pairwise(arrivals)]
        assert len(arrivals) >= 3, "the burst produced refreshes while it lasted"
        assert min(gaps) >= 0.45, gaps  # THROTTLE_S = 0.5, less a little scheduling slack
        assert 'data-state="idle"' in html  # the last refresh shows the final state
        await comm.disconnect()

    async_to_sync(scenario)()


def test_without_events_the_board_refreshes_on_a_timer(desk: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(WallboardConsumer, "IDLE_REFRESH_S", 0.6)
    monkeypatch.setattr(WallboardConsumer, "THROTTLE_S", 0.1)

    async def scenario() -> None:
        comm = communicator(desk.monitor)
        assert (await comm.connect())[0]
        first = await next_snapshot(comm)
        started = time.monotonic()
        second = await next_snapshot(comm, timeout=2.0)
        third = await next_snapshot(comm, timeout=2.0)
        elapsed = time.monotonic() - started
        assert 0.9 <= elapsed <= 2.5
        assert first["type"] == second["type"] == third["type"] == "snapshot"
        await comm.disconnect()

    async_to_sync(scenario)()


def test_command_outcomes_go_to_the_monitor_who_issued_them(desk: Any) -> None:
    SipExtension.objects.create(number="8009", agent=desk.monitor)
    services.do_sign_in(desk.agent)
    services.do_set_state(desk.agent, "ready")
    call = services.do_enqueue_call(desk.general, call_ref="c1", caller="13800000000",
                                    gateway="gw-1")
    assert services.do_offer_call(call, desk.agent.pk)
    services.do_call_answered(call.pk)
    command = do_issue_command(desk.monitor, call.pk, "whisper")
    admin_session = logged_in_session(desk.admin)

    async def scenario() -> None:
        mine, other = communicator(desk.monitor), communicator(desk.admin, session=admin_session)
        assert (await mine.connect())[0] and (await other.connect())[0]
        await next_snapshot(mine)
        await next_snapshot(other)
        await database_sync_to_async(do_finish_command)(command.pk, True, "joined")
        while True:
            message = await mine.receive_json_from(timeout=3)
            if message["type"] == "command_done":
                break
        assert (message["ok"], message["command"]) == (True, command.pk)
        assert "Whisper" in message["html"] and "joined" in message["html"]
        # The other monitor's board refreshes but gets no outcome line of someone else's.
        await asyncio.sleep(1.5)
        kinds = []
        # (receive_nothing, not a timeout: a timed-out receive cancels the application)
        while not await other.receive_nothing(timeout=0.05):
            kinds.append((await other.receive_json_from())["type"])
        assert "command_done" not in kinds and "snapshot" in kinds
        await mine.disconnect()
        await other.disconnect()

    async_to_sync(scenario)()


def test_the_page_language_reaches_the_socket(desk: Any) -> None:
    from tests.portal.conftest import ensure_compiled_messages

    ensure_compiled_messages()
    assert socket_language({"query_string": b"lang=en"}) == "en"
    assert socket_language({"query_string": b"lang=xx", "cookies": {"django_language": "en"}}) \
        == "en"
    assert socket_language({"query_string": b""}) == "zh-hans"

    async def scenario() -> None:
        comm = communicator(desk.monitor, "/ws/desk/wallboard/?lang=zh-hans")
        assert (await comm.connect())[0]
        assert "排队等待" in (await next_snapshot(comm))["html"]
        await comm.disconnect()

    async_to_sync(scenario)()


def test_the_hub_renders_once_for_concurrent_sockets(monkeypatch: Any) -> None:
    calls: list[str] = []

    def fake_render(language: str) -> str:
        calls.append(language)
        time.sleep(0.05)
        return f"<div>{language} {len(calls)}</div>"

    monkeypatch.setattr(wallboard, "render_live", fake_render)

    async def scenario() -> None:
        hub = SnapshotHub()
        loop = asyncio.get_running_loop()
        asked = loop.time()
        results = await asyncio.gather(*(hub.html("en", asked) for _ in range(5)))
        assert results == ["<div>en 1</div>"] * 5 and calls == ["en"]
        assert await hub.html("en", asked) == "<div>en 1</div>"  # still fresh enough
        assert await hub.html("zh-hans", asked) == "<div>zh-hans 2</div>"
        assert await hub.html("en", loop.time()) == "<div>en 3</div>"  # asked after: new one
        assert hub.computed == 3

    async_to_sync(scenario)()


def test_an_administrator_without_the_second_factor_opens_no_socket(desk: Any) -> None:
    """The page middleware keeps an administrator who typed only the password out of every
    page; the wallboard's websocket is no way around it."""
    admin = desk.admin

    async def opens(session: Any) -> bool:
        comm = communicator(admin, session=session)
        connected, _ = await comm.connect()
        await comm.disconnect()
        return bool(connected)

    device = TOTPDevice.objects.create(user=admin, name="authenticator", confirmed=True)
    verified = SessionStore()
    verified[DEVICE_ID_SESSION_KEY] = device.persistent_id
    assert not async_to_sync(opens)(SessionStore())
    assert async_to_sync(opens)(verified)


def test_an_idle_session_opens_no_socket(desk: Any) -> None:
    from django.utils import timezone

    from hotline.directory.security import LAST_ACTIVITY_KEY

    idle = SessionStore()
    idle[LAST_ACTIVITY_KEY] = timezone.now().timestamp() - 3 * 3600

    async def opens() -> bool:
        comm = communicator(desk.monitor, session=idle)
        connected, _ = await comm.connect()
        await comm.disconnect()
        return bool(connected)

    assert not async_to_sync(opens)()
