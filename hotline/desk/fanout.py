"""Desk events to websockets: one tail of the outbox per web process, fanned out to groups.

While at least one desk or wallboard socket is open in this process, a single task reads new
``DeskEvent`` rows every ``POLL_SECONDS`` (one indexed query, however many agents are connected)
and sends each to the channel-layer groups that want it: the agent's own group and the
wallboard's. Each web process tails the table itself, so an in-memory channel layer is enough
even with several web processes; nothing else has to be shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer

from hotline.contactcentre.events import EventTail
from hotline.directory.security import session_login_complete

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.2
WALLBOARD_GROUP = "desk.wallboard"


def agent_group(agent_id: int) -> str:
    return f"desk.agent.{agent_id}"


def chat_group(chat_id: int) -> str:
    """The citizen's side of one web chat (``chat_consumers``)."""
    return f"desk.chat.{chat_id}"


class Fanout:
    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._users = 0
        self.delivered = 0

    def acquire(self) -> None:
        self._users += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def release(self) -> None:
        self._users = max(0, self._users - 1)
        if self._users == 0 and self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        layer = get_channel_layer()
        assert layer is not None, "CHANNEL_LAYERS is not configured"
        tail = await database_sync_to_async(EventTail)()
        while True:
            try:
                events = await database_sync_to_async(tail.read)()
            except Exception:
                logger.exception("reading desk events failed; retrying")
                await asyncio.sleep(1.0)
                continue
            for event in events:
                message = {"type": "desk.event", "event": event.message()}
                if event.agent_id is not None:
                    await layer.group_send(agent_group(event.agent_id), message)
                chat = event.payload.get("chat")
                if isinstance(chat, int):
                    await layer.group_send(chat_group(chat), message)
                await layer.group_send(WALLBOARD_GROUP, message)
                self.delivered += 1
            await asyncio.sleep(POLL_SECONDS)


fanout = Fanout()


class QueueFanout(Fanout):
    """The same pattern for the centre's work queues: one tail of the order history's queue
    events (``orders.queue_feed``) per web process while a work-queue page is open."""

    async def _run(self) -> None:
        from hotline.orders.queue_feed import QueueTail

        layer = get_channel_layer()
        assert layer is not None, "CHANNEL_LAYERS is not configured"
        tail = await database_sync_to_async(QueueTail)()
        while True:
            try:
                events = await database_sync_to_async(tail.read)()
            except Exception:
                logger.exception("reading work-queue events failed; retrying")
                await asyncio.sleep(1.0)
                continue
            for event in events:
                await layer.group_send(QUEUES_GROUP, {
                    "type": "desk.event", "event": event.message(), "order": event.order_id})
                self.delivered += 1
            await asyncio.sleep(POLL_SECONDS)


QUEUES_GROUP = "orders.queues"
queue_fanout = QueueFanout()


class EventConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """A websocket that receives desk events of its groups. Subclasses say who may connect
    (``allowed``), which groups they join (``groups_for``) and what to send (``on_event``)."""

    joined: list[str]
    feed: Fanout = fanout  # the tail that feeds this socket's groups

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not await self.allowed(user):
            await self.close(code=4403)
            return
        # No page middleware runs for a websocket: an administrator who typed only the
        # password, an expired password or an idle session opens no socket either.
        if not await database_sync_to_async(session_login_complete)(user, self.scope.get("session")):
            await self.close(code=4401)
            return
        self.joined = await self.groups_for(user)
        layer = self.channel_layer
        for group in self.joined:
            await layer.group_add(group, self.channel_name)
        self.feed.acquire()
        self._acquired = True
        await self.accept()
        await self.on_open(user)

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = []
        if getattr(self, "_acquired", False):
            self._acquired = False
            await self.feed.release()

    async def desk_event(self, message: dict[str, Any]) -> None:
        if await self.wants(message):
            await self.on_event(message["event"])

    # --- for subclasses -------------------------------------------------------------------

    async def allowed(self, user: Any) -> bool:
        raise NotImplementedError

    async def groups_for(self, user: Any) -> list[str]:
        raise NotImplementedError

    async def wants(self, message: dict[str, Any]) -> bool:
        """Whether this socket's user may receive the message (every one, by default)."""
        return True

    async def on_open(self, user: Any) -> None:
        """Send the current state when the socket opens (nothing by default)."""

    async def on_event(self, event: dict[str, Any]) -> None:
        await self.send_json(event)
