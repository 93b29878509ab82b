"""The supervisor's wallboard websocket (``ws/desk/wallboard/``), for shift monitors and centre
administrators; everyone else is closed with 4403.

The socket receives every desk event (``hotline.desk.fanout``). It does not forward them: after
an event it sends the board's live part, freshly rendered on the server, as
``{"type": "snapshot", "html": ...}`` -- at most once per ``THROTTLE_S`` (a burst of events
gives one refresh), and every ``IDLE_REFRESH_S`` without events because wait times grow. The
outcome of this monitor's own listen / whisper / barge / hang-up commands comes at once as
``{"type": "command_done", "html": ..., "ok": ..., "command": ...}``.

All wallboards of one web process share the rendering (``SnapshotHub``): a snapshot started
after the newest event a socket has seen serves every socket of that language, so ten open
wallboards cost one set of queries per refresh, not ten.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings

from hotline.contactcentre.commands import MONITOR_ROLES
from hotline.contactcentre.models import DeskEvent
from hotline.desk.fanout import WALLBOARD_GROUP, EventConsumer
from hotline.desk.wallboard_views import render_command_done, render_live

logger = logging.getLogger(__name__)


def socket_language(scope: dict[str, Any]) -> str:
    """The page passes its language (``?lang=``); else the language cookie; else the default."""
    known = {code for code, _name in settings.LANGUAGES}
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    for candidate in (query.get("lang", [""])[0],
                      scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME, "")):
        if candidate in known:
            return str(candidate)
    return str(settings.LANGUAGE_CODE)


class SnapshotHub:
    """One event loop's rendered snapshots, one per language, with the loop time their
    computation started. Computing is single-flight: concurrent askers wait for one result."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._cache: dict[str, tuple[float, str]] = {}
        self.computed = 0

    async def html(self, language: str, fresher_than: float) -> str:
        """A snapshot whose computation started at or after ``fresher_than`` (loop time)."""
        cached = self._cache.get(language)
        if cached is not None and cached[0] >= fresher_than:
            return cached[1]
        async with self._lock:
            cached = self._cache.get(language)
            if cached is not None and cached[0] >= fresher_than:
                return cached[1]
            started = asyncio.get_running_loop().time()
            html = await database_sync_to_async(render_live)(language)
            self._cache[language] = (started, html)
            self.computed += 1
            return html


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SnapshotHub] = \
    weakref.WeakKeyDictionary()


def snapshot_hub() -> SnapshotHub:
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = SnapshotHub()
    return hub


class WallboardConsumer(EventConsumer):
    THROTTLE_S = 0.5  # at most two refreshes a second
    IDLE_REFRESH_S = 5.0  # and one every 5 s without events
    RETRY_S = 2.0  # after a failed snapshot (the database is away)

    async def allowed(self, user: Any) -> bool:
        return user.role in MONITOR_ROLES

    async def groups_for(self, user: Any) -> list[str]:
        return [WALLBOARD_GROUP]

    async def on_open(self, user: Any) -> None:
        self.user_id = user.pk
        self.language = socket_language(self.scope)
        self._dirty = asyncio.Event()
        self._last_event_at = 0.0
        loop = asyncio.get_running_loop()
        await self._send_snapshot(loop.time())
        self._refresher = loop.create_task(self._refresh_loop())

    async def on_event(self, event: dict[str, Any]) -> None:
        if event.get("kind") == DeskEvent.Kind.COMMAND_DONE and event.get("agent") == self.user_id:
            html = await database_sync_to_async(render_command_done)(event, self.language)
            await self.send_json({"type": "command_done", "html": html,
                                  "ok": bool(event.get("ok")), "command": event.get("command")})
        self._last_event_at = asyncio.get_running_loop().time()
        self._dirty.set()

    async def disconnect(self, code: int) -> None:
        task = getattr(self, "_refresher", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await super().disconnect(code)

    async def _send_snapshot(self, fresher_than: float) -> None:
        html = await snapshot_hub().html(self.language, fresher_than)
        await self.send_json({"type": "snapshot", "html": html})

    async def _refresh_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.THROTTLE_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), self.IDLE_REFRESH_S - self.THROTTLE_S)
            if self._dirty.is_set():
                # Covers every event seen so far: the snapshot must start after the last one.
                fresher_than = self._last_event_at
                self._dirty.clear()
            else:
                fresher_than = loop.time() - self.THROTTLE_S
            try:
                await self._send_snapshot(fresher_than)
            except Exception:
                logger.exception("wallboard snapshot failed; retrying")
                self._dirty.set()
                await asyncio.sleep(self.RETRY_S)
