"""The big screen's websocket (``ws/insight/screen/``), for centre administrators, shift
monitors and leaders; everyone else is closed with 4403, a session without its second factor
with 4401 (``fanout.EventConsumer`` checks both, and channels' AllowedHostsOriginValidator in
``hotline.asgi`` the Origin).

It listens to every desk event (the wallboard's group) and answers each burst with fresh
figures, ``{"type": "figures", ...}`` (``insight.screen.ScreenFigures.as_message``), at most
once per ``THROTTLE_S``, and every ``IDLE_REFRESH_S`` without events (orders arrive without
desk events, waits grow). All screens of one web process share one computation
(``FiguresHub``); the hot issues, a snapshot the worker keeps fresh, are read once a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any

from channels.db import database_sync_to_async

from hotline.desk.fanout import WALLBOARD_GROUP, EventConsumer
from hotline.insight.screen import SCREEN_ROLES, screen_figures

logger = logging.getLogger(__name__)

HOT_ISSUES_EVERY_S = 60.0


def _compute(with_hot_issues: bool) -> dict[str, Any]:
    return screen_figures(with_hot_issues=with_hot_issues).as_message()


class FiguresHub:
    """One event loop's latest figures with the loop time their computation started;
    single-flight, so ten open screens cost one set of queries per refresh."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._figures: tuple[float, dict[str, Any]] | None = None
        self._hot: tuple[float, list[Any]] | None = None
        self.computed = 0

    async def figures(self, fresher_than: float) -> dict[str, Any]:
        if self._figures is not None and self._figures[0] >= fresher_than:
            return self._figures[1]
        async with self._lock:
            if self._figures is not None and self._figures[0] >= fresher_than:
                return self._figures[1]
            started = asyncio.get_running_loop().time()
            hot_due = self._hot is None or started - self._hot[0] >= HOT_ISSUES_EVERY_S
            message = await database_sync_to_async(_compute)(hot_due)
            if hot_due:
                self._hot = (started, message["hot_issues"])
            else:
                assert self._hot is not None
                message["hot_issues"] = self._hot[1]
            self._figures = (started, message)
            self.computed += 1
            return message


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, FiguresHub] = \
    weakref.WeakKeyDictionary()


def figures_hub() -> FiguresHub:
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = FiguresHub()
    return hub


class BigScreenConsumer(EventConsumer):
    THROTTLE_S = 1.0
    IDLE_REFRESH_S = 10.0
    RETRY_S = 3.0

    async def allowed(self, user: Any) -> bool:
        return bool(user.is_superuser or user.role in SCREEN_ROLES)

    async def groups_for(self, user: Any) -> list[str]:
        return [WALLBOARD_GROUP]

    async def on_open(self, user: Any) -> None:
        self._dirty = asyncio.Event()
        self._last_event_at = 0.0
        loop = asyncio.get_running_loop()
        await self.send_json(await figures_hub().figures(loop.time()))
        self._refresher = loop.create_task(self._refresh_loop())

    async def on_event(self, event: dict[str, Any]) -> None:
        self._last_event_at = asyncio.get_running_loop().time()
        self._dirty.set()

    async def disconnect(self, code: int) -> None:
        task = getattr(self, "_refresher", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await super().disconnect(code)

    async def _refresh_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.THROTTLE_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), self.IDLE_REFRESH_S - self.THROTTLE_S)
            if self._dirty.is_set():
                fresher_than = self._last_event_at  # covers every event seen so far
                self._dirty.clear()
            else:
                fresher_than = loop.time() - self.THROTTLE_S
            try:
                await self.send_json(await figures_hub().figures(fresher_than))
            except Exception:
                logger.exception("big screen figures failed; retrying")
                self._dirty.set()
                await asyncio.sleep(self.RETRY_S)
